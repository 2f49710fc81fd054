package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.net.NetCounters.Counter.*;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.harness.guest.GuestCase;
import org.vhostj.harness.guest.GuestImage;
import org.vhostj.harness.guest.GuestResult;
import org.vhostj.harness.guest.HostProgram;
import org.vhostj.harness.guest.QemuGuest;
import org.vhostj.net.NetDaemon;
import org.vhostj.net.NetDevice;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.testing.HostPackages;

/**
 * A real Linux 6.1 guest (QEMU 7.2, -netdev vhost-user, TCG) pings the host through our daemon's tap backend:
 * the tap is moved into a network namespace of its own with the peer address, so the namespace's kernel
 * answers and nothing touches the host's own network. QemuGuest gives the device vectors=0 under TCG (QEMU
 * 7.2 segfaults with MSI-X there: NET-TCG-MSIX.md).
 */
@Timeout(120)
class NetGuestTest {
    private static final Path LOGS = Path.of("target", "guest-logs").toAbsolutePath();
    private static GuestImage image;
    @TempDir Path tmp;

    @BeforeAll
    static void buildImage() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        for (HostProgram p : GuestImage.hostPrograms(false)) HostPackages.require(p.program(), p.debianPackage());
        image = GuestImage.shared(false);
    }

    @Test
    void guestPingsTheHostThroughTheTapBackend() throws Exception {
        String suffix = Long.toString(System.nanoTime() % 1_000_000, 36);
        String tap = "vhjg" + suffix, ns = "vhostj-net-" + suffix;
        Path sock = tmp.resolve("net.sock");
        NetDevice dev = NetDaemon.createDevice("tap:" + tap, "52:54:00:12:34:50", 1, 1500);
        GuestResult r;
        try (Daemon daemon = new Daemon(dev, DaemonOptions.forSocket(sock))) {
            daemon.start();
            Sh.run("ip", "netns", "add", ns);
            try {
                Sh.run("ip", "link", "set", "dev", tap, "netns", ns);
                Sh.run("ip", "-n", ns, "link", "set", "dev", tap, "address", "02:00:00:00:00:01");
                Sh.run("ip", "-n", ns, "addr", "add", "169.254.77.1/24", "dev", tap);
                Sh.run("ip", "-n", ns, "link", "set", "dev", tap, "up");
                r = QemuGuest.of(image).net(sock).run(GuestCase.NET_PING).env("PING_COUNT", 10)
                        .consoleLog(LOGS.resolve("guestPingsTheHostThroughTheTapBackend-console.log")).run();
            } finally {
                Sh.run("ip", "netns", "del", ns);
            }
        }
        System.out.printf("guest ping through tap: %s/%s replies; daemon %s%n", r.value("net_ping", "received"), r.value("net_ping", "sent"), dev.counters());
        assertTrue(r.passed(), r.summary());
        assertTrue(Integer.parseInt(r.value("net_ping", "received")) >= 9, r.summary());
        assertTrue(dev.counters().get(TX_FRAMES) >= 10 && dev.counters().get(RX_FRAMES) >= 10, dev.counters().toString());
        assertTrue(String.join(" ", r.commandLine()).contains(",vectors=0"), "INTx workaround applied under TCG");
    }
}
