package org.vhostj.perf.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.load.FsJob;
import org.vhostj.harness.load.FsRun;
import org.vhostj.harness.load.RunReport;
import org.vhostj.perf.fs.FsBackendProcess.Kind;

/**
 * {@code vhost-perf fs}: the harness's fs workloads against our daemon and QEMU 7.2's C virtiofsd on the
 * same shared directory in one run: metadata (CREATE, GETATTR, UNLINK each as a one-at-a-time rate), 1 MiB
 * sequential READ and WRITE (MB/s), 4 KiB random READ (ops/s). Repetitions are interleaved A/B, B/A... (the
 * machine is shared and noisy), and the table gives the median and the best of each backend with the ratio
 * ours/peer of both (for the CPU-per-request rows lower is better, and "best" is the lowest); the CPU rows
 * are the backend process's CPU time over the whole connection (for the data workloads that includes
 * writing the 64 MiB file first) per timed request, which the machine's noise disturbs less than the rates.
 * virtiofsd serves one connection and exits, so it is started for every run; our daemon
 * is started once for the whole benchmark (a daemon serves a VM for hours) and, when started, gets one
 * untimed 2 s warm-up connection per workload so its JIT has compiled the request path (the C daemon needs
 * no warm-up); {@code --restart-ours} starts it afresh every repetition instead. Every timed run is a
 * fresh vhost-user connection to either backend.
 *
 * <pre>
 * vhost-perf fs [--reps N] [--runtime S] [--dir DIR] [--workloads metadata,seqread,seqwrite,randread]
 *               [--ours-opt OPT]... [--peer-opt OPT]... [--no-warmup] [--restart-ours]
 * </pre>
 */
public final class FsBench {
    private FsBench() {}

    record Row(String name, String unit, String workload) {}

    static final List<Row> ROWS = List.of(
            new Row("metadata CREATE", "ops/s", "metadata"),
            new Row("metadata GETATTR (stat)", "ops/s", "metadata"),
            new Row("metadata UNLINK", "ops/s", "metadata"),
            new Row("metadata cycle (all opcodes)", "ops/s", "metadata"),
            new Row("seqread 1 MiB QD4", "MB/s", "seqread"),
            new Row("seqwrite 1 MiB QD4", "MB/s", "seqwrite"),
            new Row("randread 4 KiB QD16", "ops/s", "randread"),
            new Row("CPU/op metadata (lower=better)", "µs", "metadata"),
            new Row("CPU/op seqread (lower=better)", "µs", "seqread"),
            new Row("CPU/op seqwrite (lower=better)", "µs", "seqwrite"),
            new Row("CPU/op randread (lower=better)", "µs", "randread"));

    public static void main(String[] args) throws Exception {
        int reps = 3;
        double runtime = 3;
        Path dir = null;
        List<String> workloads = List.of("metadata", "seqread", "seqwrite", "randread");
        List<String> oursOpts = new ArrayList<>(), peerOpts = new ArrayList<>();
        boolean warmup = true, restartOurs = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--runtime" -> runtime = Double.parseDouble(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--workloads" -> workloads = List.of(args[++i].split(","));
                case "--ours-opt" -> oursOpts.add(args[++i]);
                case "--peer-opt" -> peerOpts.add(args[++i]);
                case "--no-warmup" -> warmup = false;
                case "--restart-ours" -> restartOurs = true;
                case "--help", "-h" -> {
                    System.out.println("vhost-perf fs [--reps N] [--runtime S] [--dir DIR] [--workloads metadata,seqread,seqwrite,randread]"
                            + " [--ours-opt OPT]... [--peer-opt OPT]... [--no-warmup] [--restart-ours]");
                    return;
                }
                default -> {
                    System.err.println("vhost-perf fs: unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (!Files.isExecutable(Path.of(FsBackendProcess.VIRTIOFSD))) {
            System.err.println("vhost-perf fs: " + FsBackendProcess.VIRTIOFSD + " is missing (apt-get install qemu-system-common)");
            System.exit(2);
        }
        boolean oursPresent;
        try {
            Class.forName(FsBackendProcess.OUR_MAIN, false, FsBench.class.getClassLoader());
            oursPresent = true;
        } catch (ClassNotFoundException e) {
            oursPresent = false;
            System.err.println("vhost-perf fs: " + FsBackendProcess.OUR_MAIN + " is not in this build: measuring virtiofsd alone");
        }
        Path runDir = Files.createTempDirectory("vhostj-fsbench");
        Path shared = dir != null ? dir : Files.createDirectory(runDir.resolve("shared"));
        System.out.printf(Locale.ROOT, "fs benchmark: %d interleaved repetitions x %.1f s per workload, shared dir %s, %d CPUs (shared machine: noisy)%n",
                reps, runtime, shared, Runtime.getRuntime().availableProcessors());
        Map<Kind, Map<String, List<Double>>> results = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            Map<String, List<Double>> m = new LinkedHashMap<>();
            for (Row r : ROWS) m.put(r.name(), new ArrayList<>());
            results.put(k, m);
        }
        FsBackendProcess ours = null;
        try {
            for (int rep = 0; rep < reps; rep++) {
                Kind[] order = rep % 2 == 0 ? new Kind[] {Kind.VIRTIOFSD, Kind.OURS} : new Kind[] {Kind.OURS, Kind.VIRTIOFSD};
                for (Kind k : order) {
                    if (k == Kind.OURS && !oursPresent) continue;
                    List<String> extra = k == Kind.OURS ? oursOpts : peerOpts;
                    boolean fresh = false;
                    if (k == Kind.OURS && (ours == null || restartOurs || !ours.alive())) {
                        if (ours != null) ours.close();
                        ours = FsBackendProcess.start(k, shared, runDir, extra);
                        fresh = true;
                    }
                    for (String w : workloads) {
                        if (k == Kind.OURS && warmup && fresh) once(ours, w, 2);
                        RunReport r;
                        if (k == Kind.OURS) {
                            r = once(ours, w, runtime);
                        } else {
                            try (FsBackendProcess peer = FsBackendProcess.start(k, shared, runDir, extra)) {
                                r = once(peer, w, runtime);
                            }
                        }
                        record(results.get(k), w, r);
                        System.out.printf(Locale.ROOT, "rep %d %-9s %-8s %s%n", rep + 1, k, w, summary(w, r));
                    }
                }
            }
        } finally {
            if (ours != null) ours.close();
            if (dir == null) deleteTree(runDir);
        }
        System.out.println();
        System.out.println(table(results));
    }

    static RunReport once(FsBackendProcess b, String workload, double runtimeSeconds) throws Exception {
        FsJob.Workload w = FsJob.Workload.valueOf(workload.toUpperCase(Locale.ROOT));
        int bs = switch (w) { case SEQREAD, SEQWRITE -> 1 << 20; default -> 4096; };
        int depth = switch (w) { case RANDREAD -> 16; default -> 4; };
        FsJob job = new FsJob(w, bs, depth, 64L << 20, Math.round(runtimeSeconds * 1000), false, 1);
        var o = new VhostSession.Options(b.socket, 10_000, 0, new RingConfig(256, false, 0), VhostSession.Toggle.AUTO,
                1, 64L << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        RunReport r = FsRun.run(new FsRun.Settings(o, job, false, 10_000, b.pid(), null), null);
        if (!r.passed()) throw new IllegalStateException(b.kind + " " + workload + " failed:\n" + r.table() + "\nlog:\n" + FsBackendProcess.tail(b.log));
        return r;
    }

    /** ops/s of one opcode alone: 1 / its mean latency (the metadata loop sends one request at a time). */
    static double opRate(String json, String kind) {
        Matcher m = Pattern.compile("\"" + kind + "\":\\{[^{}]*\"latency_us\":\\{[^{}]*\"mean\":([0-9.eE+-]+)").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + kind + " in " + json);
        return 1e6 / Double.parseDouble(m.group(1));
    }

    static final int READ = 0, WRITE = 1;   // the data workloads' request kinds in FsRun's report

    static double mbPerSecond(RunReport r, int kind) { return r.bytes(kind) / r.elapsedSeconds() / 1e6; }

    static double opsPerSecond(RunReport r, int kind) { return r.ops(kind) / r.elapsedSeconds(); }

    static void record(Map<String, List<Double>> into, String workload, RunReport r) {
        String j = r.json();
        // the backend's CPU time (all its threads: JIT and GC included for ours) over the connection, per timed request
        if (r.backendCpuSeconds() >= 0 && r.totalOps() > 0) {
            into.get("CPU/op " + workload + " (lower=better)").add(r.backendCpuSeconds() * 1e6 / r.totalOps());
        }
        switch (workload) {
            case "metadata" -> {
                into.get("metadata CREATE").add(opRate(j, "create"));
                into.get("metadata GETATTR (stat)").add(opRate(j, "getattr"));
                into.get("metadata UNLINK").add(opRate(j, "unlink"));
                into.get("metadata cycle (all opcodes)").add(r.opsPerSecond());
            }
            case "seqread" -> into.get("seqread 1 MiB QD4").add(mbPerSecond(r, READ));
            case "seqwrite" -> into.get("seqwrite 1 MiB QD4").add(mbPerSecond(r, WRITE));
            case "randread" -> into.get("randread 4 KiB QD16").add(opsPerSecond(r, READ));
            default -> throw new IllegalArgumentException("unknown workload " + workload);
        }
    }

    static String summary(String workload, RunReport r) {
        String j = r.json();
        return switch (workload) {
            case "metadata" -> String.format(Locale.ROOT, "create %.0f/s getattr %.0f/s unlink %.0f/s cycle %.0f ops/s",
                    opRate(j, "create"), opRate(j, "getattr"), opRate(j, "unlink"), r.opsPerSecond());
            case "seqread", "randread" -> String.format(Locale.ROOT, "%.0f ops/s %.1f MB/s", opsPerSecond(r, READ), mbPerSecond(r, READ));
            default -> String.format(Locale.ROOT, "%.0f ops/s %.1f MB/s", opsPerSecond(r, WRITE), mbPerSecond(r, WRITE));
        };
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static double best(List<Double> v) { return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN); }

    static double least(List<Double> v) { return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN); }

    static String table(Map<Kind, Map<String, List<Double>>> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-30s %-6s %12s %12s %7s   %12s %12s %7s%n", "row", "unit", "ours med", "virtiofsd med", "ratio",
                "ours best", "vfsd best", "ratio"));
        for (Row r : ROWS) {
            List<Double> o = results.get(Kind.OURS).get(r.name()), p = results.get(Kind.VIRTIOFSD).get(r.name());
            if (o.isEmpty() && p.isEmpty()) continue;
            boolean lowerIsBetter = r.unit().equals("µs");
            double om = median(o), pm = median(p), ob = lowerIsBetter ? least(o) : best(o), pb = lowerIsBetter ? least(p) : best(p);
            sb.append(String.format(Locale.ROOT, "%-30s %-6s %12.1f %12.1f %7.2f   %12.1f %12.1f %7.2f%n", r.name(), r.unit(), om, pm, om / pm, ob, pb, ob / pb));
        }
        return sb.toString();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

}
