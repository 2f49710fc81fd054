package org.vhostj.harness.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.PeerProcess;
import org.vhostj.harness.peers.Virtiofsd;
import org.vhostj.vhost.testing.HostPackages;

/**
 * A virtio-fs backend process serving {@code shared} on {@code socket} for one test: QEMU 7.2's C
 * virtiofsd (the reference) or our {@code org.vhostj.fs.FsDaemon}. The test owns it; {@link #close}
 * stops the process by its pid. Each backend serves one front-end connection (virtiofsd exits when it
 * leaves), so a test starts one per session.
 */
final class FsBackend implements AutoCloseable {
    /** The two implementations the fs acceptance suite runs against. */
    enum Kind {
        VIRTIOFSD, OURS;

        boolean ours() { return this == OURS; }
    }

    final Kind kind;
    final Path shared, socket;
    final PeerProcess process;

    private FsBackend(Kind kind, Path shared, Path socket, PeerProcess process) {
        this.kind = kind;
        this.shared = shared;
        this.socket = socket;
        this.process = process;
    }

    /**
     * Starts {@code kind} sharing {@code shared}, with its socket and log in {@code runDir}. Extra
     * options ({@code xattr}, {@code readonly}, {@code threads=N} (thread pool size, default 0), {@code sandbox=MODE}
     * for ours; default namespace) are
     * given by name and translated per backend.
     * Skips the test (assumption) when our daemon is not on the class path yet.
     */
    static FsBackend start(Kind kind, Path shared, Path runDir, String... options) throws IOException, InterruptedException {
        Path socket = runDir.resolve(kind.name().toLowerCase() + ".sock");
        Path log = runDir.resolve(kind.name().toLowerCase() + ".log");
        List<String> opts = List.of(options);
        List<String> cmd = new ArrayList<>();
        String threads = valueOf(opts, "threads", "0");
        if (kind == Kind.VIRTIOFSD) {
            HostPackages.require(Virtiofsd.BINARY, "qemu-system-common");
            cmd.addAll(List.of(Virtiofsd.BINARY, "--socket-path=" + socket, "-o", "source=" + shared, "-o", "cache=auto",
                    "-o", "sandbox=chroot", "--thread-pool-size=" + threads));
            if (opts.contains("xattr")) cmd.addAll(List.of("-o", "xattr"));
            if (opts.contains("readonly")) cmd.addAll(List.of("-o", "readonly"));
        } else {
            Assumptions.assumeTrue(OurFsDaemon.available(), "org.vhostj.fs.FsDaemon is not on the class path yet (branch fs)");
            cmd.addAll(OurFsDaemon.command(socket, shared));
            if (opts.contains("xattr")) cmd.add("--xattr");
            if (opts.contains("readonly")) cmd.add("--readonly");
            // the escape suite runs ours without a sandbox: its confinement must not rest on one
            String sandbox = valueOf(opts, "sandbox", "namespace");
            cmd.addAll(List.of("--sandbox", sandbox, "--thread-pool-size", threads));
        }
        List<String> shown = cmd.stream().map(a -> a.length() > 120 ? a.substring(0, 40) + "..." : a).toList();
        System.out.println("BACKEND " + kind + ": " + String.join(" ", shown));
        return new FsBackend(kind, shared, socket, PeerProcess.start(kind.name().toLowerCase(), socket, log, cmd));
    }

    /** The value of option {@code name=VALUE} among {@code opts}, or {@code otherwise}. */
    private static String valueOf(List<String> opts, String name, String otherwise) {
        return opts.stream().filter(o -> o.startsWith(name + "=")).map(o -> o.substring(name.length() + 1)).findFirst().orElse(otherwise);
    }

    /** A session as the harness's fs tests use it: 128-entry split rings, 2 queues, memfd guest RAM. */
    VhostSession session(long guestRamBytes) {
        return VhostSession.open(new VhostSession.Options(socket, 5000, 0, new RingConfig(128, false, 0), VhostSession.Toggle.AUTO,
                2, guestRamBytes, false, VhostSession.MemoryMode.AUTO, true, 0));
    }

    boolean alive() { return process.alive(); }

    @Override
    public String toString() { return kind.name().toLowerCase(); }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }

    static Path tempRoot(String what) throws IOException {
        return Files.createTempDirectory("vhostj-fsacc-" + what);
    }
}
