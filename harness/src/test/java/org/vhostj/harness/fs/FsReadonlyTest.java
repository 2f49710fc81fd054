package org.vhostj.harness.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vhostj.sys.Errno.EROFS;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.fs.FsBackend.Kind;
import org.vhostj.harness.fuse.FuseClient;
import org.vhostj.harness.fuse.FuseTypes;
import org.vhostj.sys.Fcntl;
import org.vhostj.vhost.testing.HostPackages;

/** Our daemon with --readonly (virtiofsd 7.2 has no such option): every change is EROFS, reads work. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FsReadonlyTest {
    @Test
    void readonlyShareRefusesEveryChange() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        try (Share s = Share.start(Kind.OURS, (run, shared) -> {
            Files.writeString(shared.resolve("f"), "content");
            Files.createDirectory(shared.resolve("d"));
        }, "readonly", "xattr")) {
            FuseClient fc = s.fc;
            FuseTypes.Entry f = fc.lookup(Fuse.ROOT_ID, "f"), d = fc.lookup(Fuse.ROOT_ID, "d");
            long fh = fc.open(f.nodeid(), Fcntl.O_RDONLY);
            assertArrayEquals("content".getBytes(StandardCharsets.UTF_8), fc.read(f.nodeid(), fh, 0, 4096));
            s.expectErrno("WRITE", () -> fc.write(f.nodeid(), fh, 0, "x".getBytes(StandardCharsets.UTF_8)), EROFS, org.vhostj.sys.Errno.EBADF);
            fc.release(f.nodeid(), fh);
            s.expectErrno("OPEN O_RDWR", () -> fc.open(f.nodeid(), Fcntl.O_RDWR), EROFS);
            s.expectErrno("OPEN O_WRONLY|O_TRUNC", () -> fc.open(f.nodeid(), Fcntl.O_WRONLY | Fcntl.O_TRUNC), EROFS);
            s.expectErrno("CREATE", () -> fc.create(Fuse.ROOT_ID, "new", Fcntl.O_RDWR, 0644), EROFS);
            s.expectErrno("MKDIR", () -> fc.mkdir(Fuse.ROOT_ID, "new", 0755), EROFS);
            s.expectErrno("MKNOD", () -> fc.mknod(Fuse.ROOT_ID, "new", Fcntl.S_IFIFO | 0644, 0), EROFS);
            s.expectErrno("SYMLINK", () -> fc.symlink(Fuse.ROOT_ID, "new", "f"), EROFS);
            s.expectErrno("LINK", () -> fc.link(f.nodeid(), Fuse.ROOT_ID, "new"), EROFS);
            s.expectErrno("RENAME", () -> fc.rename(Fuse.ROOT_ID, "f", Fuse.ROOT_ID, "g"), EROFS);
            s.expectErrno("UNLINK", () -> fc.unlink(Fuse.ROOT_ID, "f"), EROFS);
            s.expectErrno("RMDIR", () -> fc.rmdir(Fuse.ROOT_ID, "d"), EROFS);
            s.expectErrno("SETATTR chmod", () -> fc.chmod(f.nodeid(), 0777), EROFS);
            s.expectErrno("SETATTR truncate", () -> fc.truncate(f.nodeid(), -1, 0), EROFS);
            s.expectErrno("SETXATTR", () -> fc.setxattr(f.nodeid(), "user.x", new byte[] {1}, 0), EROFS);
            s.expectErrno("REMOVEXATTR", () -> fc.removexattr(d.nodeid(), "user.x"), EROFS);
            assertEquals("content", Files.readString(s.shared.resolve("f")));
            try (var left = Files.list(s.shared)) {
                assertEquals(List.of("d", "f"), left.map(p -> p.getFileName().toString()).sorted().toList());
            }
            s.canary.assertUntouched();
        }
    }
}
