package org.vhostj.harness.fs;

import org.vhostj.harness.guest.HostFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vhostj.harness.fs.FsBackend.Kind;
import org.vhostj.harness.guest.GuestCase;
import org.vhostj.harness.guest.GuestImage;
import org.vhostj.harness.guest.TestGuests;
import org.vhostj.harness.guest.GuestResult;
import org.vhostj.harness.guest.QemuGuest;
import org.vhostj.harness.guest.RunningGuest;
import org.vhostj.harness.peers.TempDirs;

/**
 * A real Linux 6.1 guest under QEMU 7.2 ({@code -device vhost-user-fs-pci,tag=share}) mounts the backend's
 * share with {@code mount -t virtiofs}; the guest creates, writes, renames, hard-links, symlinks, chmods and
 * deletes (cases/fs-verify.sh), the host checks what it sees, and a file the host creates while the guest
 * waits shows up in the guest. Against our daemon and, as the reference, C virtiofsd. Console and backend
 * logs stay in target/guest-logs.
 */
class FsGuestTest {
    private static final Path LOGS = Path.of("target", "guest-logs").toAbsolutePath();
    private static GuestImage image;

    @BeforeAll
    static void buildImage() throws IOException {
        image = TestGuests.image(false);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void guestFileOperationsMatchTheHostViewBothWays(Kind kind) throws Exception {
        Path run = FsBackend.tempRoot("guest");
        try {
            Path share = Files.createDirectory(run.resolve("share"));
            byte[] hostBytes = new byte[1 << 20];
            new Random(42).nextBytes(hostBytes);
            Files.write(share.resolve("host.bin"), hostBytes);
            byte[] late = ("written by the host while the guest waits " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
            Files.createDirectories(LOGS);
            GuestResult r;
            long t0 = System.nanoTime();
            try (FsBackend b = FsBackend.start(kind, share, run);
                 RunningGuest guest = QemuGuest.of(image).fs(b.socket, "share").run(GuestCase.FS_VERIFY).env("FS_WAIT_FILE", "late.txt")
                         .timeout(Duration.ofSeconds(80)).consoleLog(LOGS.resolve("fs-guest-" + kind + "-console.log")).start()) {
                guest.awaitLine(l -> l.startsWith("FS-WAIT-HOST file=late.txt"), Duration.ofSeconds(70));
                Path tmpLate = share.resolve(".late.tmp");
                Files.write(tmpLate, late);
                Files.move(tmpLate, share.resolve("late.txt"));   // appears whole
                r = guest.await();
                Files.copy(b.process.log(), LOGS.resolve("fs-guest-" + kind + "-backend.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertTrue(r.passed(), r.summary());
            assertEquals(HostFiles.md5(share.resolve("host.bin")), r.value("fs_host", "md5"), "guest read the host's file");
            assertEquals(HostFiles.md5(share.resolve("guest.bin")), r.value("fs_guest", "md5"), "host sees the guest's file");
            Path kept = share.resolve("kept");
            assertEquals(HostFiles.md5(kept.resolve("hardlink")), r.value("fs_kept", "md5"), "written content");
            assertEquals("2", r.value("fs_kept", "links"));
            assertEquals(2, ((Number) Files.getAttribute(kept.resolve("renamed"), "unix:nlink")).intValue(), "hard link seen by the host");
            assertEquals(Files.getAttribute(kept.resolve("renamed"), "unix:ino"), Files.getAttribute(kept.resolve("hardlink"), "unix:ino"));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kept.resolve("renamed"))), "chmod 600");
            assertEquals("600", r.value("fs_kept", "mode"));
            assertEquals(Path.of("renamed"), Files.readSymbolicLink(kept.resolve("symlink")), "symlink target");
            assertFalse(Files.exists(kept.resolve("new")), "rename left the old name");
            assertFalse(Files.exists(share.resolve("d1")), "rm and rmdir reached the host");
            assertEquals("200", r.value("fs_verify", "entries"));
            try (var left = Files.list(share)) {
                assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith("many.")).toList(), "deleted files are gone");
            }
            MessageDigest md = MessageDigest.getInstance("MD5");
            assertEquals(HexFormat.of().formatHex(md.digest(late)), r.value("fs_late", "md5"), "guest saw the host's late file");
            System.out.printf("fs guest (%s): boot %d ms, whole test %d ms%n", kind, r.bootMillis(), (System.nanoTime() - t0) / 1_000_000);
        } finally {
            TempDirs.delete(run);
        }
    }

}
