package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.net.FrameBuffers;
import org.vhostj.net.Macs;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
import org.vhostj.net.backend.NetPort;
import org.vhostj.net.backend.UdpBackend;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;

/**
 * The {@code udp:} backend: two daemons tunnel their guests' frames to each other over 127.0.0.1, so the two
 * guests share one L2 segment; datagrams from anyone else are dropped and counted.
 */
@Timeout(60)
class NetUdpTest {
    static final long A = 0x0200_0000_00aaL, B = 0x0200_0000_00bbL;
    @TempDir Path tmp;

    private static int freePort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) { return s.getLocalPort(); }
    }

    @Test
    void twoDaemonsShareOneSegmentOverUdp() throws Exception {
        int pa = freePort(), pb = freePort();
        NetDevice da = NetDaemon.createDevice("udp:127.0.0.1:" + pa + ",127.0.0.1:" + pb, Macs.format(A), 1, 1500);
        NetDevice db = NetDaemon.createDevice("udp:127.0.0.1:" + pb + ",127.0.0.1:" + pa, Macs.format(B), 1, 1500);
        try (Daemon a = new Daemon(da, DaemonOptions.forSocket(tmp.resolve("a.sock")));
             Daemon b = new Daemon(db, DaemonOptions.forSocket(tmp.resolve("b.sock")))) {
            a.start();
            b.start();
            try (NetDriver ga = new NetDriver(tmp.resolve("a.sock"), NetReflectTest.BASIC, false, 2048);
                 NetDriver gb = new NetDriver(tmp.resolve("b.sock"), NetReflectTest.BASIC, false, 2048)) {
                for (int i = 0; i < 30; i++) {
                    byte[] f = NetDriver.frame(i % 2 == 0 ? B : Macs.BROADCAST, A, 60 + 50 * i, i);
                    ga.send(f);
                    assertArrayEquals(f, gb.receive(5000), "A -> B frame " + i);
                    byte[] r = NetDriver.frame(A, B, 1514 - 40 * i, 100 + i);
                    gb.send(r);
                    assertArrayEquals(r, ga.receive(5000), "B -> A frame " + i);
                }
                // a datagram from a stranger is dropped before it reaches the guest
                try (DatagramSocket stranger = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    byte[] f = NetDriver.frame(B, A, 100, 7);
                    stranger.send(new DatagramPacket(f, f.length, InetAddress.getLoopbackAddress(), pb));
                }
                assertNull(gb.receive(300), "a datagram from a stranger is not a frame");
                UdpBackend ub = (UdpBackend) db.backendForTests();
                assertEquals(1, ub.receiveDrops());
                assertEquals(30, da.counters().get(TX_FRAMES));
                assertEquals(30, db.counters().get(RX_FRAMES));
                assertEquals(30, da.counters().get(RX_FRAMES));
            }
        }
    }

    /** An IPv4/UDP frame of flow {@code flow} (its source port) carrying {@code seq}. */
    private static byte[] udpFrame(int flow, int seq) {
        ByteBuffer f = ByteBuffer.allocate(64);
        f.put(new byte[] {2, 0, 0, 0, 0, (byte) 0xbb, 2, 0, 0, 0, 0, (byte) 0xaa}).putShort((short) 0x0800);
        f.put((byte) 0x45).put((byte) 0).putShort((short) 50).putInt(0).put((byte) 64).put((byte) 17).putShort((short) 0);
        f.putInt(0x0a00_0001).putInt(0x0a00_0002);                       // 10.0.0.1 -> 10.0.0.2
        f.putShort((short) (10_000 + flow)).putShort((short) 4789).putShort((short) 30).putShort((short) 0);
        f.putInt(flow).putInt(seq);                                      // at 42 and 46
        return f.array();
    }

    /**
     * Several queue pairs: datagrams are spread over the pairs whose receive queues run, by flow, so a flow's
     * frames come in order on one pair; a pair that stops receiving gets no more.
     */
    @Test
    void flowsSpreadOverTheReceivingPairsAndEachStaysOnOne() throws Exception {
        int pa = freePort(), pb = freePort();
        NetDevice d = NetDaemon.createDevice("udp:127.0.0.1:" + pb + ",127.0.0.1:" + pa, Macs.format(B), 2, 1500);
        UdpBackend udp = (UdpBackend) d.backendForTests();
        ValueLayout.OfInt beInt = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
        try (DatagramSocket peer = new DatagramSocket(pa, InetAddress.getLoopbackAddress());
             Arena arena = Arena.ofConfined();
             FrameBuffers into = new FrameBuffers(4)) {
            MemorySegment buf = arena.allocate(2048);
            List<NetPort> ports = List.of(udp.port(0), udp.port(1));
            ports.forEach(NetPort::rxStarted);
            int flows = 16, each = 5;
            Map<Integer, Integer> pairOf = new HashMap<>(), nextSeq = new HashMap<>();
            for (int round = 0; round < 2; round++) {
                for (int s = 0; s < each; s++) {
                    for (int f = 0; f < flows; f++) {
                        byte[] fr = udpFrame(f, round * each + s);
                        peer.send(new DatagramPacket(fr, fr.length, InetAddress.getLoopbackAddress(), pb));
                    }
                }
                int got = 0;
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (got < flows * each && System.nanoTime() < deadline) {
                    for (int p = 0; p < ports.size(); p++) {
                        into.clear().add(buf, 0, buf.byteSize());
                        if (ports.get(p).receive(into) < 0) continue;
                        got++;
                        int flow = buf.get(beInt, 42), seq = buf.get(beInt, 46);
                        if (round == 0) {
                            Integer first = pairOf.putIfAbsent(flow, p);
                            assertEquals(first == null ? p : first, p, "flow " + flow + " changed pairs");
                        } else {
                            assertEquals(0, p, "pair 1 stopped receiving, yet flow " + flow + " came on it");
                        }
                        assertEquals(nextSeq.getOrDefault(flow, 0), seq, "flow " + flow + " out of order");
                        nextSeq.put(flow, seq + 1);
                    }
                    Thread.onSpinWait();
                }
                assertEquals(flows * each, got, "every datagram delivered");
                if (round == 0) {
                    assertEquals(flows, pairOf.size());
                    assertTrue(pairOf.containsValue(0) && pairOf.containsValue(1), "flows on both pairs: " + pairOf);
                    udp.port(1).rxStopped();
                }
            }
            assertEquals(0, udp.receiveDrops());
        } finally {
            udp.close();
        }
    }
}
