package org.vhostj.fs;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.fs.ChainClient.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.fs.passthrough.CacheMode;
import org.vhostj.fs.passthrough.FsConfig;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fcntl;

/**
 * Escapes at the filesystem layer: each attempt fails with an errno, and nothing outside the share is read,
 * written or listed. One test per attack.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FsEscapeTest {
    @TempDir Path tmp;
    Path share, outside;
    ChainClient c;

    @BeforeEach
    void setUp() throws Exception {
        share = Files.createDirectory(tmp.resolve("share"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "SECRET");
        Files.createDirectory(share.resolve("sub"));
        c = new ChainClient(share, new FsConfig(CacheMode.AUTO, false, true));
        c.init();
    }

    @AfterEach
    void tearDown() throws Exception {
        c.close();
        assertEquals("SECRET", Files.readString(outside.resolve("secret")), "the outside file is untouched");
        try (var l = Files.list(outside)) { assertEquals(1, l.count(), "nothing was created outside"); }
    }

    @Test
    void dotDotAtRootIsTheRoot() {
        assertEquals(Fuse.ROOT_ID, c.lookup(1, "..").nodeid());
        long sub = c.lookup(1, "sub").nodeid();
        assertEquals(Fuse.ROOT_ID, c.lookup(sub, "..").nodeid(), "the parent of a top-level directory is the root");
        assertEquals(-Errno.ENOENT, c.lookup(c.lookup(1, "..").nodeid(), "outside").error());
    }

    @Test
    void namesWithSlashOrNulOrDotsAreRefused() {
        assertEquals(-Errno.EINVAL, c.lookup(1, "../outside").error());
        assertEquals(-Errno.EINVAL, c.lookup(1, "/etc").error());
        assertEquals(-Errno.EINVAL, c.call(Fuse.LOOKUP, 1, "sub\0x\0".getBytes(), null, Fuse.ENTRY_OUT_SIZE).error(), "an interior NUL");
        assertEquals(-Errno.EINVAL, c.call(Fuse.LOOKUP, 1, "sub".getBytes(), null, Fuse.ENTRY_OUT_SIZE).error(), "no NUL");
        assertEquals(-Errno.EINVAL, c.lookup(1, "").error());
        assertEquals(-Errno.ENAMETOOLONG, c.lookup(1, "x".repeat(256)).error());
        assertEquals(-Errno.EINVAL, c.mkdir(1, "..", 0755).error());
        assertEquals(-Errno.EINVAL, c.create(1, "../../outside/new", Fcntl.O_RDWR, 0644).error());
        assertEquals(-Errno.EINVAL, c.rename(1, "sub", 1, "../outside/sub", 0).error());
        assertEquals(-Errno.EINVAL, c.unlink(1, "../outside/secret").error());
    }

    @Test
    void absoluteSymlinkGuestCreatedIsNeverFollowed() {
        // SYMLINK with an absolute *name* (GHSA-2gv2-cffp-j227) is refused; an absolute *target* is just bytes
        assertEquals(-Errno.EINVAL, c.symlink(1, outside.resolve("evil").toString(), "/etc/passwd").error());
        ChainClient.Reply s = c.symlink(1, "out", outside.toString());
        assertEquals(0, s.error());
        assertEquals(-Errno.ENOTDIR, c.lookup(s.nodeid(), "secret").error(), "a symlink is not a directory to look up in");
        assertEquals(-Errno.ELOOP, c.open(s.nodeid(), Fcntl.O_RDONLY).error());
        assertEquals(-Errno.ENOTDIR, c.opendir(s.nodeid()).error());
        assertEquals(-Errno.ENOTDIR, c.create(s.nodeid(), "x", Fcntl.O_RDWR, 0644).error());
    }

    @Test
    void relativeSymlinkPointingOutIsNeverFollowed() throws Exception {
        Files.createSymbolicLink(share.resolve("sub/up"), Path.of("../../outside/secret"));
        Files.createSymbolicLink(share.resolve("updir"), Path.of("../outside"));
        long up = c.lookup(c.lookup(1, "sub").nodeid(), "up").nodeid();
        assertEquals(-Errno.ELOOP, c.open(up, Fcntl.O_RDONLY).error());
        assertEquals(-Errno.EEXIST, c.create(c.lookup(1, "sub").nodeid(), "up", Fcntl.O_WRONLY | Fcntl.O_TRUNC, 0644).error(),
                "CREATE over a symlink neither follows nor truncates it");
        assertEquals(-Errno.ENOTDIR, c.lookup(c.lookup(1, "updir").nodeid(), "secret").error());
        assertNotEquals(0, c.call(Fuse.SETATTR, up, le(88).putInt(Fuse.FATTR_SIZE).putInt(0).putLong(0).putLong(0).array(), null,
                Fuse.ATTR_OUT_SIZE).error(), "truncate through a symlink");
    }

    @Test
    void createOverAnExistingSymlinkDoesNotWriteItsTarget() throws Exception {
        Files.createSymbolicLink(share.resolve("trap"), outside.resolve("secret"));
        assertEquals(-Errno.EEXIST, c.create(1, "trap", Fcntl.O_WRONLY | Fcntl.O_TRUNC, 0644).error());
    }

    @Test
    void symlinkSwapBetweenLookupAndOpenOpensTheLookedUpInode() throws Exception {
        Files.writeString(share.resolve("f"), "inside");
        long f = c.lookup(1, "f").nodeid();
        Files.delete(share.resolve("f"));
        Files.createSymbolicLink(share.resolve("f"), outside.resolve("secret"));
        ChainClient.Reply o = c.open(f, Fcntl.O_RDWR);
        assertEquals(0, o.error());
        long fh = o.body().getLong(0);
        assertEquals("inside", new String(c.read(f, fh, 0, 100).body().array(), StandardCharsets.UTF_8));
        c.write(f, fh, 0, "changed".getBytes());
        // and a fresh LOOKUP of the name finds the symlink, which cannot be opened
        long link = c.lookup(1, "f").nodeid();
        assertNotEquals(f, link);
        assertEquals(-Errno.ELOOP, c.open(link, Fcntl.O_RDONLY).error());
    }

    @Test
    void hardLinkOnlyOfKnownInodes() throws Exception {
        // an arbitrary nodeid (a guess at another slot, or a host inode number) is not an inode
        assertEquals(-Errno.ESTALE, c.link(0x0000_0001_0000_0007L, 1, "stolen").error());
        assertEquals(-Errno.ESTALE, c.link(Files.readAttributes(outside.resolve("secret"), "unix:ino").get("ino") instanceof Long ino ? ino : 99, 1, "stolen").error());
        assertFalse(Files.exists(share.resolve("stolen")));
        long sub = c.lookup(1, "sub").nodeid();
        assertEquals(-Errno.EPERM, c.link(sub, 1, "dirlink").error(), "no hard links to directories");
    }

    @Test
    void deviceNodesAreNeverCreatedNorOpened() throws Exception {
        assertEquals(-Errno.EPERM, c.mknod(1, "null", Fcntl.S_IFCHR | 0666, (1 << 8) | 3).error());
        assertEquals(-Errno.EPERM, c.mknod(1, "sda", Fcntl.S_IFBLK | 0666, 8 << 8).error());
        ChainClient.Reply fifo = c.mknod(1, "fifo", Fcntl.S_IFIFO | 0644, 0);
        assertEquals(0, fifo.error(), "FIFOs may be created (the guest kernel opens them locally)");
        // opening a FIFO would block the worker; opening a device would touch the host device
        assertEquals(-Errno.ENXIO, c.open(fifo.nodeid(), Fcntl.O_RDONLY).error());
        assertEquals(-Errno.ENXIO, c.open(fifo.nodeid(), Fcntl.O_WRONLY).error());
        assertEquals(-Errno.EEXIST, c.create(1, "fifo", Fcntl.O_WRONLY, 0644).error(), "CREATE without O_EXCL over a FIFO");
        assertEquals(0, c.call(Fuse.SETATTR, fifo.nodeid(), le(88).putInt(Fuse.FATTR_MODE).putInt(0).putLong(0).putLong(0).putLong(0)
                .putLong(0).putLong(0).putLong(0).putInt(0).putInt(0).putInt(0).putInt(0600).array(), null, Fuse.ATTR_OUT_SIZE).error(),
                "chmod of a FIFO goes through /proc/self/fd without opening it");
    }

    @Test
    void handlesBelongToTheirInode() throws Exception {
        Files.writeString(share.resolve("a"), "A");
        Files.writeString(share.resolve("b"), "B");
        long a = c.lookup(1, "a").nodeid(), b = c.lookup(1, "b").nodeid();
        long fh = c.open(a, Fcntl.O_RDONLY).body().getLong(0);
        assertEquals(-Errno.EBADF, c.read(b, fh, 0, 10).error());
        assertEquals(-Errno.EBADF, c.release(b, fh, false).error());
        assertEquals(-Errno.ENOTDIR, c.readdir(Fuse.READDIR, a, fh, 0, 4096).error(), "a file handle is not a directory handle");
        assertEquals(0, c.release(a, fh, false).error());
    }

    @Test
    void listingTheRootShowsOnlyTheShare() {
        long fh = c.opendir(c.lookup(1, "..").nodeid()).body().getLong(0);
        ChainClient.Reply r = c.readdir(Fuse.READDIR, 1, fh, 0, 4096);
        String names = new String(r.body().array(), StandardCharsets.ISO_8859_1);
        assertTrue(names.contains("sub"));
        assertFalse(names.contains("outside") || names.contains("secret"));
    }
}
