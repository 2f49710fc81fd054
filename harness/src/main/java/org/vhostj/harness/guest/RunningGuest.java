package org.vhostj.harness.guest;

import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A started QEMU guest. Owns the QEMU process, the console reader thread, the per-run directory (the
 * initrd copy) and a shutdown hook that kills QEMU if the JVM exits first; {@link #close()} releases
 * all of them (QEMU is killed by its process handle if it still runs). Created by
 * {@link QemuGuest#start()}; its methods may be called from any thread.
 *
 * <p>The console reader thread removes CRs and terminal escapes, appends each line to the console log,
 * records the markers /init prints (VHOSTJ-BOOTED, VHOSTJ-RESULT rc=N) and the RESULT lines, then
 * hands the line to the listener given to {@link QemuGuest#onConsoleLine}.
 */
public final class RunningGuest implements AutoCloseable {
    private static final Pattern ESCAPES = Pattern.compile("\u001b(\\[[0-9;?]*[A-Za-z]|c)|\r");
    private static final Pattern BOOTED = Pattern.compile("^VHOSTJ-BOOTED uptime=([0-9.]+)");
    private static final Pattern RESULT = Pattern.compile("^VHOSTJ-RESULT rc=(\\d+)");
    private static final Duration TERM_GRACE = Duration.ofSeconds(5);

    private final Process qemu;
    private final List<String> commandLine;
    private final Path runDir;
    private final Path consoleLog;
    private final Consumer<String> listener;
    private final long startNanos;
    private final long deadlineNanos;
    private final Thread reader;
    private final Thread shutdownHook;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private final List<String> lines = new ArrayList<>();
    private final List<String> resultLines = new ArrayList<>();
    private long bootNanos = -1;
    private double bootUptimeSeconds = -1;
    private int exitCode = -1;
    private boolean consoleClosed;
    private long endNanos = -1;
    private boolean timedOut;
    private RuntimeException listenerFailure;
    private boolean closed;

    private RunningGuest(Process qemu, List<String> commandLine, Path runDir, Path consoleLog,
                         Consumer<String> listener, long startNanos, Duration timeout) {
        this.qemu = qemu;
        this.commandLine = List.copyOf(commandLine);
        this.runDir = runDir;
        this.consoleLog = consoleLog;
        this.listener = listener;
        this.startNanos = startNanos;
        this.deadlineNanos = startNanos + timeout.toNanos();
        this.reader = Thread.ofPlatform().daemon().name("guest-console-" + qemu.pid()).unstarted(this::readConsole);
        this.shutdownHook = Thread.ofPlatform().unstarted(qemu::destroyForcibly);
    }

    static RunningGuest start(List<String> command, Path runDir, Path consoleLog, Consumer<String> listener,
                              Duration timeout) throws IOException {
        Files.writeString(consoleLog, "# " + String.join(" ", command) + "\n", StandardCharsets.UTF_8);
        long start = System.nanoTime();
        // stdin from /dev/null: QEMU's -nographic console must not read the caller's terminal
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        RunningGuest guest = new RunningGuest(p, command, runDir, consoleLog, listener, start, timeout);
        Runtime.getRuntime().addShutdownHook(guest.shutdownHook);
        guest.reader.start();
        return guest;
    }

    /** QEMU's process id. */
    public long pid() {
        return qemu.pid();
    }

    public List<String> commandLine() {
        return commandLine;
    }

    public Path consoleLog() {
        return consoleLog;
    }

    public boolean isAlive() {
        return qemu.isAlive();
    }

    /** Console lines so far. */
    public List<String> lines() {
        lock.lock();
        try {
            return List.copyOf(lines);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The first console line since boot that {@code match} accepts, waiting up to {@code timeout}.
     * Throws TimeoutException if none came in time or the console closed (QEMU ended) without one.
     */
    public String awaitLine(Predicate<String> match, Duration timeout) throws TimeoutException, InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        lock.lock();
        try {
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (match.test(lines.get(seen))) return lines.get(seen);
                }
                if (consoleClosed) throw new TimeoutException("guest console closed without the awaited line; see " + consoleLog);
                long left = until - System.nanoTime();
                if (left <= 0) throw new TimeoutException("no awaited console line within " + timeout + "; see " + consoleLog);
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits for QEMU to exit (the guest powers off after its script) or the run's timeout, then the result. */
    public GuestResult await() throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (!qemu.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
            lock.lock();
            try {
                timedOut = true;
            } finally {
                lock.unlock();
            }
            kill();
        }
        reader.join(TERM_GRACE.toMillis());
        return result();
    }

    /** The result as it stands (complete after {@link #await()}). */
    public GuestResult result() {
        lock.lock();
        try {
            long end = endNanos >= 0 ? endNanos : System.nanoTime();
            return new GuestResult(exitCode, timedOut, qemu.isAlive() ? -1 : qemu.exitValue(), List.copyOf(resultLines),
                    consoleLog, bootNanos < 0 ? -1 : (bootNanos - startNanos) / 1_000_000, bootUptimeSeconds,
                    (end - startNanos) / 1_000_000, commandLine, listenerFailure);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Kills QEMU if it still runs (SIGTERM, then SIGKILL after 5 s), waits for the console, deletes the
     * run directory. If interrupted, QEMU gets SIGKILL at once and the interrupt flag stays set.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
        } finally {
            lock.unlock();
        }
        try {
            kill();
            reader.join(TERM_GRACE.toMillis());
        } catch (InterruptedException e) {
            qemu.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs anyway
        }
        try {
            GuestImage.deleteTree(runDir);
        } catch (IOException e) {
            // a leftover temp directory is not worth failing a test for
        }
    }

    private void kill() throws InterruptedException {
        if (!qemu.isAlive()) return;
        qemu.destroy();
        if (!qemu.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
            qemu.destroyForcibly();
            qemu.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void readConsole() {
        try (InputStream in = qemu.getInputStream();
             BufferedWriter log = Files.newBufferedWriter(consoleLog, StandardCharsets.UTF_8,
                     java.nio.file.StandardOpenOption.APPEND)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        deliver(line.toString(StandardCharsets.UTF_8), log);
                        line.reset();
                    } else {
                        line.write(buf[i]);
                    }
                }
            }
            if (line.size() > 0) deliver(line.toString(StandardCharsets.UTF_8), log);
        } catch (IOException e) {
            // QEMU ended or was killed: the console is over
        } finally {
            lock.lock();
            try {
                consoleClosed = true;
                endNanos = System.nanoTime();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void deliver(String raw, BufferedWriter log) throws IOException {
        String text = ESCAPES.matcher(raw).replaceAll("");
        log.write(text);
        log.newLine();
        log.flush();
        lock.lock();
        try {
            lines.add(text);
            Matcher m;
            if (bootNanos < 0 && (m = BOOTED.matcher(text)).find()) {
                bootNanos = System.nanoTime();
                bootUptimeSeconds = Double.parseDouble(m.group(1));
            } else if (exitCode < 0 && (m = RESULT.matcher(text)).find()) {
                exitCode = Integer.parseInt(m.group(1));
            } else if (text.startsWith("RESULT ")) {
                resultLines.add(text);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            listener.accept(text);
        } catch (RuntimeException e) {
            lock.lock();
            try {
                if (listenerFailure == null) listenerFailure = e;
            } finally {
                lock.unlock();
            }
        }
    }
}
