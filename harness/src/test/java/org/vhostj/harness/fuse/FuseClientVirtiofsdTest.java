package org.vhostj.harness.fuse;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.Virtiofsd;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fcntl;
import org.vhostj.vhost.testing.HostPackages;

/**
 * The FUSE client against the C virtiofsd: what it does through FUSE, the host sees, and back. virtiofsd
 * serves one connection and exits, so each test starts its own.
 */
class FuseClientVirtiofsdTest {
    Virtiofsd vfsd;

    @BeforeEach
    void start() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        vfsd = Virtiofsd.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (vfsd != null) vfsd.close();
    }

    VhostSession session() {
        return VhostSession.open(new VhostSession.Options(vfsd.socket, 5000, 0, new RingConfig(128, false, 0), VhostSession.Toggle.AUTO,
                2, 8 << 20, false, VhostSession.MemoryMode.AUTO, true, 0));
    }

    @Test
    void mountCreateWriteReadBackListAndDeleteMatchTheHost() throws Exception {
        try (VhostSession s = session(); FuseClient fc = FuseClient.start(s, 1 << 20)) {
            FuseTypes.InitReply init = fc.init();
            assertEquals(Fuse.KERNEL_VERSION, init.major());
            assertTrue(init.minor() >= 27, "minor " + init.minor());

            byte[] hello = "Hello from vhost-harness\n".getBytes(StandardCharsets.UTF_8);
            FuseTypes.Created c = fc.create(Fuse.ROOT_ID, "hello.txt", Fcntl.O_RDWR, 0644);
            assertEquals(hello.length, fc.write(c.entry().nodeid(), c.fh(), 0, hello));
            fc.flush(c.entry().nodeid(), c.fh());
            fc.release(c.entry().nodeid(), c.fh());
            assertArrayEquals(hello, Files.readAllBytes(vfsd.shared.resolve("hello.txt")), "the host sees what was written");

            // a bigger file, in chunks, written on the host side and read through FUSE
            byte[] big = new byte[3 << 20];
            new Random(5).nextBytes(big);
            Files.write(vfsd.shared.resolve("big.bin"), big);
            FuseTypes.Entry e = fc.lookup(Fuse.ROOT_ID, "big.bin");
            assertEquals(big.length, fc.getattr(e.nodeid()).size());
            long fh = fc.open(e.nodeid(), Fcntl.O_RDONLY);
            byte[] back = new byte[big.length];
            for (int off = 0; off < big.length; off += 1 << 20) {
                byte[] part = fc.read(e.nodeid(), fh, off, 1 << 20);
                System.arraycopy(part, 0, back, off, part.length);
            }
            assertArrayEquals(big, back);
            assertEquals(0, fc.read(e.nodeid(), fh, big.length, 4096).length, "read at EOF is empty");
            fc.release(e.nodeid(), fh);

            // and written through FUSE, checked on the host
            byte[] big2 = new byte[2 << 20];
            new Random(6).nextBytes(big2);
            FuseTypes.Created c2 = fc.create(Fuse.ROOT_ID, "big2.bin", Fcntl.O_RDWR, 0600);
            int chunk = fc.maxWrite();
            for (int off = 0; off < big2.length; off += chunk) {
                int n = Math.min(chunk, big2.length - off);
                assertEquals(n, fc.write(c2.entry().nodeid(), c2.fh(), off, Arrays.copyOfRange(big2, off, off + n)));
            }
            fc.release(c2.entry().nodeid(), c2.fh());
            assertArrayEquals(big2, Files.readAllBytes(vfsd.shared.resolve("big2.bin")));

            long dh = fc.opendir(Fuse.ROOT_ID);
            var names = fc.readdirplus(Fuse.ROOT_ID, dh, 0, 64 * 1024).stream().map(FuseTypes.DirEntryPlus::name).toList();
            fc.releasedir(Fuse.ROOT_ID, dh);
            assertTrue(names.containsAll(java.util.List.of("hello.txt", "big.bin", "big2.bin")), names.toString());

            for (String n : new String[] {"hello.txt", "big.bin", "big2.bin"}) {
                fc.unlink(Fuse.ROOT_ID, n);
                assertFalse(Files.exists(vfsd.shared.resolve(n)), n + " is gone on the host");
            }
            fc.forget(c.entry().nodeid(), 1);
            fc.forget(e.nodeid(), 1);
            fc.forget(c2.entry().nodeid(), 1);

            FuseException missing = assertThrows(FuseException.class, () -> fc.lookup(Fuse.ROOT_ID, "hello.txt"));
            assertEquals(Errno.ENOENT, missing.errno());
            assertTrue(missing.getMessage().startsWith("FUSE_LOOKUP: ENOENT"), missing.getMessage());
            assertTrue(vfsd.process.alive());
        }
    }

    /** raw() sends bytes as given: a hand-built GETATTR of the root comes back as a well-formed reply. */
    @Test
    void rawRequestBytesReachTheServerUnchanged() throws Exception {
        try (VhostSession s = session(); FuseClient fc = FuseClient.start(s, 64 * 1024)) {
            fc.init();
            long unique = fc.nextUnique();
            java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(Fuse.IN_HEADER_SIZE + Fuse.GETATTR_IN_SIZE).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            in.putInt(Fuse.IN_HEADER_SIZE + Fuse.GETATTR_IN_SIZE).putInt(Fuse.GETATTR).putLong(unique).putLong(Fuse.ROOT_ID);
            byte[] out = fc.raw(in.array(), Fuse.OUT_HEADER_SIZE + Fuse.ATTR_OUT_SIZE, false);
            java.nio.ByteBuffer o = java.nio.ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(Fuse.OUT_HEADER_SIZE + Fuse.ATTR_OUT_SIZE, out.length);
            assertEquals(out.length, o.getInt(Fuse.OUT_LEN_OFFSET));
            assertEquals(0, o.getInt(Fuse.OUT_ERROR_OFFSET));
            assertEquals(unique, o.getLong(Fuse.OUT_UNIQUE_OFFSET));
            assertEquals(Fcntl.S_IFDIR, o.getInt(Fuse.OUT_HEADER_SIZE + Fuse.ATTR_OUT_ATTR_OFFSET + Fuse.ATTR_MODE_OFFSET) & Fcntl.S_IFMT);
        }
    }

    @Test
    void mkdirAndRmdirShowOnTheHost() throws Exception {
        try (VhostSession s = session(); FuseClient fc = FuseClient.start(s, 64 * 1024)) {
            fc.init();
            FuseTypes.Entry d = fc.mkdir(Fuse.ROOT_ID, "sub", 0755);
            assertTrue(Files.isDirectory(vfsd.shared.resolve("sub")));
            assertEquals(Fcntl.S_IFDIR, d.attr().mode() & Fcntl.S_IFMT);
            fc.rmdir(Fuse.ROOT_ID, "sub");
            assertFalse(Files.exists(vfsd.shared.resolve("sub")));
            fc.forget(d.nodeid(), 1);
        }
    }
}
