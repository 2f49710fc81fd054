package org.vhostj.perf.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * How long a daemon takes from exec to a listening vhost-user socket, and its resident memory once idle:
 * our blk daemon as a plain JVM, with a class-data-sharing archive (what {@code bin/vhost-user-blk} uses),
 * and with a JDK 25 AOT cache, against qemu-storage-daemon serving the same image, interleaved run by run.
 *
 * <p>{@code vhost-perf startup [--runs N] [--daemon blk|rng]} (rng: the core's example device, no peer).
 * Needs qemu-storage-daemon (Debian's qemu-system-common) for the peer row.
 */
public final class StartupBench {
    private StartupBench() {}

    record Sample(double millis, long rssKib) {}

    public static void main(String[] args) throws Exception {
        int runs = 7;
        String daemon = "blk";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--daemon" -> daemon = args[++i];
                default -> { System.err.println("usage: vhost-perf startup [--runs N] [--daemon blk|rng]"); System.exit(2); }
            }
        }
        Path work = Files.createTempDirectory("vhostj-startup");
        Path image = work.resolve("disk.img");
        try (var f = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
            f.write(java.nio.ByteBuffer.allocate(1), 64L << 20);
        }
        String main = daemon.equals("rng") ? "org.vhostj.vhost.example.RngDevice" : "org.vhostj.blk.BlkDaemon";
        List<String> deviceArgs = daemon.equals("rng") ? List.of() : List.of("--image", image.toString());
        Path cds = work.resolve("daemon.jsa"), aot = work.resolve("daemon.aot");

        Map<String, Function<Path, List<String>>> variants = new LinkedHashMap<>();
        variants.put("ours, plain JVM", s -> java(List.of(), main, s, deviceArgs));
        variants.put("ours, CDS archive (the launcher's)", s -> java(List.of("-XX:SharedArchiveFile=" + cds, "-XX:+AutoCreateSharedArchive",
                "-Xlog:cds=off", "-Xlog:cds+dynamic=off"), main, s, deviceArgs));
        variants.put("ours, AOT cache", s -> java(List.of("-XX:AOTCache=" + aot, "-Xlog:aot=off", "-Xlog:cds=off"), main, s, deviceArgs));
        Path qsd = Path.of("/usr/bin/qemu-storage-daemon");
        if (daemon.equals("blk") && Files.isExecutable(qsd)) {
            variants.put("peer: qemu-storage-daemon", s -> List.of(qsd.toString(),
                    "--blockdev", "driver=file,node-name=disk,filename=" + image + ",cache.direct=off",
                    "--export", "type=vhost-user-blk,id=exp,node-name=disk,addr.type=unix,addr.path=" + s + ",writable=on"));
        }

        // train the archives: one run that writes the CDS archive at exit, one AOT training run
        measure(variants.get("ours, CDS archive (the launcher's)").apply(work.resolve("t1.sock")), work.resolve("t1.sock"), true);
        train(java(List.of("-XX:AOTCacheOutput=" + aot, "-Xlog:aot=off", "-Xlog:cds=off"), main, work.resolve("t2.sock"), deviceArgs), work.resolve("t2.sock"));
        if (!Files.exists(aot)) variants.remove("ours, AOT cache");

        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        for (String v : variants.keySet()) samples.put(v, new ArrayList<>());
        for (int r = 0; r < runs; r++) {
            for (var e : variants.entrySet()) {
                Path sock = work.resolve("s" + r + ".sock");
                samples.get(e.getKey()).add(measure(e.getValue().apply(sock), sock, false));
            }
        }
        System.out.printf("startup: exec -> listening socket, and RSS after 1 s idle; %d interleaved runs each, medians (min..max)%n", runs);
        System.out.printf("%-38s %22s %14s%n", "variant", "ms to listen", "idle RSS MiB");
        double peerMs = Double.NaN;
        double[] peerRss = {Double.NaN};
        List<String> keys = new ArrayList<>(samples.keySet());
        for (String k : keys) {
            if (k.startsWith("peer")) {
                peerMs = median(samples.get(k).stream().mapToDouble(Sample::millis).toArray());
                peerRss[0] = median(samples.get(k).stream().mapToDouble(s -> s.rssKib() / 1024.0).toArray());
            }
        }
        for (String k : keys) {
            double[] ms = samples.get(k).stream().mapToDouble(Sample::millis).toArray();
            double[] rss = samples.get(k).stream().mapToDouble(s -> s.rssKib() / 1024.0).toArray();
            System.out.printf("%-38s %8.0f (%4.0f..%5.0f) %8.1f", k, median(ms), min(ms), max(ms), median(rss));
            if (!Double.isNaN(peerMs) && !k.startsWith("peer")) System.out.printf("   ours/peer: time %.1fx, RSS %.1fx", median(ms) / peerMs, median(rss) / peerRss[0]);
            System.out.println();
        }
        try (var s = Files.walk(work)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static List<String> java(List<String> jvmOptions, String main, Path sock, List<String> deviceArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main, "--socket-path", sock.toString(), "--log-level", "warn"));
        cmd.addAll(deviceArgs);
        return cmd;
    }

    /** Starts {@code cmd}, times until {@code sock} exists, reads RSS after 1 s, stops it with SIGTERM. */
    private static Sample measure(List<String> cmd, Path sock, boolean quiet) throws Exception {
        Files.deleteIfExists(sock);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            while (!Files.exists(sock)) {
                if (!p.isAlive()) throw new IllegalStateException("exited " + p.exitValue() + ": " + cmd);
                if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(30)) throw new IllegalStateException("no socket after 30 s: " + cmd);
                Thread.onSpinWait();
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            Thread.sleep(1000);
            long rss = rssKib(p.pid());
            p.destroy();   // SIGTERM
            if (!p.waitFor(15, TimeUnit.SECONDS)) p.destroyForcibly();
            return new Sample(ms, rss);
        } finally {
            if (p.isAlive()) p.destroyForcibly().waitFor();
        }
    }

    /** An AOT training run: start, let it listen, stop it; the JVM writes the cache as it exits. */
    private static void train(List<String> cmd, Path sock) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long t0 = System.nanoTime();
        while (!Files.exists(sock) && p.isAlive() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60)) Thread.sleep(5);
        Thread.sleep(500);
        p.destroy();
        if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly();
    }

    private static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) { return Arrays.stream(v).min().orElse(Double.NaN); }

    private static double max(double[] v) { return Arrays.stream(v).max().orElse(Double.NaN); }
}
