package org.vhostj.perf;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code vhost-perf BENCH [ARGS]}: runs one benchmark of this module. Every benchmark starts our daemon
 * and its reference peer itself, drives both with the same front-end in the same run, and prints its
 * figures with the ratio ours/peer. {@code vhost-perf BENCH --help} describes each.
 */
public final class Perf {
    /** Benchmark name -> main class (looked up by name so each benchmark stays a standalone program). */
    private static final Map<String, String> BENCHMARKS = new LinkedHashMap<>();
    static {
        BENCHMARKS.put("blk", "org.vhostj.perf.blk.BlkBench");
        BENCHMARKS.put("fs", "org.vhostj.perf.fs.FsBench");
        BENCHMARKS.put("net", "org.vhostj.perf.net.NetBench");
        BENCHMARKS.put("startup", "org.vhostj.perf.ops.StartupBench");
        BENCHMARKS.put("metrics", "org.vhostj.perf.ops.MetricsOverheadBench");
        BENCHMARKS.put("event-loop", "org.vhostj.perf.loop.EventLoopBench");
    }

    private Perf() {}

    public static void main(String[] args) throws Throwable {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || !BENCHMARKS.containsKey(args[0])) {
            System.err.println("usage: vhost-perf {" + String.join(",", BENCHMARKS.keySet()) + "} [ARGS]");
            System.exit(args.length == 0 || args[0].startsWith("-") ? 0 : 2);
        }
        Class<?> bench;
        try {
            bench = Class.forName(BENCHMARKS.get(args[0]));
        } catch (ClassNotFoundException e) {
            System.err.println("vhost-perf: benchmark " + args[0] + " is not in this build");
            System.exit(2);
            return;
        }
        try {
            bench.getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
