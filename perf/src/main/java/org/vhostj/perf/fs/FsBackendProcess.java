package org.vhostj.perf.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A virtio-fs backend process for the benchmark: QEMU 7.2's C virtiofsd or our {@code org.vhostj.fs.FsDaemon}
 * (started on this JVM's class path), sharing one directory. Owned by the benchmark's thread; {@link #close}
 * stops it by its pid (SIGTERM, then SIGKILL).
 */
final class FsBackendProcess implements AutoCloseable {
    static final String VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
    static final String OUR_MAIN = "org.vhostj.fs.FsDaemon";

    enum Kind { OURS, VIRTIOFSD }

    final Kind kind;
    final Path socket, log;
    private final Process process;

    private FsBackendProcess(Kind kind, Path socket, Path log, Process process) {
        this.kind = kind;
        this.socket = socket;
        this.log = log;
        this.process = process;
    }

    static List<String> command(Kind kind, Path socket, Path shared, List<String> extra) {
        List<String> cmd = new ArrayList<>();
        if (kind == Kind.VIRTIOFSD) {
            cmd.addAll(List.of(VIRTIOFSD, "--socket-path=" + socket, "-o", "source=" + shared, "-o", "cache=auto", "-o", "sandbox=chroot"));
        } else {
            String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), OUR_MAIN,
                    "--socket-path", socket.toString(), "--shared-dir", shared.toString(), "--cache", "auto"));
        }
        cmd.addAll(extra);
        return cmd;
    }

    /** Starts {@code kind} and waits (up to 20 s) for its socket. */
    static FsBackendProcess start(Kind kind, Path shared, Path runDir, List<String> extra) throws IOException, InterruptedException {
        Path socket = runDir.resolve(kind.name().toLowerCase() + ".sock");
        Path log = runDir.resolve(kind.name().toLowerCase() + ".log");
        Files.deleteIfExists(socket);
        Process p = new ProcessBuilder(command(kind, socket, shared, extra)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        FsBackendProcess b = new FsBackendProcess(kind, socket, log, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                b.close();
                throw new IllegalStateException(kind + " did not listen on " + socket + "; log:\n" + tail(log));
            }
            Thread.sleep(10);
        }
        return b;
    }

    long pid() { return process.pid(); }

    boolean alive() { return process.isAlive(); }

    static String tail(Path log) {
        try {
            List<String> l = Files.readAllLines(log);
            return String.join("\n", l.subList(Math.max(0, l.size() - 15), l.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
