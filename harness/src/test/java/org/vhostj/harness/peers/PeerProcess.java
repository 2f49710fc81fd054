package org.vhostj.harness.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A reference backend (qemu-storage-daemon, virtiofsd, dpdk-testpmd) started by a test: waits for its
 * socket, keeps its log, and is stopped by its own pid (SIGTERM, then SIGKILL) when closed.
 */
public final class PeerProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;

    private PeerProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code cmd}, logging to {@code log}, and waits up to 20 s for {@code socket} to appear. */
    public static PeerProcess start(String name, Path socket, Path log, List<String> cmd) throws IOException, InterruptedException {
        Files.deleteIfExists(socket);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        PeerProcess peer = new PeerProcess(name, p, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String tail = peer.logTail(20);
                peer.close();
                throw new IllegalStateException(name + " did not create " + socket + " (exit " + (p.isAlive() ? "none" : p.exitValue()) + "); log:\n" + tail);
            }
            Thread.sleep(20);
        }
        return peer;
    }

    public long pid() { return process.pid(); }

    public boolean alive() { return process.isAlive(); }

    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public Path log() { return log; }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();   // SIGTERM to this pid only
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                System.err.println(name + " (pid " + pid() + ") ignored SIGTERM; SIGKILL");
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
