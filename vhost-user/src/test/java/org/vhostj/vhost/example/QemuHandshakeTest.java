package org.vhostj.vhost.example;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.testing.HostPackages;

/**
 * QEMU 7.2 as a real front-end: it connects to the rng daemon's socket and completes the vhost-user
 * initialisation handshake when it realizes {@code vhost-user-rng-pci} (the ring start needs a guest driver;
 * the harness's real-guest tests cover that). QEMU exits with an error if the back-end answers wrongly.
 */
class QemuHandshakeTest {
    @TempDir Path dir;

    @Test
    void qemuCompletesTheHandshakeWithTheRngDaemon() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        Path qemu = HostPackages.require("qemu-system-x86_64", "qemu-system-x86");
        Path sock = dir.resolve("rng.sock");
        try (Daemon daemon = new Daemon(new RngDevice(), DaemonOptions.forSocket(sock))) {
            daemon.start();
            Path log = dir.resolve("qemu.log");
            Process p = new ProcessBuilder(qemu.toString(), "-machine", "q35", "-accel", "tcg", "-m", "128",
                    "-object", "memory-backend-memfd,id=mem,size=128M,share=on", "-numa", "node,memdev=mem",
                    "-nodefaults", "-nographic", "-S", "-monitor", "none", "-serial", "none",
                    "-chardev", "socket,id=c0,path=" + sock, "-device", "vhost-user-rng-pci,chardev=c0")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                long end = System.currentTimeMillis() + 20_000;
                while (!daemon.connected() && p.isAlive() && System.currentTimeMillis() < end) Thread.sleep(20);
                Thread.sleep(1000);   // QEMU finishes device realization, then idles paused (-S)
                assertTrue(p.isAlive(), "QEMU rejected the back-end: " + Files.readString(log));
                assertTrue(daemon.connected(), "QEMU connected to the daemon");
                assertEquals(1, daemon.connectionsAccepted());
            } finally {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            }
            long end = System.currentTimeMillis() + 5000;
            while (daemon.connected() && System.currentTimeMillis() < end) Thread.sleep(10);
            assertFalse(daemon.connected(), "the daemon noticed QEMU leaving");
            assertTrue(daemon.listening(), "and keeps listening");
        }
    }
}
