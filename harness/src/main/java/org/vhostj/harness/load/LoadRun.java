package org.vhostj.harness.load;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a set of queue workers to the end: starts them, prints a progress line each second (ops/s and
 * MB/s of the last second), stops them on Ctrl-C (the report is still printed) or when they overrun their
 * runtime by the grace period. Used by the control thread of a run.
 */
public final class LoadRun {
    private LoadRun() {}

    /** The final report may take this long to print after Ctrl-C before the JVM exits anyway. */
    private static final long INTERRUPT_GRACE_MILLIS = 10_000;

    /** A run that can be interrupted: the hook stops the workers and waits for {@link #done()}. */
    public static final class Interruption implements AutoCloseable {
        private final CountDownLatch reported = new CountDownLatch(1);
        private final Thread hook;
        private volatile List<QueueWorker> workers = List.of();
        private volatile boolean interrupted;

        public Interruption() {
            hook = new Thread(() -> {
                interrupted = true;
                for (QueueWorker w : workers) w.requestStop();
                try { reported.await(INTERRUPT_GRACE_MILLIS, TimeUnit.MILLISECONDS); } catch (InterruptedException ignored) { /* exit */ }
            }, "harness-interrupt");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        void watch(List<QueueWorker> w) { workers = w; }

        public boolean interrupted() { return interrupted; }

        /** The report is out: let the JVM exit. */
        public void done() { reported.countDown(); }

        @Override
        public void close() {
            done();
            try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException ignored) { /* shutting down */ }
        }
    }

    /**
     * Starts {@code workers} and returns when all have ended. {@code progress} null: no progress lines.
     * {@code deadlineMillis}: stop them if they still run this long after the start (0: no limit).
     */
    public static void run(List<QueueWorker> workers, PrintStream progress, long deadlineMillis, Interruption interruption)
            throws InterruptedException {
        if (interruption != null) interruption.watch(workers);
        for (QueueWorker w : workers) w.start();
        long start = System.nanoTime(), lastOps = 0, lastBytes = 0, tick = start;
        boolean stopSent = false;
        while (true) {
            boolean alive = false;
            long next = tick + TimeUnit.SECONDS.toNanos(1);
            for (QueueWorker w : workers) {
                long wait = TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime());
                if (wait > 0) w.joinFor(wait);
                alive |= w.alive();
            }
            if (!alive) break;
            long now = System.nanoTime();
            if (now >= next) {
                long ops = 0, bytes = 0;
                for (QueueWorker w : workers) {
                    ops += w.stats().ops.getAcquire();
                    bytes += w.stats().bytes.getAcquire();
                }
                double dt = (now - tick) / 1e9;
                if (progress != null) {
                    progress.printf(Locale.ROOT, "[%4ds] %10.1f ops/s %9.1f MB/s%n", TimeUnit.NANOSECONDS.toSeconds(now - start),
                            (ops - lastOps) / dt, (bytes - lastBytes) / dt / 1e6);
                }
                lastOps = ops;
                lastBytes = bytes;
                tick = now;
            }
            if (!stopSent && deadlineMillis > 0 && now - start > TimeUnit.MILLISECONDS.toNanos(deadlineMillis)) {
                for (QueueWorker w : workers) w.requestStop();
                stopSent = true;
            }
        }
    }

    /** Seconds between the first timed request and the last timed completion over all queues. */
    public static double timedSeconds(List<QueueStats> stats) {
        long start = Long.MAX_VALUE, end = 0;
        for (QueueStats s : stats) {
            if (s.timedStartNanos != 0) start = Math.min(start, s.timedStartNanos);
            end = Math.max(end, s.timedEndNanos);
        }
        return start == Long.MAX_VALUE || end <= start ? 1e-9 : (end - start) / 1e9;
    }
}
