package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.net.Macs;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
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
}
