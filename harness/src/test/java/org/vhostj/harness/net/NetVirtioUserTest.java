package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.net.Macs;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.testing.HostPackages;

/**
 * A real third-party front-end: DPDK testpmd's virtio_user port (DPDK's own virtio-net driver) connects to
 * our daemon, and frames are counted on both sides.
 */
@Timeout(60)
class NetVirtioUserTest {
    static final int RING = 256;
    @TempDir Path tmp;

    @BeforeEach
    void slow() { HostPackages.assumeSlowTestsEnabled(); }

    private Daemon daemon(NetDevice device) {
        Daemon d = new Daemon(device, DaemonOptions.forSocket(tmp.resolve("net.sock")));
        d.start();
        return d;
    }

    /**
     * testpmd io forwarding with --tx-first against our reflect backend: one burst starts a loop of frames
     * that testpmd receives from us and sends back, as fast as both go. Whatever testpmd counted sent we
     * counted received, and the reverse, up to the frames still in a ring when testpmd stopped.
     */
    @Test
    void framesLoopBetweenTestpmdAndTheReflectBackendCountedOnBothSides() throws Exception {
        NetDevice dev = NetDaemon.createDevice("reflect", null, 1, 1500);
        VirtioUserTestpmd.Totals t;
        try (Daemon d = daemon(dev); VirtioUserTestpmd pmd = VirtioUserTestpmd.start(tmp.resolve("net.sock"), "io", tmp.resolve("testpmd.log"), "--tx-first")) {
            pmd.awaitForwarding(30_000);
            Thread.sleep(2000);
            t = pmd.stopAndCount();
            System.out.printf("testpmd virtio_user <-> reflect: testpmd rx=%d tx=%d tx_dropped=%d; daemon %s%n", t.rxPackets(), t.txPackets(), t.txDropped(), dev.counters());
        }
        long ourTx = dev.counters().get(TX_FRAMES), ourRx = dev.counters().get(RX_FRAMES), dropped = dev.counters().get(TX_DROP_BACKEND);
        assertTrue(t.rxPackets() > 10_000, "frames flowed: " + t);
        assertTrue(ourTx + dropped <= t.txPackets() && ourTx + dropped >= t.txPackets() - RING, "frames testpmd sent (" + t.txPackets() + ") = frames we took (" + (ourTx + dropped) + ") up to one ring");
        assertTrue(t.rxPackets() <= ourRx && t.rxPackets() >= ourRx - RING, "frames we delivered (" + ourRx + ") = frames testpmd received (" + t.rxPackets() + ") up to one ring");
        assertEquals(0, dev.counters().get(TX_DROP_BAD_HEADER) + dev.counters().get(TX_DROP_SHORT) + dev.counters().get(TX_DROP_OVERSIZE), "DPDK's frames are well-formed");
    }

    /**
     * Over a tap: testpmd io forwarding with --tx-first sends one burst of 32 frames, which appear on the tap;
     * frames written to the tap on the host reach testpmd, which forwards them back out through us.
     */
    @Test
    void testpmdFramesAppearOnTheTapAndTapFramesReachTestpmd() throws Exception {
        String tap = "vhjv" + Long.toString(System.nanoTime() % 1_000_000, 36);
        NetDevice dev = NetDaemon.createDevice("tap:" + tap, null, 1, 1500);
        long host = 0x0200_0000_0888L;
        int burst = 32, injected = 50;
        VirtioUserTestpmd.Totals t;
        int seenFromTestpmd = 0, seenEchoed = 0;
        try (Daemon d = daemon(dev)) {
            Sh.run("sysctl", "-q", "-w", "net.ipv6.conf." + tap + ".disable_ipv6=1");
            Sh.run("ip", "link", "set", "dev", tap, "up");
            try (PacketSocket hostSide = new PacketSocket(tap);
                 VirtioUserTestpmd pmd = VirtioUserTestpmd.start(tmp.resolve("net.sock"), "io", tmp.resolve("testpmd.log"), "--tx-first")) {
                pmd.awaitForwarding(30_000);
                while (hostSide.receive(1000, f -> NetDriver.src(f) != host) != null) seenFromTestpmd++;
                for (int i = 0; i < injected; i++) {
                    byte[] f0 = NetDriver.frame(Macs.BROADCAST, host, 128, i);
                    hostSide.send(f0);
                    // io forwarding sends it straight back out: it shows up on the tap a second time
                    if (hostSide.receive(2000, f -> java.util.Arrays.equals(f, f0)) != null) seenEchoed++;
                }
                Thread.sleep(300);
                t = pmd.stopAndCount();
            }
        }
        System.out.printf("testpmd virtio_user <-> tap: testpmd rx=%d tx=%d; host saw %d testpmd frames, %d echoed; daemon %s%n",
                t.rxPackets(), t.txPackets(), seenFromTestpmd, seenEchoed, dev.counters());
        assertEquals(burst, seenFromTestpmd, "testpmd's first burst appeared on the tap");
        assertEquals(injected, t.rxPackets(), "every frame written to the tap reached testpmd");
        assertEquals(burst + injected, t.txPackets());
        assertEquals(injected, seenEchoed);
        assertEquals(burst + injected, dev.counters().get(TX_FRAMES));
    }
}
