package org.vhostj.vhost.daemon;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Counters of one queue. Written only by the queue's worker thread (single writer: a plain add published
 * with an opaque store, no atomics on the data path), read by any thread (metrics scrapes) with opaque loads.
 * Counts survive reconnects: they describe the daemon's lifetime.
 */
public final class QueueMetrics {
    /** Latency buckets: upper bounds in nanoseconds, powers of two from 1 us to ~1 s, then +Inf. */
    public static final long[] LATENCY_BOUNDS_NANOS = new long[21];
    static {
        for (int i = 0; i < LATENCY_BOUNDS_NANOS.length; i++) LATENCY_BOUNDS_NANOS[i] = 1000L << i;
    }

    private static final VarHandle LONG_ARRAY = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int REQUESTS = 0, ERRORS = 1, BYTES = 2, KICKS = 3, INTERRUPTS = 4, SUPPRESSED = 5,
            LATENCY_SUM = 6, COUNTERS = 7;

    private final int queueIndex;
    // padded so two queues' hot counters do not share a cache line
    private final long[] counters = new long[COUNTERS + 8];
    private final long[] latencyBuckets = new long[LATENCY_BOUNDS_NANOS.length + 1];
    private volatile int inflight;

    public QueueMetrics(int queueIndex) { this.queueIndex = queueIndex; }

    public int queueIndex() { return queueIndex; }

    private void add(int counter, long delta) {
        LONG_ARRAY.setOpaque(counters, counter, counters[counter] + delta);
    }

    private long read(int counter) { return (long) LONG_ARRAY.getOpaque(counters, counter); }

    void request() { add(REQUESTS, 1); }
    void error() { add(ERRORS, 1); }
    void bytes(long n) { add(BYTES, n); }
    void kick() { add(KICKS, 1); }
    void interrupt() { add(INTERRUPTS, 1); }
    void suppressed() { add(SUPPRESSED, 1); }
    void inflight(int n) { inflight = n; }

    void latency(long nanos) {
        add(LATENCY_SUM, nanos);
        int b = 0;
        while (b < LATENCY_BOUNDS_NANOS.length && nanos > LATENCY_BOUNDS_NANOS[b]) b++;
        LONG_ARRAY.setOpaque(latencyBuckets, b, latencyBuckets[b] + 1);
    }

    public long requests() { return read(REQUESTS); }
    public long errors() { return read(ERRORS); }
    public long bytes() { return read(BYTES); }
    public long kicks() { return read(KICKS); }
    public long interrupts() { return read(INTERRUPTS); }
    /** Used-ring updates after which EVENT_IDX (or NO_INTERRUPT) told us the driver needed no interrupt. */
    public long suppressedInterrupts() { return read(SUPPRESSED); }
    public int inflight() { return inflight; }
    public long latencySumNanos() { return read(LATENCY_SUM); }

    /** Per-bucket counts (not cumulative); the last bucket is +Inf. */
    public long[] latencyBuckets() {
        long[] out = new long[latencyBuckets.length];
        for (int i = 0; i < out.length; i++) out[i] = (long) LONG_ARRAY.getOpaque(latencyBuckets, i);
        return out;
    }
}
