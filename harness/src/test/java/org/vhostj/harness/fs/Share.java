package org.vhostj.harness.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.function.Executable;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.fuse.FuseClient;
import org.vhostj.harness.fuse.FuseException;
import org.vhostj.harness.fuse.FuseTypes;
import org.vhostj.harness.peers.TempDirs;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fcntl;

/**
 * One escape test's world: a run directory holding {@code shared/} (what the backend serves) and
 * {@code canary/} (what it must never touch), a backend process, one vhost-user session and a FUSE client
 * that has done INIT. Owned by one test; {@link #close} stops and removes everything.
 */
final class Share implements AutoCloseable {
    final FsBackend.Kind kind;
    final Path runDir, shared;
    final Canary canary;
    final FsBackend backend;
    final VhostSession session;
    final FuseClient fc;
    final FuseTypes.InitReply init;

    private Share(FsBackend.Kind kind, Path runDir, Path shared, Canary canary, FsBackend backend, VhostSession session, FuseClient fc,
                  FuseTypes.InitReply init) {
        this.kind = kind;
        this.runDir = runDir;
        this.shared = shared;
        this.canary = canary;
        this.backend = backend;
        this.session = session;
        this.fc = fc;
        this.init = init;
    }

    interface Setup { void prepare(Path runDir, Path shared) throws Exception; }

    /** Plants the canary, lets {@code setup} put host-side files in place, starts {@code kind} and does INIT. */
    static Share start(FsBackend.Kind kind, Setup setup, String... options) throws Exception {
        Path runDir = FsBackend.tempRoot(kind.name().toLowerCase());
        FsBackend backend = null;
        VhostSession session = null;
        try {
            Path shared = Files.createDirectory(runDir.resolve("shared"));
            if (setup != null) setup.prepare(runDir, shared);
            Canary canary = Canary.plant(runDir);
            // ours without a sandbox: its confinement must not rest on one (-Dvhostj.fsacc.escapeSandbox=namespace to try that mode)
            String[] opts = java.util.Arrays.copyOf(options, options.length + 1);
            opts[options.length] = "sandbox=" + System.getProperty("vhostj.fsacc.escapeSandbox", "none");
            backend = FsBackend.start(kind, shared, runDir, opts);
            session = backend.session(16 << 20);
            FuseClient fc = FuseClient.start(session, 1 << 20);
            FuseTypes.InitReply init = fc.init();
            return new Share(kind, runDir, shared, canary, backend, session, fc, init);
        } catch (Throwable t) {
            if (session != null) session.close();
            if (backend != null) backend.close();
            TempDirs.delete(runDir);
            throw t;
        }
    }

    static Share start(FsBackend.Kind kind) throws Exception { return start(kind, null); }

    boolean ours() { return kind.ours(); }

    /**
     * {@code op} fails with an errno. For our daemon the errno must be one of {@code ours}; for the reference
     * any errno passes and a different one is printed (the suite records where virtiofsd 7.2 differs).
     * Returns the errno.
     */
    int expectErrno(String what, Executable op, int... ours) {
        int errno;
        try {
            op.execute();
            if (kind.ours()) fail(kind + ": " + what + " succeeded; expected " + names(ours));
            // the reference is lenient in places (it reads with the handle alone, takes a name up to its
            // first NUL...): recorded, and the canary check at the end decides whether it stayed inside
            System.out.printf("ESCAPE %-9s %-70s -> succeeded   (differs from %s)%n", kind, what, names(ours));
            return 0;
        } catch (FuseException e) {
            errno = e.errno();
            if (errno == 0) fail(kind + ": " + what + ": no errno but a protocol failure: " + e.getMessage());
        } catch (Throwable t) {
            throw new AssertionError(kind + ": " + what + " threw " + t, t);
        }
        boolean listed = Arrays.stream(ours).anyMatch(x -> x == errno);
        if (kind.ours()) {
            assertTrue(listed, kind + ": " + what + " failed with " + Errno.name(errno) + "; expected " + names(ours));
        }
        System.out.printf("ESCAPE %-9s %-70s -> %s%s%n", kind, what, Errno.name(errno), listed ? "" : "   (differs from " + names(ours) + ")");
        return errno;
    }

    /** {@code op} either fails with an errno or succeeds; returns the errno or 0. The canary decides. */
    int errnoOrZero(String what, Executable op) {
        try {
            op.execute();
            System.out.printf("ESCAPE %-9s %-70s -> ok (inside)%n", kind, what);
            return 0;
        } catch (FuseException e) {
            if (e.errno() == 0) fail(kind + ": " + what + ": no errno but a protocol failure: " + e.getMessage());
            System.out.printf("ESCAPE %-9s %-70s -> %s%n", kind, what, Errno.name(e.errno()));
            return e.errno();
        } catch (Throwable t) {
            throw new AssertionError(kind + ": " + what + " threw " + t, t);
        }
    }

    static String names(int... errnos) {
        Set<String> s = new TreeSet<>();
        for (int e : errnos) s.add(Errno.name(e));
        return String.join("|", s);
    }

    /**
     * The end of every escape test: the canary is untouched, the backend is alive, and the same session
     * still serves a good request (create, write, read back, unlink in the root).
     */
    void assertConfinedAndServing(String... allowedNewInRunDir) throws IOException {
        assertTrue(backend.alive(), kind + " exited: " + backend.process.logTail(20));
        FuseTypes.Attr root = fc.getattr(Fuse.ROOT_ID);
        assertEquals(Fcntl.S_IFDIR, root.mode() & Fcntl.S_IFMT);
        assertEquals(Files.getAttribute(shared, "unix:ino"), root.ino(), "the root is the shared directory");
        String name = "alive-" + System.nanoTime();
        byte[] data = ("still serving " + name).getBytes(StandardCharsets.UTF_8);
        FuseTypes.Created c = fc.create(Fuse.ROOT_ID, name, Fcntl.O_RDWR, 0644);
        assertEquals(data.length, fc.write(c.entry().nodeid(), c.fh(), 0, data));
        assertArrayEquals(data, fc.read(c.entry().nodeid(), c.fh(), 0, 4096));
        fc.release(c.entry().nodeid(), c.fh());
        assertArrayEquals(data, Files.readAllBytes(shared.resolve(name)));
        fc.unlink(Fuse.ROOT_ID, name);
        fc.forget(c.entry().nodeid(), 1);
        canary.assertUntouched(allowedNewInRunDir);
    }

    /** The inode number of a host path (not following a final symlink). */
    static long ino(Path p) throws IOException {
        return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void close() throws Exception {
        try {
            fc.close();
            session.close();
        } finally {
            backend.close();
            TempDirs.delete(runDir);
        }
    }
}
