package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.example.RngDevice;

/** The project's own vhost-user daemon (the core's example virtio-rng device, in this JVM) serving a real guest. */
class OwnDaemonGuestTest {
    private static final Path LOGS = Path.of("target", "guest-logs").toAbsolutePath();
    private static GuestImage image;

    @TempDir Path tmp;

    @BeforeAll
    static void buildImage() throws Exception {
        image = TestGuests.image(false);
    }

    @Test
    void rngDeviceFeedsTheGuestsHwrng() throws Exception {
        Path sock = tmp.resolve("rng.sock");
        GuestResult r;
        long servedBytes;
        long errors;
        try (Daemon daemon = new Daemon(new RngDevice(), DaemonOptions.forSocket(sock))) {
            daemon.start();
            r = QemuGuest.of(image).device(new QemuGuest.Custom(sock, "vhost-user-rng-pci", ""))
                    .script("""
                            cur=$(cat /sys/class/misc/hw_random/rng_current)
                            sum=$(dd if=/dev/hwrng bs=4096 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
                            n=$(dd if=/dev/hwrng bs=4096 count=16 2>/dev/null | wc -c)
                            echo "RESULT rng current=$cur bytes=$n md5=$sum"
                            [ "$n" = 65536 ] || exit 1
                            """)
                    .consoleLog(LOGS.resolve("rngDeviceFeedsTheGuestsHwrng-console.log")).run();
            servedBytes = daemon.queueMetrics(0).bytes();
            errors = daemon.queueMetrics(0).errors();
        }
        assertTrue(r.passed(), r.summary());
        assertTrue(r.value("rng", "current").startsWith("virtio_rng"), r.summary());
        assertEquals("65536", r.value("rng", "bytes"));
        assertTrue(servedBytes >= 2 * 65536, "daemon counted " + servedBytes + " bytes");
        assertEquals(0, errors);
    }
}
