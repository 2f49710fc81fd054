package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.load.NetRun;
import org.vhostj.harness.load.RunReport;
import org.vhostj.net.Macs;
import org.vhostj.net.NetCounters;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
import org.vhostj.net.VirtioNet;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;

/**
 * The device against the harness front-end with the {@code reflect} backend (every frame comes back with its
 * MACs swapped): the header the driver sees, the control queue, and one test per malformed TX frame, each
 * asserting the counted drop and that the same daemon still forwards a good frame afterwards.
 */
@Timeout(60)
class NetReflectTest {
    static final long MAC = 0x5254_0012_3456L, PEER = 0x0200_0000_0009L;
    static final long BASIC = 1L << VirtioNet.F_MAC | 1L << VirtioNet.F_STATUS | 1L << VirtioNet.F_MTU;

    @TempDir Path tmp;
    Daemon daemon;
    NetDevice device;
    Path sock;

    @BeforeEach
    void start() {
        sock = tmp.resolve("net.sock");
        device = NetDaemon.createDevice("reflect", Macs.format(MAC), 1, 1500);
        daemon = new Daemon(device, DaemonOptions.forSocket(sock));
        daemon.start();
    }

    @AfterEach
    void stop() { daemon.close(); }

    NetCounters counters() { return device.counters(); }

    private static void assertReflected(byte[] sent, byte[] got) {
        assertNotNull(got, "no frame came back");
        assertEquals(sent.length, got.length);
        assertEquals(NetDriver.src(sent), NetDriver.dst(got), "MACs swapped");
        assertEquals(NetDriver.dst(sent), NetDriver.src(got));
        assertArrayEquals(java.util.Arrays.copyOfRange(sent, 12, sent.length), java.util.Arrays.copyOfRange(got, 12, got.length));
    }

    /** A good frame still goes through (the daemon survived whatever came before). */
    private void assertStillForwards(NetDriver d) {
        byte[] f = NetDriver.frame(MAC, PEER, 60, 99);
        d.send(f);
        assertReflected(f, d.receive(5000));
    }

    @Test
    void inOrderBuffersAreUsedInPostingOrderAndAStaleHeaderIsRewritten() {
        long features = BASIC | 1L << VirtioNet.F_MRG_RXBUF | 1L << org.vhostj.vhost.protocol.VirtioFeature.IN_ORDER;
        try (NetDriver d = new NetDriver(sock, features, false, 2048)) {
            assertTrue((d.features() & 1L << org.vhostj.vhost.protocol.VirtioFeature.IN_ORDER) != 0, "IN_ORDER negotiated");
            d.scribbleRxBuffers((byte) 0x5a, 12);   // the header a previous frame left: the device must not keep any of it
            for (int i = 0; i < 40; i++) {
                byte[] f = NetDriver.frame(MAC, PEER, 60 + i, i);
                d.send(f);
                assertReflected(f, d.receive(5000));
                assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, d.lastHeader, "frame " + i + ": header without offloads, num_buffers 1");
            }
            assertEquals(d.rxPostedIds.subList(0, d.rxUsedIds.size()), d.rxUsedIds, "RX buffers used in the order they were made available");
        }
    }

    @Test
    void configSpaceHoldsMacLinkUpPairsAndMtu() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            byte[] c = d.config();
            assertEquals(MAC, NetDriver.mac(c, 0));
            assertEquals(VirtioNet.S_LINK_UP, c[6] & 0xff);
            assertEquals(1, c[8] & 0xff);
            assertEquals(1500, (c[10] & 0xff) | (c[11] & 0xff) << 8);
            long offered = d.session.offeredFeatures();
            for (int f : new int[] {VirtioNet.F_MAC, VirtioNet.F_MTU, VirtioNet.F_STATUS, VirtioNet.F_MRG_RXBUF, VirtioNet.F_CTRL_VQ, VirtioNet.F_MQ}) {
                assertTrue((offered & 1L << f) != 0, "feature " + f + " offered");
            }
            assertEquals(0, offered & (1L << VirtioNet.F_CSUM | 1L << VirtioNet.F_HOST_TSO4), "reflect cannot carry offloads");
        }
    }

    @Test
    void framesComeBackWithMacsSwappedAndNumBuffersOne() {
        try (NetDriver d = new NetDriver(sock, BASIC | 1L << VirtioNet.F_MRG_RXBUF, false, 2048)) {
            for (int len : new int[] {60, 64, 1000, 1514}) {
                byte[] f = NetDriver.frame(MAC, PEER, len, len);
                d.send(f);
                assertReflected(f, d.receive(5000));
                assertEquals(1, d.lastNumBuffers);
                assertEquals(0, d.lastHeader[0], "flags");
                assertEquals(0, d.lastHeader[1], "gso_type NONE");
            }
            assertEquals(4, counters().get(TX_FRAMES));
            assertEquals(4, counters().get(RX_FRAMES));
        }
    }

    @Test
    void mergeableBuffersCarryAFrameLargerThanOneBuffer() {
        daemon.close();
        device = NetDaemon.createDevice("reflect", Macs.format(MAC), 1, 9000);
        daemon = new Daemon(device, DaemonOptions.forSocket(sock));
        daemon.start();
        try (NetDriver d = new NetDriver(sock, BASIC | 1L << VirtioNet.F_MRG_RXBUF, false, 1536)) {
            byte[] f = NetDriver.frame(MAC, PEER, 9000, 5);
            d.send(f);
            byte[] got = d.receive(5000);
            assertReflected(f, got);
            assertEquals(6, d.lastNumBuffers, "12 + 9000 bytes in 1536-byte buffers");
        }
    }

    @Test
    void frameLargerThanTheBuffersWithoutMrgRxbufIsDroppedAndCounted() {
        daemon.close();
        device = NetDaemon.createDevice("reflect", Macs.format(MAC), 1, 9000);
        daemon = new Daemon(device, DaemonOptions.forSocket(sock));
        daemon.start();
        try (NetDriver d = new NetDriver(sock, BASIC, false, 1536)) {
            d.send(NetDriver.frame(MAC, PEER, 4000, 5));
            assertNull(d.receive(300));
            assertEquals(1, counters().get(RX_DROP_OVERSIZE));
            assertStillForwards(d);
        }
    }

    @Test
    void busyPollingPicksUpRxBuffersPostedWithoutAKickThenRearmsTheKick() throws InterruptedException {
        daemon.close();
        device = NetDaemon.createDevice("reflect", Macs.format(MAC), 1, 1500);
        daemon = new Daemon(device, DaemonOptions.forSocket(sock).withPollMicros(300_000));
        daemon.start();
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            d.kickRx = false;
            // 64 RX buffers posted: 160 frames run the ring dry with 96 waiting in the reflect FIFO
            byte[][] sent = new byte[160][];
            for (int i = 0; i < sent.length; i++) {
                sent[i] = NetDriver.frame(MAC, PEER, 60 + i, i);
                d.send(sent[i]);
            }
            d.awaitSent(5000);
            // reposted buffers are not kicked: the frames come only because the worker polls the dry ring
            for (byte[] f : sent) assertReflected(f, d.receive(5000));
            assertNull(d.receive(100), "no frame duplicated");
            assertEquals(160, counters().get(RX_FRAMES));
            assertEquals(0, counters().get(TX_DROP_BACKEND), "the reflect FIFO held every frame");
            Thread.sleep(600);   // the poll window ends: the kick is re-armed and the backend unwatched
            d.kickRx = true;
            assertStillForwards(d);
            assertEquals(161, counters().get(RX_FRAMES));
        }
    }

    // ---- malformed TX frames: one test per attack --------------------------------------------------

    @Test
    void txChainShorterThanTheHeaderIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            d.send(new byte[5], new byte[0]);
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_SHORT));
            assertStillForwards(d);
        }
    }

    @Test
    void txFrameShorterThanAnEthernetHeaderIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            d.send(new byte[d.hdrLen], new byte[13]);
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_SHORT));
            assertStillForwards(d);
        }
    }

    @Test
    void txFrameLargerThanTheMtuIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            d.send(NetDriver.frame(MAC, PEER, 1500 + 18 + 1, 1));
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_OVERSIZE));
            assertEquals(0, counters().get(TX_FRAMES));
            assertStillForwards(d);
        }
    }

    @Test
    void txGsoTypeNotNegotiatedIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            byte[] h = new byte[d.hdrLen];
            h[0] = VirtioNet.HDR_F_NEEDS_CSUM;
            h[1] = VirtioNet.GSO_TCPV4;
            h[4] = (byte) 200;                 // gso_size
            h[6] = 34; h[8] = 16;              // csum_start, csum_offset
            d.send(h, NetDriver.frame(MAC, PEER, 600, 1));
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_BAD_HEADER));
            assertStillForwards(d);
        }
    }

    @Test
    void txUnknownGsoTypeIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            byte[] h = new byte[d.hdrLen];
            h[1] = 0x42;
            d.send(h, NetDriver.frame(MAC, PEER, 100, 1));
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_BAD_HEADER));
            assertStillForwards(d);
        }
    }

    @Test
    void txNeedsCsumWithoutCsumFeatureIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            byte[] h = new byte[d.hdrLen];
            h[0] = VirtioNet.HDR_F_NEEDS_CSUM;
            h[6] = 34; h[8] = 6;
            d.send(h, NetDriver.frame(MAC, PEER, 100, 1));
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_BAD_HEADER));
            assertStillForwards(d);
        }
    }

    @Test
    void txUnknownHeaderFlagIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            byte[] h = new byte[d.hdrLen];
            h[0] = (byte) 0x80;
            d.send(h, NetDriver.frame(MAC, PEER, 100, 1));
            d.awaitSent(5000);
            assertEquals(1, counters().get(TX_DROP_BAD_HEADER));
            assertStillForwards(d);
        }
    }

    @Test
    void txChainWithDeviceWritableBufferIsDroppedAndCounted() {
        try (NetDriver d = new NetDriver(sock, BASIC, false, 2048)) {
            var ram = d.session.ram();
            var a = ram.allocate(4096, 64);
            byte[] f = NetDriver.frame(MAC, PEER, 100, 1);
            java.lang.foreign.MemorySegment.copy(f, 0, a.memory(), java.lang.foreign.ValueLayout.JAVA_BYTE, d.hdrLen, f.length);
            var bl = new org.vhostj.vhost.driver.BufferList(2).readable(a.gpa(), d.hdrLen + f.length).writable(a.gpa() + 2048, 64);
            assertEquals(0, d.tx.roundTrip(bl, false, 5000), "TX chain completed with used length 0");
            assertEquals(1, counters().get(TX_DROP_BAD_HEADER));
            assertStillForwards(d);
        }
    }

    // ---- control queue -------------------------------------------------------------------------------

    @Test
    void promiscuousOffFiltersFramesForOtherMacs() {
        long ctrl = BASIC | 1L << VirtioNet.F_CTRL_VQ | 1L << VirtioNet.F_CTRL_RX;
        try (NetDriver d = new NetDriver(sock, ctrl, true, 2048)) {
            // reflect swaps MACs: what comes back is addressed to the sender address of what we send
            byte[] toOther = NetDriver.frame(MAC, PEER, 80, 1);          // comes back to PEER: not ours
            d.send(toOther);
            assertReflected(toOther, d.receive(5000));                    // promiscuous after reset
            assertEquals(0, d.control(VirtioNet.CTRL_RX, VirtioNet.CTRL_RX_PROMISC, new byte[] {0}));
            d.send(toOther);
            assertNull(d.receive(300), "frame for another MAC filtered");
            assertEquals(1, counters().get(RX_DROP_FILTERED));
            byte[] toUs = NetDriver.frame(PEER, MAC, 80, 2);              // comes back to MAC
            d.send(toUs);
            assertReflected(toUs, d.receive(5000));
            byte[] bcast = NetDriver.frame(PEER, Macs.BROADCAST, 80, 3);   // comes back to broadcast
            d.send(bcast);
            assertReflected(bcast, d.receive(5000));
            // MAC table: PEER as a secondary unicast address
            byte[] table = new byte[4 + 6 + 4];
            table[0] = 1;
            for (int i = 0; i < 6; i++) table[4 + i] = (byte) (PEER >>> (8 * (5 - i)));
            assertEquals(0, d.control(VirtioNet.CTRL_MAC, VirtioNet.CTRL_MAC_TABLE_SET, table));
            d.send(toOther);
            assertReflected(toOther, d.receive(5000));
        }
    }

    @Test
    void malformedControlCommandsAreRefusedAndTheQueueKeepsServing() {
        long ctrl = BASIC | 1L << VirtioNet.F_CTRL_VQ | 1L << VirtioNet.F_CTRL_RX | 1L << VirtioNet.F_MQ;
        try (NetDriver d = new NetDriver(sock, ctrl, true, 2048)) {
            assertEquals(1, d.control(VirtioNet.CTRL_RX, VirtioNet.CTRL_RX_PROMISC, new byte[] {2}), "value not 0/1");
            assertEquals(1, d.control(VirtioNet.CTRL_RX, VirtioNet.CTRL_RX_PROMISC, new byte[] {0, 0}), "too long");
            assertEquals(1, d.control(VirtioNet.CTRL_MAC, VirtioNet.CTRL_MAC_TABLE_SET, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 0, 0, 0, 0}), "entry count past the data");
            assertEquals(1, d.control(VirtioNet.CTRL_MQ, VirtioNet.CTRL_MQ_VQ_PAIRS_SET, new byte[] {2, 0}), "more pairs than the device has");
            assertEquals(1, d.control(VirtioNet.CTRL_MQ, VirtioNet.CTRL_MQ_VQ_PAIRS_SET, new byte[] {0, 0}), "zero pairs");
            assertEquals(1, d.control(77, 0, new byte[0]), "unknown class");
            assertEquals(1, d.control(VirtioNet.CTRL_MAC, VirtioNet.CTRL_MAC_ADDR_SET, new byte[6]), "CTRL_MAC_ADDR not negotiated");
            assertEquals(7, counters().get(CTRL_ERRORS));
            assertEquals(0, d.control(VirtioNet.CTRL_MQ, VirtioNet.CTRL_MQ_VQ_PAIRS_SET, new byte[] {1, 0}));
            assertStillForwards(d);
        }
    }

    /** The harness's own net workload (numbered, checked frames) through the reflect backend. */
    @Test
    void harnessNetWorkloadGetsEveryFrameBackMacSwapped() throws Exception {
        var o = new VhostSession.Options(sock, 5000, 0, new RingConfig(256, false, 0), VhostSession.Toggle.AUTO,
                1, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        RunReport r = NetRun.run(new NetRun.Settings(o, 1, 64, 500, true, false, 5000, 0, null), null);
        assertTrue(r.passed(), r::table);
        assertEquals(0, r.mismatches(), r::table);
        assertTrue(r.ops(1) > 1000, r::table);
        assertEquals(r.ops(1), r.extra("macs_swapped"), r::table);
        assertEquals(r.ops(0), counters().get(TX_FRAMES) + counters().get(TX_DROP_BACKEND));
        assertEquals(r.ops(1), counters().get(RX_FRAMES));
    }

    /** Two queue pairs: each pair's frames come back on the same pair (a worker per pair). */
    @Test
    void twoQueuePairsEachReflectTheirOwnFrames() throws Exception {
        daemon.close();
        device = NetDaemon.createDevice("reflect", Macs.format(MAC), 2, 1500);
        daemon = new Daemon(device, DaemonOptions.forSocket(sock));
        daemon.start();
        var o = new VhostSession.Options(sock, 5000, 1L << VirtioNet.F_MQ, new RingConfig(256, false, 0), VhostSession.Toggle.AUTO,
                1, 32 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        RunReport r = NetRun.run(new NetRun.Settings(o, 2, 128, 500, true, false, 5000, 0, null), null);
        assertTrue(r.passed(), r::table);
        assertEquals(0L, r.extra("misrouted"), r::table);
        assertTrue(device.counters().get(0, RX_FRAMES) > 0 && device.counters().get(1, RX_FRAMES) > 0, device.counters()::toString);
    }

    /**
     * Both ring layouts, with and without EVENT_IDX. (Packed + EVENT_IDX used to miss an interrupt here, on the
     * TX ring with the sink backend too; fixed in the core by "PackedRing: signal when the used index moved a
     * whole lap or more since the last flush".)
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "packed={0} size={1} event_idx={2}")
    @org.junit.jupiter.params.provider.CsvSource({"true,64,ON", "true,1500,ON", "true,64,OFF", "false,1500,ON", "false,64,OFF"})
    void harnessWorkloadOverEitherRingLayout(boolean packed, int size, VhostSession.Toggle eventIdx) throws Exception {
        var o = new VhostSession.Options(sock, 5000, 0, new RingConfig(256, packed, 0), eventIdx,
                1, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        RunReport r = NetRun.run(new NetRun.Settings(o, 1, size, 300, true, false, 5000, 0, null), null);
        assertTrue(r.passed(), r::table);
        assertEquals(0, r.mismatches(), r::table);
        assertTrue(r.ops(1) > 100, r::table);
    }
}
