package org.vhostj.perf.blk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.load.BlkJob;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.harness.load.RunReport;

/**
 * {@code vhost-perf blk}: our vhost-user-blk daemon against qemu-storage-daemon, both separate processes
 * serving a raw image in tmpfs, driven by the same harness front-end in the same run. Rows: 4k randread
 * and randwrite at iodepth 32, 128k sequential read at iodepth 8 (one queue). Repetitions are interleaved
 * (ours, peer, then peer, ours, ...) after one warm-up run each; a row reports each backend's best run
 * (highest IOPS) with that run's p99 latency and backend CPU per request, and the ratio ours/peer.
 *
 * <pre>vhost-perf blk [--runtime SECONDS] [--reps N] [--size MIB] [--dir DIR] [--engine auto|sync|uring] [--copy-threads N] [--row SUBSTRING]</pre>
 */
public final class BlkBench {
    private BlkBench() {}

    record Row(String name, BlkJob.Mode mode, int blockBytes, int iodepth) {}

    record Result(double iops, double p99Micros, double cpuMicrosPerOp, boolean passed) {}

    /** One backend process: its socket and pid. */
    private record Backend(String name, Process process, Path socket) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            if (!process.isAlive()) return;
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        double runtime = 3;
        int reps = 3;
        long sizeMiB = 256;
        Path dir = Path.of("/dev/shm");
        String engine = "auto";
        String copyThreads = null;
        String only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runtime" -> runtime = Double.parseDouble(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--size" -> sizeMiB = Long.parseLong(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--engine" -> engine = args[++i];
                case "--copy-threads" -> copyThreads = args[++i];
                case "--row" -> only = args[++i];
                case "--help", "-h" -> {
                    System.out.println("usage: vhost-perf blk [--runtime SECONDS] [--reps N] [--size MIB] [--dir DIR] [--engine auto|sync|uring] [--copy-threads N] [--row SUBSTRING]");
                    return;
                }
                default -> {
                    System.err.println("vhost-perf blk: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        List<Row> rows = List.of(new Row("4k randread QD32", BlkJob.Mode.RANDREAD, 4096, 32),
                new Row("4k randwrite QD32", BlkJob.Mode.RANDWRITE, 4096, 32),
                new Row("128k seqread QD8", BlkJob.Mode.READ, 128 * 1024, 8));
        Path work = Files.createTempDirectory(dir, "vhostj-blkbench");
        long sizeBytes = sizeMiB << 20;
        Path oursImage = filledImage(work.resolve("ours.img"), sizeBytes);
        Path peerImage = filledImage(work.resolve("peer.img"), sizeBytes);
        List<String[]> table = new ArrayList<>();
        try (Backend ours = startOurs(work, oursImage, engine, copyThreads); Backend peer = startPeer(work, peerImage)) {
            System.out.printf(Locale.ROOT, "blk bench: image %d MiB in %s, 1 queue, ring 128, runtime %.1f s, %d interleaved reps; ours pid %d (engine %s, copy threads %s), qemu-storage-daemon pid %d%n",
                    sizeMiB, dir, runtime, reps, ours.process().pid(), engine, copyThreads == null ? "default" : copyThreads, peer.process().pid());
            for (Row row : rows) {
                if (only != null && !row.name().contains(only)) continue;
                run(ours, row, 1, sizeBytes);   // warm-up (JIT, page cache), discarded
                run(peer, row, 1, sizeBytes);
                List<Result> a = new ArrayList<>(), b = new ArrayList<>();
                for (int r = 0; r < reps; r++) {
                    if (r % 2 == 0) { a.add(run(ours, row, runtime, sizeBytes)); b.add(run(peer, row, runtime, sizeBytes)); }
                    else { b.add(run(peer, row, runtime, sizeBytes)); a.add(run(ours, row, runtime, sizeBytes)); }
                }
                Result bestA = a.stream().max(Comparator.comparingDouble(Result::iops)).orElseThrow();
                Result bestB = b.stream().max(Comparator.comparingDouble(Result::iops)).orElseThrow();
                String[] line = {row.name(), fmt(bestA.iops()), fmt(bestB.iops()), String.format(Locale.ROOT, "%.1f", bestA.p99Micros()),
                        String.format(Locale.ROOT, "%.1f", bestB.p99Micros()), String.format(Locale.ROOT, "%.2f", bestA.iops() / bestB.iops()),
                        String.format(Locale.ROOT, "%.1f", bestA.cpuMicrosPerOp()), String.format(Locale.ROOT, "%.1f", bestB.cpuMicrosPerOp()),
                        all(a), all(b), String.format(Locale.ROOT, "%.2f", median(a) / median(b)), bestA.passed() && bestB.passed() ? "" : " (a run FAILED its checks)"};
                table.add(line);
                System.out.printf(Locale.ROOT, "%s: ours %s, peer %s%s%n", row.name(), line[8], line[9], line[11]);
            }
        } finally {
            Files.deleteIfExists(oursImage);
            Files.deleteIfExists(peerImage);
            try (var s = Files.list(work)) { for (Path p : s.toList()) Files.deleteIfExists(p); }
            Files.deleteIfExists(work);
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-20s %12s %12s %10s %10s %8s %8s %12s %12s%n", "row", "ours IOPS", "peer IOPS", "ours p99", "peer p99", "ratio",
                "median", "ours µs/op", "peer µs/op");
        for (String[] l : table) {
            System.out.printf(Locale.ROOT, "%-20s %12s %12s %10s %10s %8s %8s %12s %12s%s%n", l[0], l[1], l[2], l[3] + "µs", l[4] + "µs", l[5], l[10], l[6], l[7], l[11]);
        }
        System.out.println("(best of the interleaved runs per backend; p99 and backend CPU per request from that run; ratio = ours/peer IOPS; median = ratio of the medians)");
    }

    private static String fmt(double iops) { return String.format(Locale.ROOT, "%.0f", iops); }

    private static double median(List<Result> rs) {
        double[] v = rs.stream().mapToDouble(Result::iops).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String all(List<Result> rs) {
        StringBuilder sb = new StringBuilder("[");
        for (Result r : rs) sb.append(sb.length() > 1 ? " " : "").append(fmt(r.iops()));
        return sb.append(']').toString();
    }

    private static Result run(Backend b, Row row, double runtimeSeconds, long sizeBytes) throws Exception {
        VhostSession.Options o = new VhostSession.Options(b.socket(), 5000, 0, new RingConfig(128, false, 0), VhostSession.Toggle.AUTO,
                1, 32 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        BlkJob job = new BlkJob(row.mode(), row.blockBytes(), row.iodepth(), 50, false, sizeBytes, (long) (runtimeSeconds * 1000), 17);
        RunReport r = BlkRun.run(new BlkRun.Settings(o, 1, job, false, 10_000, 0, b.process().pid(), null, null, null), null);
        int kind = row.mode() == BlkJob.Mode.RANDWRITE ? 1 : 0;
        double cpu = r.backendCpuSeconds() >= 0 && r.totalOps() > 0 ? r.backendCpuSeconds() * 1e6 / r.totalOps() : -1;
        return new Result(r.totalOps() / r.elapsedSeconds(), r.latencyMicros(kind, 99), cpu, r.passed());
    }

    private static Path filledImage(Path p, long sizeBytes) throws IOException {
        byte[] chunk = new byte[1 << 20];
        new java.util.Random(1).nextBytes(chunk);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            for (long off = 0; off < sizeBytes; off += chunk.length) f.write(chunk);
        }
        return p;
    }

    private static Backend startOurs(Path work, Path image, String engine, String copyThreads) throws Exception {
        Path sock = work.resolve("ours.sock");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "org.vhostj.blk.BlkDaemon", "--socket", sock.toString(),
                "--image", image.toString(), "--num-queues", "1", "--io-engine", engine, "--log-level", "warn"));
        if (copyThreads != null) cmd.addAll(List.of("--copy-threads", copyThreads));
        return new Backend("ours", waitForSocket(new ProcessBuilder(cmd), sock, work.resolve("ours.log")), sock);
    }

    private static Backend startPeer(Path work, Path image) throws Exception {
        Path sock = work.resolve("qsd.sock");
        List<String> cmd = List.of("qemu-storage-daemon",
                "--blockdev", "driver=file,node-name=disk0,filename=" + image + ",cache.direct=off",
                "--export", "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=" + sock + ",writable=on,num-queues=1");
        return new Backend("qemu-storage-daemon", waitForSocket(new ProcessBuilder(cmd), sock, work.resolve("qsd.log")), sock);
    }

    private static Process waitForSocket(ProcessBuilder pb, Path sock, Path log) throws Exception {
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(sock)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IllegalStateException(pb.command().get(0) + " did not create " + sock + ": " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        return p;
    }
}
