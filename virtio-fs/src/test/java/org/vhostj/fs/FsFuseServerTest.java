package org.vhostj.fs;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.fs.ChainClient.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.fs.passthrough.CacheMode;
import org.vhostj.fs.passthrough.FsConfig;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fcntl;

/** Opcode round trips through the FUSE decoder and the passthrough filesystem, checked against the host. */
class FsFuseServerTest {
    @TempDir Path tmp;
    Path share;
    ChainClient c;

    @BeforeEach
    void setUp() throws Exception {
        share = Files.createDirectory(tmp.resolve("share"));
        c = new ChainClient(share, new FsConfig(CacheMode.AUTO, false, true));
        assertEquals(0, c.init().error());
    }

    @AfterEach
    void tearDown() { c.close(); }

    @Test
    void initNegotiates738WithOneMebibyteWrites() {
        ChainClient.Reply r = c.init();
        assertEquals(0, r.error());
        assertEquals(16 + Fuse.INIT_OUT_SIZE, r.used());
        assertEquals(7, r.body().getInt(0));
        assertEquals(38, r.body().getInt(4));
        long flags = Integer.toUnsignedLong(r.body().getInt(Fuse.INIT_FLAGS_OFFSET));
        assertTrue((flags & Fuse.DO_READDIRPLUS) != 0 && (flags & Fuse.MAX_PAGES) != 0);
        assertEquals(0, flags & Fuse.WRITEBACK_CACHE, "never enabled unless offered and wanted");
        assertEquals(1 << 20, r.body().getInt(Fuse.INIT_OUT_MAX_WRITE_OFFSET));
        assertEquals(256, r.body().getShort(Fuse.INIT_OUT_MAX_PAGES_OFFSET));
    }

    @Test
    void initBelowMinor27IsEproto() {
        ChainClient.Reply r = c.call(Fuse.INIT, 0, le(16).putInt(7).putInt(20).putInt(0).putInt(0).array(), null, 64);
        assertEquals(-Errno.EPROTO, r.error());
    }

    @Test
    void unknownAndUnsupportedOpcodesAreEnosys() {
        for (int op : new int[] {999, Fuse.STATX, Fuse.IOCTL, Fuse.GETLK, Fuse.SETUPMAPPING, Fuse.TMPFILE, 0}) {
            assertEquals(-Errno.ENOSYS, c.call(op, 1, new byte[8], null, 64).error(), "opcode " + op);
        }
    }

    @Test
    void createWriteReadRoundTripMatchesHost() throws Exception {
        ChainClient.Reply cr = c.create(1, "f.txt", Fcntl.O_RDWR, 0640);
        assertEquals(0, cr.error());
        long node = cr.nodeid(), fh = cr.body().getLong(Fuse.ENTRY_OUT_SIZE);
        byte[] payload = new byte[300_000];
        for (int i = 0; i < payload.length; i++) payload[i] = (byte) (i * 7);
        ChainClient.Reply w = c.write(node, fh, 10, payload);
        assertEquals(0, w.error());
        assertEquals(payload.length, w.body().getInt(0));
        byte[] host = Files.readAllBytes(share.resolve("f.txt"));
        assertEquals(10 + payload.length, host.length);
        assertArrayEquals(payload, java.util.Arrays.copyOfRange(host, 10, host.length));
        ChainClient.Reply rd = c.read(node, fh, 10, 131072);
        assertEquals(0, rd.error());
        assertEquals(16 + 131072, rd.used());
        byte[] got = new byte[131072];
        rd.body().get(got);
        assertArrayEquals(java.util.Arrays.copyOfRange(payload, 0, 131072), got);
        ChainClient.Reply eof = c.read(node, fh, 10L + payload.length, 4096);
        assertEquals(16, eof.used(), "a read at end of file is empty");
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(share.resolve("f.txt"))));
        assertEquals(0, c.release(node, fh, false).error());
        assertEquals(-Errno.EBADF, c.read(node, fh, 0, 10).error(), "a released handle is gone");
    }

    @Test
    void entryRepliesCarryTheAttributesAfterTheChange() throws Exception {
        Files.write(share.resolve("t"), new byte[1234]);
        ChainClient.Reply t = c.create(1, "t", Fcntl.O_RDWR | Fcntl.O_TRUNC, 0644);
        assertEquals(0, t.error());
        assertEquals(0, t.body().getLong(Fuse.ENTRY_ATTR_OFFSET + Fuse.ATTR_SIZE_OFFSET), "CREATE of an existing file with O_TRUNC: the size after truncation");
        assertEquals(0, Files.size(share.resolve("t")));
        ChainClient.Reply k = c.create(1, "t", Fcntl.O_RDWR, 0644);
        assertEquals(0, k.error());
        assertEquals(t.nodeid(), k.nodeid(), "the existing inode");
        ChainClient.Reply l = c.link(t.nodeid(), 1, "t2");
        assertEquals(0, l.error());
        assertEquals(2, l.body().getInt(Fuse.ENTRY_ATTR_OFFSET + Fuse.ATTR_NLINK_OFFSET), "LINK: nlink after the new name");
        ChainClient.Reply lk = c.lookup(1, "t2");
        assertEquals(Files.getAttribute(share.resolve("t"), "unix:mode"), lk.body().getInt(Fuse.ENTRY_ATTR_OFFSET + Fuse.ATTR_MODE_OFFSET));
        assertEquals(Files.getAttribute(share.resolve("t"), "unix:ino"), lk.body().getLong(Fuse.ENTRY_ATTR_OFFSET + Fuse.ATTR_INO_OFFSET));
    }

    @Test
    void metadataOperationsMatchTheHost() throws Exception {
        long dir = c.mkdir(1, "d", 0755).nodeid();
        assertTrue(Files.isDirectory(share.resolve("d")));
        ChainClient.Reply f = c.create(dir, "a", Fcntl.O_WRONLY, 0644);
        c.release(f.nodeid(), f.body().getLong(Fuse.ENTRY_OUT_SIZE), false);
        assertEquals(0, c.rename(dir, "a", 1, "b", 0).error());
        assertTrue(Files.exists(share.resolve("b")) && !Files.exists(share.resolve("d/a")));
        ChainClient.Reply l = c.link(f.nodeid(), dir, "hard");
        assertEquals(0, l.error());
        assertEquals(f.nodeid(), l.nodeid(), "a hard link is the same inode");
        assertEquals(2, Files.getAttribute(share.resolve("b"), "unix:nlink"));
        ChainClient.Reply s = c.symlink(1, "sl", "d/hard");
        assertEquals(0, s.error());
        assertEquals("d/hard", Files.readSymbolicLink(share.resolve("sl")).toString());
        ChainClient.Reply rl = c.readlink(s.nodeid());
        assertEquals("d/hard", new String(rl.body().array(), 0, rl.used() - 16, StandardCharsets.UTF_8));
        // chmod + truncate + mtime through SETATTR
        byte[] setattr = le(88).putInt(Fuse.FATTR_MODE | Fuse.FATTR_SIZE | Fuse.FATTR_MTIME).putInt(0).putLong(0).putLong(5).putLong(0)
                .putLong(0).putLong(1_000_000_000L).putLong(0).putInt(0).putInt(0).putInt(0).putInt(0600).putInt(0).putInt(0).putInt(0).putInt(0).array();
        ChainClient.Reply sa = c.call(Fuse.SETATTR, f.nodeid(), setattr, null, Fuse.ATTR_OUT_SIZE);
        assertEquals(0, sa.error());
        assertEquals(5, sa.body().getLong(Fuse.ATTR_OUT_ATTR_OFFSET + Fuse.ATTR_SIZE_OFFSET));
        assertEquals(Fcntl.S_IFREG | 0600, sa.body().getInt(Fuse.ATTR_OUT_ATTR_OFFSET + Fuse.ATTR_MODE_OFFSET));
        assertEquals(5, Files.size(share.resolve("b")));
        assertEquals(1_000_000_000L, Files.getLastModifiedTime(share.resolve("b")).toMillis() / 1000);
        assertEquals(-Errno.ENOTEMPTY, c.rmdir(1, "d").error());
        assertEquals(0, c.unlink(dir, "hard").error());
        assertEquals(0, c.rmdir(1, "d").error());
        assertEquals(0, c.unlink(1, "b").error());
        assertEquals(-Errno.ENOENT, c.lookup(1, "b").error());
        assertEquals(-Errno.EEXIST, c.rename(1, "sl", 1, "sl", 0).error() == 0 ? -Errno.EEXIST : c.rename(1, "sl", 1, "x", 0).error());
    }

    @Test
    void rename2NoreplaceAndExchange() throws Exception {
        Files.writeString(share.resolve("x"), "X");
        Files.writeString(share.resolve("y"), "Y");
        assertEquals(-Errno.EEXIST, c.rename(1, "x", 1, "y", Fcntl.RENAME_NOREPLACE).error());
        assertEquals(0, c.rename(1, "x", 1, "y", Fcntl.RENAME_EXCHANGE).error());
        assertEquals("Y", Files.readString(share.resolve("x")));
        assertEquals(-Errno.EINVAL, c.rename(1, "x", 1, "y", 0x100).error());
    }

    @Test
    void readdirAndReaddirplusListEveryEntryAcrossSmallBuffers() throws Exception {
        for (int i = 0; i < 50; i++) Files.writeString(share.resolve("file-" + i), "x");
        for (int op : new int[] {Fuse.READDIR, Fuse.READDIRPLUS}) {
            long fh = c.opendir(1).body().getLong(0);
            List<String> names = new ArrayList<>();
            long offset = 0;
            while (true) {
                ChainClient.Reply r = c.readdir(op, 1, fh, offset, 512);
                assertEquals(0, r.error());
                if (r.used() == 16) break;
                var b = r.body();
                while (b.remaining() > 0) {
                    int base = b.position();
                    if (op == Fuse.READDIRPLUS) {
                        long nodeid = b.getLong(base);
                        base += Fuse.ENTRY_OUT_SIZE;
                        b.position(base);
                        assertNotNull(nodeid);
                    }
                    long off = b.getLong(base + 8);
                    int namelen = b.getInt(base + 16);
                    byte[] n = new byte[namelen];
                    b.get(base + 24, n);
                    names.add(new String(n, StandardCharsets.UTF_8));
                    offset = off;
                    b.position(base + Fuse.direntAlign(24 + namelen));
                }
            }
            assertEquals(52, names.size(), names.toString());
            assertTrue(names.contains(".") && names.contains("..") && names.contains("file-49"));
            assertEquals(0, c.release(1, fh, true).error());
        }
        int held = c.fs.inodeCount();
        assertEquals(51, held, "READDIRPLUS looked up every file (+ the root)");
    }

    @Test
    void forgetDropsInodesAndBatchForgetToo() throws Exception {
        Files.writeString(share.resolve("a"), "a");
        Files.writeString(share.resolve("b"), "b");
        long a = c.lookup(1, "a").nodeid();
        assertEquals(a, c.lookup(1, "a").nodeid(), "one nodeid per host inode");
        long b = c.lookup(1, "b").nodeid();
        assertEquals(3, c.fs.inodeCount());
        assertEquals(Integer.MIN_VALUE, c.forget(a, 1).error(), "FORGET has no reply");
        assertEquals(3, c.fs.inodeCount(), "one lookup left");
        c.forget(a, 1);
        assertEquals(2, c.fs.inodeCount());
        assertEquals(-Errno.ESTALE, c.getattr(a).error(), "a forgotten nodeid is stale");
        byte[] batch = le(8 + 32).putInt(2).putInt(0).putLong(b).putLong(Long.MAX_VALUE).putLong(1).putLong(99).array();
        assertEquals(Integer.MIN_VALUE, c.call(Fuse.BATCH_FORGET, 0, batch, null, 0).error());
        assertEquals(1, c.fs.inodeCount(), "the root is never forgotten");
        assertEquals(0, c.getattr(1).error());
    }

    @Test
    void xattrsRoundTripAndAreEnosysWhenOff() throws Exception {
        Files.writeString(share.resolve("x"), "x");
        long node = c.lookup(1, "x").nodeid();
        byte[] set = cat(le(8).putInt(3).putInt(0).array(), z("user.k"), "val".getBytes());
        int e = c.call(Fuse.SETXATTR, node, set, null, 0).error();
        org.junit.jupiter.api.Assumptions.assumeTrue(e != -Errno.EOPNOTSUPP, "the temp filesystem has no user xattrs");
        assertEquals(0, e);
        ChainClient.Reply size = c.call(Fuse.GETXATTR, node, cat(le(8).putInt(0).putInt(0).array(), z("user.k")), null, 8);
        assertEquals(3, size.body().getInt(0));
        ChainClient.Reply v = c.call(Fuse.GETXATTR, node, cat(le(8).putInt(64).putInt(0).array(), z("user.k")), null, 64);
        assertEquals("val", new String(v.body().array(), 0, v.used() - 16));
        assertEquals(-Errno.ERANGE, c.call(Fuse.GETXATTR, node, cat(le(8).putInt(2).putInt(0).array(), z("user.k")), null, 64).error());
        ChainClient.Reply list = c.call(Fuse.LISTXATTR, node, le(8).putInt(256).putInt(0).array(), null, 256);
        assertTrue(new String(list.body().array(), 0, list.used() - 16).contains("user.k"));
        assertEquals(0, c.call(Fuse.REMOVEXATTR, node, z("user.k"), null, 0).error());
        assertEquals(-Errno.ENODATA, c.call(Fuse.GETXATTR, node, cat(le(8).putInt(0).putInt(0).array(), z("user.k")), null, 8).error());
        try (ChainClient off = new ChainClient(share, FsConfig.defaults())) {
            assertEquals(-Errno.ENOSYS, off.call(Fuse.GETXATTR, 1, cat(le(8).putInt(0).putInt(0).array(), z("user.k")), null, 8).error());
        }
    }

    @Test
    void statfsFallocateLseekCopyFileRangeFsyncFlushAccessSyncfs() throws Exception {
        ChainClient.Reply st = c.call(Fuse.STATFS, 1, new byte[0], null, Fuse.STATFS_OUT_SIZE);
        assertEquals(0, st.error());
        assertTrue(st.body().getLong(Fuse.STATFS_BLOCKS_OFFSET) > 0);
        ChainClient.Reply a = c.create(1, "a", Fcntl.O_RDWR, 0644), b = c.create(1, "b", Fcntl.O_RDWR, 0644);
        long an = a.nodeid(), af = a.body().getLong(Fuse.ENTRY_OUT_SIZE), bn = b.nodeid(), bf = b.body().getLong(Fuse.ENTRY_OUT_SIZE);
        assertEquals(0, c.call(Fuse.FALLOCATE, an, le(32).putLong(af).putLong(0).putLong(8192).putInt(0).putInt(0).array(), null, 0).error());
        assertEquals(8192, Files.size(share.resolve("a")));
        c.write(an, af, 0, "hello world".getBytes());
        ChainClient.Reply seek = c.call(Fuse.LSEEK, an, le(24).putLong(af).putLong(0).putInt(Fcntl.SEEK_DATA).putInt(0).array(), null, 8);
        assertEquals(0, seek.error());
        assertEquals(0, seek.body().getLong(0));
        ChainClient.Reply cp = c.call(Fuse.COPY_FILE_RANGE, an, le(56).putLong(af).putLong(0).putLong(bn).putLong(bf).putLong(0).putLong(5).putLong(0).array(), null, 8);
        assertEquals(0, cp.error());
        assertEquals(5, cp.body().getInt(0));
        assertEquals("hello", Files.readString(share.resolve("b")));
        assertEquals(0, c.call(Fuse.FSYNC, an, le(16).putLong(af).putInt(1).putInt(0).array(), null, 0).error());
        assertEquals(0, c.call(Fuse.FLUSH, an, le(24).putLong(af).array(), null, 0).error());
        assertEquals(-Errno.EBADF, c.call(Fuse.FLUSH, bn, le(24).putLong(af).array(), null, 0).error(), "a's handle named with b's nodeid");
        assertEquals(0, c.call(Fuse.ACCESS, an, le(8).putInt(4).putInt(0).array(), null, 0).error());
        assertEquals(0, c.call(Fuse.SYNCFS, 1, le(8).array(), null, 0).error());
        assertEquals(0, c.call(Fuse.DESTROY, 1, new byte[0], null, 0).error());
        assertEquals(1, c.fs.inodeCount());
        assertEquals(0, c.fs.handleCount());
    }

    @Test
    void readonlyRefusesChangesWithErofs() throws Exception {
        Files.writeString(share.resolve("r"), "r");
        try (ChainClient ro = new ChainClient(share, new FsConfig(CacheMode.AUTO, true, false))) {
            assertEquals(-Errno.EROFS, ro.create(1, "n", Fcntl.O_RDWR, 0644).error());
            assertEquals(-Errno.EROFS, ro.mkdir(1, "n", 0755).error());
            long r = ro.lookup(1, "r").nodeid();
            assertEquals(-Errno.EROFS, ro.open(r, Fcntl.O_WRONLY).error());
            assertEquals(-Errno.EROFS, ro.unlink(1, "r").error());
            long fh = ro.open(r, Fcntl.O_RDONLY).body().getLong(0);
            assertEquals("r", new String(ro.read(r, fh, 0, 10).body().array()));
        }
    }

    @Test
    void malformedRequestsFailOnlyThemselves() {
        // in.len larger than the chain
        byte[] h = le(40).putInt(4096).putInt(Fuse.GETATTR).putLong(77).putLong(1).array();
        ChainClient.Reply r = c.raw(h, 64);
        assertEquals(-Errno.EINVAL, r.error());
        assertEquals(77, r.unique());
        // a header shorter than fuse_in_header gets nothing (there is no unique to answer)
        assertEquals(0, c.raw(new byte[20], 64).used());
        // no writable space: nothing written
        assertEquals(0, c.raw(le(40).putInt(40).putInt(Fuse.GETATTR).putLong(78).putLong(1).array(), 0).used());
        // a fixed-size argument cut short
        assertEquals(-Errno.EINVAL, c.call(Fuse.SETATTR, 1, new byte[40], null, Fuse.ATTR_OUT_SIZE).error());
        assertEquals(-Errno.EINVAL, c.call(Fuse.WRITE, 1, ChainClient.rw(5, 0, 1 << 20), new byte[10], 8).error(), "data shorter than size");
        // a reply that does not fit the writable part
        assertEquals(-Errno.EIO, c.call(Fuse.GETATTR, 1, new byte[16], null, 8).error());
        // unknown nodeid and handle
        assertEquals(-Errno.ESTALE, c.getattr(0xdead_0000_0042L).error());
        assertEquals(-Errno.EBADF, c.read(1, 12345, 0, 10).error());
        assertEquals(0, c.getattr(1).error(), "the server still serves");
    }
}
