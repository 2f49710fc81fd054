package org.vhostj.harness.load;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * What one queue worker measured. The worker alone writes; the progress reporter reads {@link #ops} and
 * {@link #bytes} while the run goes on (release/acquire counters, no locks); everything else is read after
 * the worker has ended. Request classes (read/write, TX/RX, FUSE opcodes) are kept apart by index.
 */
public final class QueueStats {
    /** Latencies up to a minute, 3 significant digits. */
    static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

    public final int queueIndex;
    public final AtomicLong ops = new AtomicLong(), bytes = new AtomicLong();
    public final long[] opsOf, bytesOf;
    public final Histogram[] latency;
    /** Requests the backend completed with an error status. */
    public long errors;
    /** Data read back that differs from what was written (or frames that came back altered). */
    public long mismatches;
    /** Blocks (or frames, files) whose content was checked. */
    public long verified;
    /** Used lengths that differ from what the request type implies. */
    public long usedLengthMismatches;
    /** Invalid used-ring contents (the ring's own count, copied at the end). */
    public long ringViolations;
    /** The call fd stayed silent although interrupts were enabled and completions were waiting. */
    public long missedNotifications;
    public long interrupts, kicks, kicksSuppressed;
    /** Requests still in flight when the worker gave up waiting for them. */
    public long lost;
    /** First problems seen, for the report (bounded). */
    public final List<String> problems = new ArrayList<>();
    /** Why the worker stopped early, or null. */
    public String aborted;
    /** System.nanoTime of the first timed request and of the last timed completion (0: none). */
    public long timedStartNanos, timedEndNanos;

    public QueueStats(int queueIndex) { this(queueIndex, 2); }

    /** Stats with {@code kinds} classes of requests (read/write, tx/rx, or one per FUSE opcode). */
    public QueueStats(int queueIndex, int kinds) {
        this.queueIndex = queueIndex;
        opsOf = new long[kinds];
        bytesOf = new long[kinds];
        latency = new Histogram[kinds];
        for (int k = 0; k < kinds; k++) latency[k] = new Histogram(MAX_LATENCY_NANOS, 3);
    }

    /** Records one completed request of {@code kind} (0 or 1). Data path: no allocation, no lock. */
    void complete(int kind, long lengthBytes, long latencyNanos, long nowNanos) {
        timedEndNanos = nowNanos;
        opsOf[kind]++;
        bytesOf[kind] += lengthBytes;
        latency[kind].recordValue(Math.min(Math.max(latencyNanos, 0), MAX_LATENCY_NANOS));
        ops.setRelease(ops.getPlain() + 1);
        bytes.setRelease(bytes.getPlain() + lengthBytes);
    }

    /** Marks the start of the timed phase (the first timed request). */
    void startTimed(long nowNanos) {
        if (timedStartNanos == 0) timedStartNanos = nowNanos;
    }

    /** Notes a problem for the report; only the first few are kept (the counters have the totals). */
    void problem(String what) {
        if (problems.size() < 20) problems.add("queue " + queueIndex + ": " + what);
    }
}
