package org.vhostj.vhost.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A device daemon as a real process: this JVM's java and class path, a main class and its arguments,
 * stderr kept in a file. Owns the process and kills it on close. For the lifecycle tests (signals, exit
 * codes, systemd protocols, metrics) that only a separate process can show.
 */
public final class DaemonProcess implements AutoCloseable {
    public final Process process;
    public final Path log;

    private DaemonProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** The command line that runs {@code mainClass} with this JVM's class path. */
    public static List<String> javaCommand(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /** Starts {@code command} with {@code extraEnv}; stderr and stdout go to {@code log}. */
    public static DaemonProcess start(List<String> command, Map<String, String> extraEnv, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(extraEnv);
        return new DaemonProcess(pb.start(), log);
    }

    /** Runs {@code command} to completion (bounded); returns the exit status. */
    public static int run(List<String> command, Path log, long timeoutSeconds) throws Exception {
        try (DaemonProcess p = start(command, Map.of(), log)) {
            if (!p.process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) throw new AssertionError("did not exit within " + timeoutSeconds + " s: " + command);
            return p.process.exitValue();
        }
    }

    /** Waits until {@code socket} exists (the daemon listens), failing with the daemon's log otherwise. */
    public void awaitSocket(Path socket, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(socket)) {
            if (!process.isAlive()) throw new AssertionError("daemon exited with " + process.exitValue() + ":\n" + logText());
            if (System.nanoTime() > deadline) throw new AssertionError("no socket " + socket + " after " + timeout + ":\n" + logText());
            Thread.sleep(20);
        }
    }

    /** Sends a signal by pid (never by name). */
    public void signal(String name) throws Exception {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    /** Waits for the exit status (bounded). */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) throw new AssertionError("daemon still running after " + timeout + ":\n" + logText());
        return process.exitValue();
    }

    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Waits until the daemon answers HTTP on {@code port} (its metrics endpoint starts just after the socket). */
    public void awaitHttp(int port, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                httpGet(port, "/healthz");
                return;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) throw new AssertionError("no HTTP on " + port + ":\n" + logText(), e);
                Thread.sleep(20);
            }
        }
    }

    /** A TCP port free right now on 127.0.0.1. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** GET http://127.0.0.1:PORT/PATH: [status, body]. */
    public static HttpResponse<String> httpGet(int port, String path) throws Exception {
        try (HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try { process.waitFor(5, TimeUnit.SECONDS); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }
}
