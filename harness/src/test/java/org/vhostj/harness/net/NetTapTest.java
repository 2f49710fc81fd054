package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.net.Macs;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
import org.vhostj.net.VirtioNet;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;

/**
 * The {@code tap:NAME} backend: the daemon creates the tap, a frame the harness sends appears on the tap
 * (read on the host with an AF_PACKET socket), and a frame written to the tap reaches the harness.
 */
@Timeout(60)
class NetTapTest {
    static final long GUEST = 0x5254_0012_3401L, HOST = 0x0200_0000_0777L;
    @TempDir Path tmp;
    String tap;
    NetDevice device;
    Daemon daemon;

    @BeforeEach
    void start() throws Exception {
        tap = "vhj" + Long.toString(ProcessHandle.current().pid() % 100000, 36) + Long.toString(System.nanoTime() % 10000, 36);
        device = NetDaemon.createDevice("tap:" + tap, Macs.format(GUEST), 1, 1500);
        daemon = new Daemon(device, DaemonOptions.forSocket(tmp.resolve("net.sock")));
        daemon.start();
        // no IPv6 autoconfiguration chatter on the test interface, then up
        Sh.run("sysctl", "-q", "-w", "net.ipv6.conf." + tap + ".disable_ipv6=1");
        Sh.run("ip", "link", "set", "dev", tap, "up");
    }

    @AfterEach
    void stop() { daemon.close(); }   // closes the queue fds: the (non-persistent) tap goes away

    private static boolean ours(byte[] f, long src) { return f.length >= 14 && NetDriver.src(f) == src && (f[12] & 0xff) == 0x88 && (f[13] & 0xff) == 0xb5; }

    @Test
    void framesCrossTheTapBothWays() throws Exception {
        long features = NetReflectTest.BASIC | 1L << VirtioNet.F_MRG_RXBUF | 1L << VirtioNet.F_CSUM | 1L << VirtioNet.F_GUEST_CSUM;
        try (NetDriver d = new NetDriver(tmp.resolve("net.sock"), features, false, 2048); PacketSocket host = new PacketSocket(tap)) {
            for (int i = 0; i < 10; i++) {
                byte[] out = NetDriver.frame(HOST, GUEST, 60 + 100 * i, i);
                d.send(out);
                assertArrayEquals(out, host.receive(5000, f -> ours(f, GUEST)), "guest -> tap, frame " + i);
            }
            for (int i = 0; i < 10; i++) {
                byte[] in = NetDriver.frame(GUEST, HOST, 60 + 100 * i, 50 + i);
                host.send(in);
                byte[] got;
                do { got = d.receive(5000); } while (got != null && !ours(got, HOST));
                assertArrayEquals(in, got, "tap -> guest, frame " + i);
                assertEquals(1, d.lastNumBuffers);
                assertEquals(VirtioNet.GSO_NONE, d.lastHeader[1]);
            }
            assertEquals(10, device.counters().get(TX_FRAMES));
            assertTrue(device.counters().get(RX_FRAMES) >= 10);
            assertEquals(0, device.counters().get(TX_DROP_BACKEND));
        }
    }

    @Test
    void tapOffersOffloadsAndTheHeaderPassesThrough() throws Exception {
        long features = NetReflectTest.BASIC | 1L << VirtioNet.F_CSUM | 1L << VirtioNet.F_HOST_TSO4;
        try (NetDriver d = new NetDriver(tmp.resolve("net.sock"), features, false, 2048); PacketSocket host = new PacketSocket(tap)) {
            assertTrue((d.features() & 1L << VirtioNet.F_HOST_TSO4) != 0, "HOST_TSO4 negotiated over a tap");
            // a UDP/IPv4 datagram with a partial checksum: NEEDS_CSUM, csum_start at the UDP header, offset 6
            byte[] f = udpFrame(HOST, GUEST, 100);
            byte[] h = new byte[d.hdrLen];
            h[0] = VirtioNet.HDR_F_NEEDS_CSUM;
            h[6] = 34; h[8] = 6;
            d.send(h, f);
            byte[] got = host.receive(5000, x -> x.length == f.length && NetDriver.src(x) == GUEST);
            assertNotNull(got, "the checksum-offloaded frame reached the tap");
            assertEquals(1, device.counters().get(TX_FRAMES));
            assertEquals(0, device.counters().get(TX_DROP_BAD_HEADER) + device.counters().get(TX_DROP_BACKEND));
        }
    }

    /** Ethernet + IPv4 (20) + UDP (8) + payload, IP checksum filled, UDP checksum left to the offload. */
    static byte[] udpFrame(long dst, long src, int payload) {
        byte[] f = NetDriver.frame(dst, src, 14 + 20 + 8 + payload, 1);
        f[12] = 0x08; f[13] = 0x00;
        int ipLen = 20 + 8 + payload;
        byte[] ip = {0x45, 0, (byte) (ipLen >> 8), (byte) ipLen, 0, 1, 0x40, 0, 64, 17, 0, 0, (byte) 169, (byte) 254, 77, 2, (byte) 169, (byte) 254, 77, 1};
        int sum = 0;
        for (int i = 0; i < 20; i += 2) sum += (ip[i] & 0xff) << 8 | (ip[i + 1] & 0xff);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        sum = ~sum & 0xffff;
        ip[10] = (byte) (sum >> 8); ip[11] = (byte) sum;
        System.arraycopy(ip, 0, f, 14, 20);
        int udpLen = 8 + payload;
        byte[] udp = {0x30, 0x39, 0x30, 0x3a, (byte) (udpLen >> 8), (byte) udpLen, 0, 0};
        System.arraycopy(udp, 0, f, 34, 8);
        return f;
    }

    /**
     * A two-queue tap whose driver only runs pair 0: queue 1 stays detached, so every frame from the host
     * reaches pair 0 whatever flow hash the kernel computes for it.
     */
    @Test
    void multiqueueTapSteersNothingToAPairThatDoesNotRun() throws Exception {
        daemon.close();
        device = NetDaemon.createDevice("tap:" + tap, Macs.format(GUEST), 2, 1500);
        daemon = new Daemon(device, DaemonOptions.forSocket(tmp.resolve("net.sock")));
        daemon.start();
        Sh.run("sysctl", "-q", "-w", "net.ipv6.conf." + tap + ".disable_ipv6=1");
        Sh.run("ip", "link", "set", "dev", tap, "up");
        try (NetDriver d = new NetDriver(tmp.resolve("net.sock"), NetReflectTest.BASIC, false, 2048); PacketSocket host = new PacketSocket(tap)) {
            for (int i = 0; i < 32; i++) {
                byte[] in = udpFrame(GUEST, HOST, 60 + i);   // a UDP flow of its own each: different hashes
                in[34] = (byte) (i >> 8); in[35] = (byte) i;
                host.send(in);
                byte[] got;
                do { got = d.receive(5000); } while (got != null && !java.util.Arrays.equals(got, in));
                assertArrayEquals(in, got, "frame " + i + " reached pair 0");
            }
            assertEquals(0, device.counters().get(1, RX_FRAMES));
        }
    }
}
