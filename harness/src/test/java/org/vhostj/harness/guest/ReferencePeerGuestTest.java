package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.harness.guest.QemuGuest.Accel;
import org.vhostj.harness.guest.QemuGuest.Net;
import org.vhostj.harness.guest.QemuGuest.NetInterrupts;
import org.vhostj.vhost.testing.HostPackages;

/**
 * The guest harness proven against the reference vhost-user backends (qemu-storage-daemon, QEMU 7.2's
 * virtiofsd, DPDK testpmd): real Linux 6.1 guests under QEMU 7.2 TCG, one boot per test, one image
 * per JVM. Console logs and peer logs are kept in target/guest-logs.
 */
class ReferencePeerGuestTest {
    private static final Path LOGS = Path.of("target", "guest-logs").toAbsolutePath();
    private static GuestImage image;

    @TempDir Path tmp;

    @BeforeAll
    static void buildImage() throws IOException {
        long t0 = System.nanoTime();
        image = TestGuests.image(false);
        System.out.printf("guest image %s ready in %d ms%n", image, (System.nanoTime() - t0) / 1_000_000);
    }

    private static void require(HostProgram p) {
        HostPackages.require(p.program(), p.debianPackage());
    }

    private static Path log(TestInfo test, String what) {
        return LOGS.resolve(test.getTestMethod().orElseThrow().getName() + "-" + what + ".log");
    }



    private static Path rawImage(Path dir, long bytes) throws IOException {
        Path img = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return img;
    }

    @Test
    void guestWithoutDevicesBootsAndReportsBootTime(TestInfo test) throws Exception {
        GuestResult r = QemuGuest.of(image).consoleLog(log(test, "console")).timeout(Duration.ofMinutes(2)).run();
        assertTrue(r.passed(), r.summary());
        assertEquals("0", r.value("smoke", "virtio"), r.summary());
        assertEquals("2", r.value("smoke", "cpus"));
        assertTrue(r.bootMillis() > 0 && r.bootUptimeSeconds() > 0, r.summary());
        System.out.printf("smoke: booted in %d ms (guest uptime %.2f s), whole run %d ms%n",
                r.bootMillis(), r.bootUptimeSeconds(), r.totalMillis());
    }

    @Test
    void blkVerifyOverQemuStorageDaemonLeavesGuestBytesInTheImage(TestInfo test) throws Exception {
        require(ReferencePeer.QEMU_STORAGE_DAEMON);
        Path img = rawImage(tmp, 64L << 20);
        GuestResult r;
        try (ReferencePeer qsd = ReferencePeer.qemuStorageDaemon(tmp.resolve("blk.sock"), img, 1, false, log(test, "qsd"))) {
            r = QemuGuest.of(image).device(new QemuGuest.Blk(qsd.socket(), 1, false, false))
                    .run(GuestCase.BLK_VERIFY).env("BLK_VERIFY_MB", 16)
                    .consoleLog(log(test, "console")).run();
        }
        assertTrue(r.passed(), r.summary());
        assertEquals(r.value("blk_verify", "md5"), HostFiles.md5(img, 0, 16L << 20), "host view of the first 16 MiB");
        long block = Long.parseLong(r.value("blk_verify", "offset_block"));
        assertEquals(r.value("blk_verify", "offset_md5"), HostFiles.md5(img, block * 4096, 1L << 20), "host view of the 4 KiB pass");
        System.out.printf("blk-verify: boot %d ms, run %d ms%n", r.bootMillis(), r.totalMillis());
    }

    @Test
    void blkMkfsOverQemuStorageDaemonSurvivesRemount(TestInfo test) throws Exception {
        require(ReferencePeer.QEMU_STORAGE_DAEMON);
        Path img = rawImage(tmp, 64L << 20);
        GuestResult r;
        try (ReferencePeer qsd = ReferencePeer.qemuStorageDaemon(tmp.resolve("blk.sock"), img, 2, false, log(test, "qsd"))) {
            r = QemuGuest.of(image).device(new QemuGuest.Blk(qsd.socket(), 2, false, false))
                    .run(GuestCase.BLK_MKFS).consoleLog(log(test, "console")).run();
        }
        assertTrue(r.passed(), r.summary());
        assertEquals("100", r.value("blk_mkfs", "files"));
        // the ext2 superblock magic 0xEF53 at byte 1080 of the host's image
        byte[] head = new byte[2048];
        try (InputStream in = Files.newInputStream(img)) {
            assertEquals(head.length, in.readNBytes(head, 0, head.length));
        }
        assertEquals(0x53, head[1080] & 0xff);
        assertEquals(0xef, head[1081] & 0xff);
    }

    @Test
    void blkCrashWithQemuStorageDaemonKilledAndRestartedLosesNoAcknowledgedWrite(TestInfo test) throws Exception {
        require(ReferencePeer.QEMU_STORAGE_DAEMON);
        Path img = rawImage(tmp, 64L << 20);
        Path sock = tmp.resolve("blk.sock");
        BlkCrashLedger ledger = new BlkCrashLedger();
        GuestResult r;
        ReferencePeer qsd = ReferencePeer.qemuStorageDaemon(sock, img, 1, false, log(test, "qsd1"));
        try {
            try (RunningGuest guest = QemuGuest.of(image).device(new QemuGuest.Blk(sock, 1, false, true))
                    .run(GuestCase.BLK_CRASH).env("BLK_CRASH_SECS", 8)
                    .onConsoleLine(ledger).consoleLog(log(test, "console")).start()) {
                guest.awaitLine(l -> l.startsWith("ACK seq=5 "), Duration.ofSeconds(90));
                qsd.kill();                                    // SIGKILL in the middle of the writes
                Thread.sleep(1000);
                qsd = ReferencePeer.qemuStorageDaemon(sock, img, 1, false, log(test, "qsd2"));
                r = guest.await();
            }
        } finally {
            qsd.close();
        }
        HostFiles.assertAcknowledgedWritesIntact(ledger, img, r, "blk-crash");
    }

    @Test
    void fsVerifyOverVirtiofsdMatchesTheHostViewBothWays(TestInfo test) throws Exception {
        require(ReferencePeer.VIRTIOFSD_PROGRAM);
        Path share = Files.createDirectory(tmp.resolve("share"));
        byte[] hostBytes = new byte[1 << 20];
        new Random(42).nextBytes(hostBytes);
        Files.write(share.resolve("host.bin"), hostBytes);
        byte[] late = ("written by the host while the guest waits " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
        GuestResult r;
        try (ReferencePeer vfsd = ReferencePeer.virtiofsd(tmp.resolve("fs.sock"), share, log(test, "virtiofsd"));
             RunningGuest guest = QemuGuest.of(image).fs(vfsd.socket(), "share")
                     .run(GuestCase.FS_VERIFY).env("FS_WAIT_FILE", "late.txt")
                     .consoleLog(log(test, "console")).start()) {
            guest.awaitLine(l -> l.startsWith("FS-WAIT-HOST file=late.txt"), Duration.ofSeconds(120));
            Path tmpLate = share.resolve(".late.tmp");
            Files.write(tmpLate, late);
            Files.move(tmpLate, share.resolve("late.txt"));   // appears whole
            r = guest.await();
        }
        assertTrue(r.passed(), r.summary());
        assertEquals(HostFiles.md5(share.resolve("host.bin")), r.value("fs_host", "md5"), "guest read the host's file");
        assertEquals(HostFiles.md5(share.resolve("guest.bin")), r.value("fs_guest", "md5"), "host sees the guest's file");
        Path kept = share.resolve("kept");
        assertEquals(HostFiles.md5(kept.resolve("hardlink")), r.value("fs_kept", "md5"));
        assertEquals("2", r.value("fs_kept", "links"));
        assertEquals(2, ((Number) Files.getAttribute(kept.resolve("renamed"), "unix:nlink")).intValue());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kept.resolve("renamed"))));
        assertEquals(Path.of("renamed"), Files.readSymbolicLink(kept.resolve("symlink")));
        assertFalse(Files.exists(kept.resolve("new")), "rename left the old name");
        assertFalse(Files.exists(share.resolve("d1")), "rmdir reached the host");
        try (var left = Files.list(share)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith("many.")).toList());
        }
        MessageDigest md = MessageDigest.getInstance("MD5");
        assertEquals(HexFormat.of().formatHex(md.digest(late)), r.value("fs_late", "md5"), "guest saw the host's late file");
    }

    @Test
    void netPingThroughTestpmdNetVhostGetsReplies(TestInfo test) throws Exception {
        require(ReferencePeer.TESTPMD);
        GuestResult r;
        try (ReferencePeer testpmd = ReferencePeer.testpmdNetVhost(tmp.resolve("net.sock"), "5tswap", 1, log(test, "testpmd"))) {
            r = QemuGuest.of(image).net(testpmd.socket()).run(GuestCase.NET_PING).env("PING_COUNT", 10)
                    .consoleLog(log(test, "console")).run();
        }
        assertTrue(r.passed(), r.summary());
        int received = Integer.parseInt(r.value("net_ping", "received"));
        assertTrue(received > 0, r.summary());
        assertTrue(String.join(" ", r.commandLine()).contains(",vectors=0"), "INTx workaround applied under TCG");
        System.out.printf("net-ping: %d/%s replies%n", received, r.value("net_ping", "sent"));
    }

    @Test
    void imageWithFioRunsFioOnTheVhostUserDisk(TestInfo test) throws Exception {
        GuestImage fioImage = TestGuests.image(true);
        assertTrue(fioImage.hasFio());
        require(ReferencePeer.QEMU_STORAGE_DAEMON);
        Path img = rawImage(tmp, 64L << 20);
        GuestResult r;
        try (ReferencePeer qsd = ReferencePeer.qemuStorageDaemon(tmp.resolve("blk.sock"), img, 1, false, log(test, "qsd"))) {
            r = QemuGuest.of(fioImage).blk(qsd.socket()).run(GuestCase.BLK_FIO)
                    .env("FIO_RUNTIME", 2).env("FIO_SIZE", "32M").consoleLog(log(test, "console")).run();
        }
        assertTrue(r.passed(), r.summary());
        assertTrue(Integer.parseInt(r.value("blk_randread_4k", "iops")) > 0, r.summary());
        assertTrue(Double.parseDouble(r.value("blk_seqread_1m", "MBps")) > 0, r.summary());
        System.out.printf("fio image: boot %d ms; 4k randread QD32 %s IOPS, 1M seqread %s MB/s (qemu-storage-daemon, TCG)%n",
                r.bootMillis(), r.value("blk_randread_4k", "iops"), r.value("blk_seqread_1m", "MBps"));
    }

    /**
     * Guards the workaround QemuGuest applies (NET-TCG-MSIX.md): QEMU 7.2 under TCG segfaults when a
     * guest starts a vhost-user virtio-net device with MSI-X. If a QEMU update fixes this, this test
     * fails and the workaround can go.
     */
    @Test
    void qemu72UnderTcgSegfaultsWhenGuestStartsVhostUserNetWithMsix(TestInfo test) throws Exception {
        String version = HostCommand.run(List.of("qemu-system-x86_64", "--version"), null, Duration.ofSeconds(30));
        assumeTrue(version.contains("version 7.2."), "only QEMU 7.2 is known to crash: " + version.lines().findFirst().orElse(""));
        require(ReferencePeer.TESTPMD);
        GuestResult r;
        try (ReferencePeer testpmd = ReferencePeer.testpmdNetVhost(tmp.resolve("net.sock"), "5tswap", 1, log(test, "testpmd"))) {
            r = QemuGuest.of(image).accel(Accel.TCG)
                    .device(new Net(testpmd.socket(), 1, "52:54:00:12:34:50", NetInterrupts.MSIX))
                    .run(GuestCase.NET_PING).consoleLog(log(test, "console")).timeout(Duration.ofMinutes(2)).run();
        }
        assertFalse(r.timedOut(), r.summary());
        assertEquals(-1, r.exitCode(), "the guest never finished: " + r.summary());
        assertEquals(128 + 11, r.qemuExitCode(), "QEMU died of SIGSEGV: " + r.summary());
    }
}
