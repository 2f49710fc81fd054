package org.vhostj.harness.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The result of a run: per direction (read/write, tx/rx, or fs operation classes) operation counts, rates
 * and latency percentiles, the correctness counters, backend CPU, and the first problems seen. Renders as
 * a summary table or as JSON. Built by the run's control thread after its workers ended.
 */
public final class RunReport {
    private final String device;
    private final Map<String, Object> config;
    private final String[] kinds;
    private final List<QueueStats> queues;
    private final double elapsedSeconds;
    private final double backendCpuSeconds;
    private final Map<String, Object> extra = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();

    public RunReport(String device, Map<String, Object> config, String[] kinds, List<QueueStats> queues,
                     double elapsedSeconds, double backendCpuSeconds) {
        this.device = device;
        this.config = config;
        this.kinds = kinds;
        this.queues = queues;
        this.elapsedSeconds = elapsedSeconds;
        this.backendCpuSeconds = backendCpuSeconds;
        for (QueueStats q : queues) {
            problems.addAll(q.problems);
            if (q.aborted != null) problems.add("queue " + q.queueIndex + " stopped early: " + q.aborted);
        }
    }

    /** A device-specific figure for the report (drops, files, ...). */
    public RunReport put(String key, Object value) {
        extra.put(key, value);
        return this;
    }

    public RunReport problem(String what) {
        problems.add(what);
        return this;
    }

    public long ops(int kind) { return queues.stream().mapToLong(q -> q.opsOf[kind]).sum(); }

    public long bytes(int kind) { return queues.stream().mapToLong(q -> q.bytesOf[kind]).sum(); }

    public long totalOps() {
        long n = 0;
        for (int k = 0; k < kinds.length; k++) n += ops(k);
        return n;
    }

    public long totalBytes() {
        long n = 0;
        for (int k = 0; k < kinds.length; k++) n += bytes(k);
        return n;
    }

    /** Seconds the measured part of the run took. */
    public double elapsedSeconds() { return elapsedSeconds; }

    /** Requests of every kind per second. */
    public double opsPerSecond() { return elapsedSeconds > 0 ? totalOps() / elapsedSeconds : 0; }

    /** Latency of {@code kind} at {@code percentile}, in microseconds (0 if that kind did nothing). */
    public double latencyMicros(int kind, double percentile) { return ops(kind) == 0 ? 0 : us(merged(kind), percentile); }

    public long errors() { return sum(q -> q.errors); }

    public long mismatches() { return sum(q -> q.mismatches); }

    public long verified() { return sum(q -> q.verified); }

    public long lost() { return sum(q -> q.lost); }

    public long ringViolations() { return sum(q -> q.ringViolations); }

    public long missedNotifications() { return sum(q -> q.missedNotifications); }

    public long usedLengthMismatches() { return sum(q -> q.usedLengthMismatches); }

    public List<String> problems() { return problems; }

    public Object extra(String key) { return extra.get(key); }

    private long sum(java.util.function.ToLongFunction<QueueStats> f) { return queues.stream().mapToLong(f).sum(); }

    /** Backend CPU seconds during the timed phase, or -1 if not measured. */
    public double backendCpuSeconds() { return backendCpuSeconds; }

    private Histogram merged(int kind) {
        Histogram h = new Histogram(QueueStats.MAX_LATENCY_NANOS, 3);
        for (QueueStats q : queues) h.add(q.latency[kind]);
        return h;
    }

    /**
     * True if the backend did nothing wrong that the harness can see: no error status, mismatch, lost
     * request, ring violation, missed notification or early stop.
     */
    public boolean passed() {
        return errors() == 0 && mismatches() == 0 && lost() == 0 && ringViolations() == 0 && missedNotifications() == 0
                && queues.stream().allMatch(q -> q.aborted == null) && !Boolean.FALSE.equals(extra.get("passed"));
    }

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append("vhost-harness ").append(device);
        config.forEach((k, v) -> sb.append("  ").append(k).append('=').append(v));
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "%-8s %12s %12s %10s %10s %10s %10s %10s%n", "", "ops", "ops/s", "MB/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs"));
        for (int k = 0; k < kinds.length; k++) {
            if (ops(k) == 0) continue;
            Histogram h = merged(k);
            sb.append(String.format(Locale.ROOT, "%-8s %12d %12.1f %10.1f %10.1f %10.1f %10.1f %10.1f%n", kinds[k], ops(k),
                    ops(k) / elapsedSeconds, bytes(k) / elapsedSeconds / 1e6, us(h, 50), us(h, 99), us(h, 99.9), h.getMaxValue() / 1000.0));
        }
        sb.append(String.format(Locale.ROOT, "%-8s %12d %12.1f %10.1f%n", "total", totalOps(), totalOps() / elapsedSeconds,
                totalBytes() / elapsedSeconds / 1e6));
        sb.append(String.format(Locale.ROOT, "checks: verified %d, mismatches %d, error status %d, lost %d, used-length mismatches %d, ring violations %d, missed notifications %d%n",
                verified(), mismatches(), errors(), lost(), usedLengthMismatches(), ringViolations(), missedNotifications()));
        sb.append(String.format(Locale.ROOT, "notifications: kicks %d (suppressed %d), interrupts %d%n",
                sum(q -> q.kicks), sum(q -> q.kicksSuppressed), sum(q -> q.interrupts)));
        if (backendCpuSeconds >= 0) {
            sb.append(String.format(Locale.ROOT, "backend CPU: %.2f s over %.2f s (%.0f%%), %.2f µs per op%n", backendCpuSeconds, elapsedSeconds,
                    100 * backendCpuSeconds / elapsedSeconds, totalOps() == 0 ? 0.0 : backendCpuSeconds * 1e6 / totalOps()));
        }
        extra.forEach((k, v) -> {
            if (k.equals("passed")) return;
            sb.append(k).append(": ").append(v instanceof Double d ? String.format(Locale.ROOT, "%.1f", d) : v).append('\n');
        });
        for (String p : problems) sb.append("problem: ").append(p).append('\n');
        sb.append(passed() ? "result: PASS" : "result: FAIL").append('\n');
        return sb.toString();
    }

    private static double us(Histogram h, double percentile) { return h.getValueAtPercentile(percentile) / 1000.0; }

    public String json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", device);
        m.put("config", config);
        m.put("elapsed_s", elapsedSeconds);
        Map<String, Object> k = new LinkedHashMap<>();
        for (int i = 0; i < kinds.length; i++) {
            Histogram h = merged(i);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("ops", ops(i));
            d.put("bytes", bytes(i));
            d.put("ops_per_s", ops(i) / elapsedSeconds);
            d.put("bytes_per_s", bytes(i) / elapsedSeconds);
            d.put("latency_us", Map.of("p50", us(h, 50), "p99", us(h, 99), "p99_9", us(h, 99.9), "max", h.getMaxValue() / 1000.0,
                    "mean", h.getTotalCount() == 0 ? 0.0 : h.getMean() / 1000.0));
            if (ops(i) > 0 || kinds.length <= 2) k.put(kinds[i], d);
        }
        m.put("results", k);
        m.put("total_ops", totalOps());
        m.put("ops_per_s", totalOps() / elapsedSeconds);
        Map<String, Object> checks = new LinkedHashMap<>();
        checks.put("verified", verified());
        checks.put("mismatches", mismatches());
        checks.put("error_status", errors());
        checks.put("lost", lost());
        checks.put("used_length_mismatches", usedLengthMismatches());
        checks.put("ring_violations", ringViolations());
        checks.put("missed_notifications", missedNotifications());
        m.put("checks", checks);
        m.put("notifications", Map.of("kicks", sum(q -> q.kicks), "kicks_suppressed", sum(q -> q.kicksSuppressed), "interrupts", sum(q -> q.interrupts)));
        if (backendCpuSeconds >= 0) {
            m.put("backend_cpu_s", backendCpuSeconds);
            m.put("backend_cpu_us_per_op", totalOps() == 0 ? 0.0 : backendCpuSeconds * 1e6 / totalOps());
        }
        extra.forEach((key, v) -> { if (!key.equals("passed")) m.put(key, v); });
        m.put("problems", problems);
        m.put("passed", passed());
        return Json.write(m);
    }
}
