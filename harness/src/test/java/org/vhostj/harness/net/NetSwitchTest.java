package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.net.Macs;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
import org.vhostj.net.backend.SwitchBackend;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;

/**
 * The {@code switch:NAME} backend: devices attached to one switch name (in this JVM, and a daemon in another
 * process) exchange frames, floods reach everyone else once, learned unicast reaches only its owner.
 */
@Timeout(60)
class NetSwitchTest {
    static final long A = 0x0200_0000_00a1L, B = 0x0200_0000_00b2L, C = 0x0200_0000_00c3L;

    @TempDir Path tmp;
    final List<AutoCloseable> open = new ArrayList<>();
    final String name = "t" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 1_000_000;

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private NetDevice device(String sockName, long mac) {
        NetDevice dev = NetDaemon.createDevice("switch:" + name, Macs.format(mac), 1, 1500);
        Daemon d = new Daemon(dev, DaemonOptions.forSocket(tmp.resolve(sockName)));
        d.start();
        open.add(d);
        return dev;
    }

    private NetDriver driver(String sockName) {
        NetDriver d = new NetDriver(tmp.resolve(sockName), NetReflectTest.BASIC, false, 2048);
        open.add(d);
        return d;
    }

    private static void awaitPeers(NetDevice dev, int n) throws InterruptedException {
        SwitchBackend sw = (SwitchBackend) dev.backendForTests();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (sw.peerCount() < n) {
            assertTrue(System.nanoTime() < deadline, "switch directory never showed " + n + " peers (has " + sw.peerCount() + ")");
            Thread.sleep(20);
        }
    }

    @Test
    void broadcastFloodsToEveryOtherDeviceAndLearnedUnicastGoesOnlyToItsOwner() throws Exception {
        NetDevice da = device("a.sock", A), db = device("b.sock", B), dc = device("c.sock", C);
        awaitPeers(da, 2); awaitPeers(db, 2); awaitPeers(dc, 2);
        NetDriver a = driver("a.sock"), b = driver("b.sock"), c = driver("c.sock");

        byte[] hello = NetDriver.frame(Macs.BROADCAST, A, 60, 1);
        a.send(hello);
        assertArrayEquals(hello, b.receive(5000), "B got A's broadcast");
        assertArrayEquals(hello, c.receive(5000), "C got A's broadcast");
        assertNull(a.receive(200), "no echo to the sender");

        byte[] reply = NetDriver.frame(A, B, 200, 2);        // B learned A from the broadcast: unicast
        b.send(reply);
        assertArrayEquals(reply, a.receive(5000));
        byte[] back = NetDriver.frame(B, A, 1514, 3);        // A learned B from the reply
        a.send(back);
        assertArrayEquals(back, b.receive(5000));
        assertNull(c.receive(300), "C sees neither learned unicast frame");
        assertEquals(1, da.counters().get(RX_FRAMES), "A got the reply");
        assertEquals(1, dc.counters().get(RX_FRAMES), "C got the broadcast only");
        assertEquals(2, db.counters().get(RX_FRAMES));
    }

    @Test
    void unknownUnicastIsFloodedLikeABroadcast() throws Exception {
        NetDevice da = device("a.sock", A), db = device("b.sock", B);
        awaitPeers(da, 1); awaitPeers(db, 1);
        NetDriver a = driver("a.sock"), b = driver("b.sock");
        for (int i = 0; i < 20; i++) {
            byte[] f = NetDriver.frame(B, A, 64 + i, i);
            a.send(f);
            assertArrayEquals(f, b.receive(5000), "frame " + i);
        }
        assertEquals(20, da.counters().get(TX_FRAMES));
        assertEquals(20, db.counters().get(RX_FRAMES));
    }

    @Test
    void aDaemonInAnotherProcessOnTheSameSwitchExchangesFrames() throws Exception {
        Path other = tmp.resolve("other.sock");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.vhostj.net.NetDaemon", "--socket", other.toString(), "--backend", "switch:" + name, "--mac", Macs.format(B))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("other.log").toFile()).start();
        open.add(() -> { p.destroy(); if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly(); });
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(other)) {
            assertTrue(p.isAlive(), () -> "daemon exited: " + log());
            assertTrue(System.nanoTime() < deadline, "daemon never created its socket");
            Thread.sleep(50);
        }
        NetDevice da = device("a.sock", A);
        awaitPeers(da, 1);
        NetDriver a = driver("a.sock");
        NetDriver b = new NetDriver(other, NetReflectTest.BASIC, false, 2048);
        open.add(b);
        Thread.sleep(2 * 100);   // the other process's directory thread rescans every 100 ms
        byte[] f1 = NetDriver.frame(Macs.BROADCAST, A, 100, 1);
        a.send(f1);
        assertArrayEquals(f1, b.receive(5000), "this process -> other process");
        byte[] f2 = NetDriver.frame(A, B, 1514, 2);
        b.send(f2);
        assertArrayEquals(f2, a.receive(5000), "other process -> this process");
        assertEquals(1, da.counters().get(RX_FRAMES));
        assertEquals(1, da.counters().get(TX_FRAMES));
    }

    private String log() {
        try { return Files.readString(tmp.resolve("other.log")); } catch (java.io.IOException e) { return e.toString(); }
    }
}
