package org.vhostj.harness.blk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Our vhost-user-blk daemon ({@code org.vhostj.blk.BlkDaemon}) as a separate process, started with this
 * JVM's java and class path, logging to a file. Stopped by its own pid: {@link #close()} sends SIGTERM (a
 * graceful stop) and waits; {@link #kill()} sends SIGKILL.
 */
final class BlkDaemonProcess implements AutoCloseable {
    final Process process;
    final Path socket, log;

    private BlkDaemonProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** Starts the daemon with {@code args} (besides --socket) and waits up to 30 s for its socket. */
    static BlkDaemonProcess start(Path socket, Path log, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=4",
                "-cp", System.getProperty("java.class.path"), "org.vhostj.blk.BlkDaemon", "--socket", socket.toString()));
        cmd.addAll(List.of(args));
        Files.deleteIfExists(socket);
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        BlkDaemonProcess d = new BlkDaemonProcess(p, socket, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                d.kill();
                throw new IllegalStateException("vhost-user-blk did not create " + socket + "; log:\n" + Files.readString(log));
            }
            Thread.sleep(20);
        }
        return d;
    }

    long pid() { return process.pid(); }

    /** SIGKILL, and wait for the process to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM (graceful: requests in flight complete, the image is flushed); SIGKILL after 15 s. Returns the exit code. */
    int stop() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) kill();
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException { stop(); }
}
