package org.vhostj.perf.ops;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.load.BlkJob;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.harness.load.RunReport;

/**
 * What {@code --metrics} costs on the data path: our blk daemon on a tmpfs image, driven by the harness
 * (4k random reads, iodepth 32, one queue), with and without {@code --metrics} (which also times every
 * request for the latency histogram), interleaved run by run; prints IOPS and the ratio with/without.
 *
 * <p>{@code vhost-perf metrics [--runs N] [--seconds S]}
 */
public final class MetricsOverheadBench {
    private MetricsOverheadBench() {}

    public static void main(String[] args) throws Exception {
        int runs = 5;
        int seconds = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                default -> { System.err.println("usage: vhost-perf metrics [--runs N] [--seconds S]"); System.exit(2); }
            }
        }
        Path work = Files.createTempDirectory(Path.of("/dev/shm"), "vhostj-metrics");
        Path image = work.resolve("disk.img");
        try (var f = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.allocate(1), (256L << 20) - 1);
        }
        List<Double> with = new ArrayList<>(), without = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            without.add(run(work, image, false, seconds));
            with.add(run(work, image, true, seconds));
        }
        double a = StartupBench.median(with.stream().mapToDouble(Double::doubleValue).toArray());
        double b = StartupBench.median(without.stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf(Locale.ROOT, "metrics overhead: blk 4k randread, iodepth 32, 1 queue, tmpfs image; %d interleaved runs of %d s, median IOPS%n", runs, seconds);
        System.out.printf(Locale.ROOT, "  without --metrics  %10.0f IOPS  %s%n", b, without);
        System.out.printf(Locale.ROOT, "  with --metrics     %10.0f IOPS  %s%n", a, with);
        System.out.printf(Locale.ROOT, "  ratio with/without %.3f%n", a / b);
        try (var s = Files.walk(work)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static double run(Path work, Path image, boolean metrics, int seconds) throws Exception {
        Path sock = work.resolve("blk.sock");
        Files.deleteIfExists(sock);
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "org.vhostj.blk.BlkDaemon", "--socket-path", sock.toString(),
                "--image", image.toString(), "--log-level", "warn"));
        if (metrics) cmd.addAll(List.of("--metrics", "127.0.0.1:0"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
        try {
            long t0 = System.nanoTime();
            while (!Files.exists(sock)) {
                if (!p.isAlive() || System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(30)) throw new IllegalStateException("daemon did not start: " + cmd);
                Thread.sleep(5);
            }
            var o = new VhostSession.Options(sock, 5000, 0, new RingConfig(256, false, 0), VhostSession.Toggle.AUTO, 1, 64L << 20,
                    false, VhostSession.MemoryMode.AUTO, true, 0);
            BlkJob job = new BlkJob(BlkJob.Mode.RANDREAD, 4096, 32, 100, false, 256L << 20, seconds * 1000L, 1);
            RunReport r = BlkRun.run(new BlkRun.Settings(o, 1, job, false, 5000, 0, p.pid(), null, null, null), null);
            if (!r.passed()) throw new IllegalStateException("run failed:\n" + r.table());
            return Math.round(r.opsPerSecond() * 10) / 10.0;
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }
}
