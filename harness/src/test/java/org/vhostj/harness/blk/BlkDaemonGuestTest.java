package org.vhostj.harness.blk;

import org.vhostj.harness.guest.HostFiles;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.harness.guest.BlkCrashLedger;
import org.vhostj.harness.guest.GuestCase;
import org.vhostj.harness.guest.GuestImage;
import org.vhostj.harness.guest.TestGuests;
import org.vhostj.harness.guest.GuestResult;
import org.vhostj.harness.guest.QemuGuest;
import org.vhostj.harness.guest.RunningGuest;

/**
 * Our vhost-user-blk daemon (a separate process) serving a real Linux 6.1 guest under QEMU 7.2
 * ({@code -device vhost-user-blk-pci}): dd written with O_DIRECT reads back identical after drop_caches
 * and the host sees the guest's bytes in the image; mkfs.ext2 + files survive a remount; kill -9 during
 * guest writes and a restart on the same socket lose no acknowledged write.
 */
class BlkDaemonGuestTest {
    private static final Path LOGS = Path.of("target", "guest-logs").toAbsolutePath();
    private static GuestImage image;

    @TempDir Path tmp;

    @BeforeAll
    static void buildImage() throws IOException {
        image = TestGuests.image(false);
    }

    private static Path log(TestInfo test, String what) {
        return LOGS.resolve(test.getTestMethod().orElseThrow().getName() + "-" + what + ".log");
    }

    private static Path rawImage(Path dir, long bytes) throws IOException {
        Path img = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) { f.setLength(bytes); }
        return img;
    }


    @Test
    void blkVerifyLeavesTheGuestsBytesInTheImage(TestInfo test) throws Exception {
        Path img = rawImage(tmp, 64L << 20);
        GuestResult r;
        int exit;
        try (BlkDaemonProcess d = BlkDaemonProcess.start(tmp.resolve("blk.sock"), log(test, "daemon"), "--image", img.toString(), "--serial", "vhostj-guest")) {
            r = QemuGuest.of(image).device(new QemuGuest.Blk(d.socket, 1, false, false))
                    .run(GuestCase.BLK_VERIFY).env("BLK_VERIFY_MB", 16)
                    .consoleLog(log(test, "console")).timeout(Duration.ofSeconds(90)).run();
            exit = d.stop();
        }
        assertTrue(r.passed(), r.summary());
        assertEquals(0, exit, "SIGTERM is a clean stop");
        assertEquals(r.value("blk_verify", "md5"), HostFiles.md5(img, 0, 16L << 20), "host view of the first 16 MiB");
        long block = Long.parseLong(r.value("blk_verify", "offset_block"));
        assertEquals(r.value("blk_verify", "offset_md5"), HostFiles.md5(img, block * 4096, 1L << 20), "host view of the 4 KiB pass");
    }

    @Test
    void mkfsOnPackedRingsWithTwoQueuesSurvivesRemount(TestInfo test) throws Exception {
        Path img = rawImage(tmp, 64L << 20);
        GuestResult r;
        try (BlkDaemonProcess d = BlkDaemonProcess.start(tmp.resolve("blk.sock"), log(test, "daemon"), "--image", img.toString(), "--num-queues", "2")) {
            r = QemuGuest.of(image).device(new QemuGuest.Blk(d.socket, 2, true, false))
                    .run(GuestCase.BLK_MKFS).consoleLog(log(test, "console")).timeout(Duration.ofSeconds(90)).run();
        }
        assertTrue(r.passed(), r.summary());
        assertEquals("100", r.value("blk_mkfs", "files"));
        byte[] head = new byte[2048];
        try (InputStream in = Files.newInputStream(img)) { assertEquals(head.length, in.readNBytes(head, 0, head.length)); }
        assertEquals(0x53, head[1080] & 0xff, "ext2 magic in the host's image");
        assertEquals(0xef, head[1081] & 0xff);
    }

    @Test
    void killedDuringGuestWritesAndRestartedLosesNoAcknowledgedWrite(TestInfo test) throws Exception {
        Path img = rawImage(tmp, 64L << 20);
        Path sock = tmp.resolve("blk.sock");
        BlkCrashLedger ledger = new BlkCrashLedger();
        GuestResult r;
        BlkDaemonProcess d = BlkDaemonProcess.start(sock, log(test, "daemon1"), "--image", img.toString());
        try {
            try (RunningGuest guest = QemuGuest.of(image).device(new QemuGuest.Blk(sock, 1, false, true))
                    .run(GuestCase.BLK_CRASH).env("BLK_CRASH_SECS", 8)
                    .onConsoleLine(ledger).consoleLog(log(test, "console")).start()) {
                guest.awaitLine(l -> l.startsWith("ACK seq=5 "), Duration.ofSeconds(60));
                d.kill();                                      // SIGKILL in the middle of the writes
                Thread.sleep(1000);
                d = BlkDaemonProcess.start(sock, log(test, "daemon2"), "--image", img.toString());
                r = guest.await();
            }
        } finally {
            d.stop();
        }
        HostFiles.assertAcknowledgedWritesIntact(ledger, img, r, "blk-crash (ours)");
    }
}
