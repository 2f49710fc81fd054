package org.vhostj.perf.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.guest.QemuGuest;
import org.vhostj.harness.load.NetRun;
import org.vhostj.harness.load.RunReport;

/**
 * {@code vhost-perf net}: our vhost-user-net daemon against DPDK testpmd's net_vhost PMD, both separate
 * processes, driven by the same front-ends in the same run:
 * <ul>
 *   <li><b>DPDK virtio_user</b> (testpmd, a busy-polling virtio-net driver in a process), each way:
 *     <i>to-backend</i>: virtio_user txonly into ours ({@code --backend sink}) or net_vhost (rxonly), measured
 *     as virtio_user's TX packets/s (what the backend took off the ring); <i>from-backend</i>: ours
 *     ({@code --backend source:LEN}) or net_vhost (txonly) fills virtio_user's RX ring (rxonly), measured as
 *     virtio_user's RX packets/s.</li>
 *   <li><b>the harness</b> (busy-polling): numbered frames out and back through ours ({@code --backend reflect},
 *     MACs swapped) or net_vhost (macswap), measured as frames/s each way.</li>
 * </ul>
 * Frames of 64 and 1500 bytes. The busy-polling pairs here are bimodal (where the host puts the threads), so
 * repetitions are interleaved (ours, peer, peer, ours...) and each backend's best and median runs are shown; virtio_user
 * rates are testpmd's port totals over the time it forwarded (its one-second samples stall on a loaded
 * host). Both backends are started once per row; ours gets a {@value #WARMUP_SECONDS} s JIT warm-up run, and
 * the backend not being measured is SIGSTOPped (an idle testpmd busy-polls a core). Ours runs with
 * {@code --poll-us} (busy polling, as DPDK always does) and pinned to CPU 1, where net_vhost's forwarding lcore runs.
 *
 * <pre>vhost-perf net [--seconds N] [--reps N] [--poll-us N] [--sizes 64,1500] [--frontends vuser,harness]</pre>
 */
public final class NetBench {
    private NetBench() {}

    private static final AtomicInteger PREFIXES = new AtomicInteger(), RUNS = new AtomicInteger();
    static final int WARMUP_SECONDS = 5;
    /** The dpdk-testpmd found at start (net_vhost and virtio_user both run in it). */
    private static Path testpmd;

    public static void main(String[] args) throws Exception {
        int seconds = 4, reps = 3, pollUs = 200;
        List<Integer> sizes = List.of(64, 1500);
        List<String> frontends = List.of("vuser", "harness");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--poll-us" -> pollUs = Integer.parseInt(args[++i]);
                case "--sizes" -> sizes = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--frontends" -> frontends = List.of(args[++i].split(","));
                case "--help", "-h" -> {
                    System.out.println("usage: vhost-perf net [--seconds N] [--reps N] [--poll-us N] [--sizes 64,1500] [--frontends vuser,harness]");
                    return;
                }
                default -> {
                    System.err.println("vhost-perf net: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        testpmd = QemuGuest.findProgram("dpdk-testpmd");   // both net_vhost and virtio_user are testpmd
        if (testpmd == null) {
            System.err.println("vhost-perf net: dpdk-testpmd is missing (apt-get install dpdk-dev)");
            System.exit(2);
        }
        Path work = Files.createTempDirectory("vhostj-netbench");
        List<String> table = new ArrayList<>();
        System.out.printf(Locale.ROOT, "net bench: %d s per run, %d interleaved reps, ours with --poll-us %d; logs in %s%n", seconds, reps, pollUs, work);
        for (int size : sizes) {
            if (frontends.contains("vuser")) {
                for (String dir : List.of("to-backend", "from-backend")) {
                    boolean to = dir.equals("to-backend");
                    try (Proc ours = startOurs(work, "ours.sock", to ? "sink" : "source:" + size, pollUs);
                         Proc peer = startNetVhost(work, "dpdk.sock", to ? "rxonly" : "txonly", size)) {
                        peer.pause();
                        vuser(work, ours, dir, size, WARMUP_SECONDS);   // JIT warm-up of our daemon, discarded
                        List<Double> a = new ArrayList<>(), b = new ArrayList<>();
                        for (int r = 0; r < reps; r++) {
                            if (r % 2 == 0) { a.add(vuser(work, ours, peer, dir, size, seconds)); b.add(vuser(work, peer, ours, dir, size, seconds)); }
                            else { b.add(vuser(work, peer, ours, dir, size, seconds)); a.add(vuser(work, ours, peer, dir, size, seconds)); }
                        }
                        table.add(row("virtio_user " + dir, size, a, b));
                        System.out.println(table.getLast());
                    }
                }
            }
            if (frontends.contains("harness")) {
                List<double[]> ours = new ArrayList<>(), peer = new ArrayList<>();
                try (Proc o = startOurs(work, "ours.sock", "reflect", pollUs); Proc p = startNetVhost(work, "dpdk.sock", "macswap", size)) {
                    p.pause();
                    harness(o, size, WARMUP_SECONDS);
                    for (int r = 0; r < reps; r++) {
                        if (r % 2 == 0) { ours.add(harness(o, p, size, seconds)); peer.add(harness(p, o, size, seconds)); }
                        else { peer.add(harness(p, o, size, seconds)); ours.add(harness(o, p, size, seconds)); }
                    }
                }
                table.add(row("harness to-backend", size, ours.stream().map(x -> x[0]).toList(), peer.stream().map(x -> x[0]).toList()));
                System.out.println(table.getLast());
                table.add(row("harness from-backend", size, ours.stream().map(x -> x[1]).toList(), peer.stream().map(x -> x[1]).toList()));
                System.out.println(table.getLast());
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-26s %6s %12s %12s %7s %12s %12s %7s %7s %11s %6s   %s%n", "frontend / direction", "bytes", "ours best", "DPDK best", "ratio",
                "ours median", "DPDK median", "ratio", "paired", "paired 95%", "ahead", "all runs ours | DPDK");
        for (String l : table) System.out.println(l);
        System.out.println("(best and median of the interleaved runs after a " + WARMUP_SECONDS + " s warm-up of ours, which runs pinned to CPU 1 like net_vhost's forwarding lcore; virtio_user rows: testpmd's port totals / forwarding time; harness rows: frames/s each way; ratio = ours / DPDK net_vhost; paired = median of ours / DPDK over runs next to each other in time, with its distribution-free 95% interval (order statistics; needs 6 reps) and the pairs ours won)");
    }

    private static String row(String name, int size, List<Double> ours, List<Double> peer) {
        double a = ours.stream().max(Comparator.naturalOrder()).orElse(0.0), b = peer.stream().max(Comparator.naturalOrder()).orElse(0.0);
        double am = median(ours), bm = median(peer);
        List<Double> ratios = pairedRatios(ours, peer);
        double[] ci = medianInterval(ratios);
        long ahead = ratios.stream().filter(r -> r > 1).count();
        return String.format(Locale.ROOT, "%-26s %6d %12.0f %12.0f %7.2f %12.0f %12.0f %7.2f %7.2f %11s %6s   %s | %s", name, size, a, b, b > 0 ? a / b : 0,
                am, bm, bm > 0 ? am / bm : 0, median(ratios), ci == null ? "-" : String.format(Locale.ROOT, "%.2f-%.2f", ci[0], ci[1]),
                ahead + "/" + ratios.size(), fmt(ours), fmt(peer));
    }

    /**
     * Ours/DPDK for each repetition, each run divided by the peer run next to it in time (the interleaving
     * puts them back to back); their median is the "paired" column. On these hosts a run's rate moves 2-3x
     * with where the hypervisor puts the two vCPUs, and a pair mostly shares that state, which the best and
     * median of each side do not.
     */
    static List<Double> pairedRatios(List<Double> ours, List<Double> peer) {
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < Math.min(ours.size(), peer.size()); i++) if (peer.get(i) > 0) r.add(ours.get(i) / peer.get(i));
        return r;
    }

    /**
     * A distribution-free interval of at least 95% for the median of {@code v}: the k-th smallest and k-th
     * largest values, k the largest with P(Binomial(n, 1/2) < k) <= 2.5%. It assumes nothing about the
     * (bimodal) spread of the runs, only that pairs are independent; null below 6 values (no such k).
     */
    static double[] medianInterval(List<Double> v) {
        int n = v.size();
        double tail = 0, term = Math.pow(0.5, n);   // P(X = 0)
        int k = 0;
        while (k < n / 2 && tail + term <= 0.025) {   // P(X <= k) still within the tail: the (k+1)-th value bounds it
            tail += term;
            k++;
            term = term * (n - k + 1) / k;
        }
        if (k == 0) return null;
        List<Double> s = v.stream().sorted().toList();
        return new double[] {s.get(k - 1), s.get(n - k)};
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) return 0;
        List<Double> s = v.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String fmt(List<Double> v) {
        StringBuilder sb = new StringBuilder();
        for (double d : v) sb.append(sb.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2fM", d / 1e6));
        return sb.toString();
    }

    // ---- one run with DPDK virtio_user as the front-end --------------------------------------------

    /**
     * One virtio_user testpmd run against {@code backend} (kept running across runs): packets/s from testpmd's
     * totals over the time it forwarded (its one-second samples are unreliable on a loaded host).
     */
    /** A run of {@code backend} with {@code other} (the competing backend, busy-polling when idle) stopped meanwhile. */
    private static double vuser(Path work, Proc backend, Proc other, String dir, int size, int seconds) throws Exception {
        other.pause();
        backend.resume();
        return vuser(work, backend, dir, size, seconds);
    }

    private static double[] harness(Proc backend, Proc other, int size, int seconds) throws Exception {
        other.pause();
        backend.resume();
        return harness(backend, size, seconds);
    }

    private static double vuser(Path work, Proc backend, String dir, int size, int seconds) throws Exception {
        boolean toBackend = dir.equals("to-backend");
        Path log = work.resolve("vuser-" + RUNS.incrementAndGet() + "-" + backend.name() + "-" + dir + "-" + size + ".log");
        long t0, t1;
        try (Proc vuser = testpmd("vuser", log, 1, "virtio_user0,path=" + backend.socket() + ",queues=1", toBackend ? "txonly" : "rxonly", size)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(log).contains("packet forwarding - ports=")) {
                if (!vuser.process().isAlive() || System.nanoTime() > deadline) throw new IllegalStateException("virtio_user testpmd did not start: " + log);
                Thread.sleep(10);
            }
            t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            t1 = System.nanoTime();
        }
        long total = total(log, toBackend ? "TX-packets:" : "RX-packets:");
        double pps = total * 1e9 / (t1 - t0);
        System.err.printf(Locale.ROOT, "  %s %s %d B: %.3f Mpps (%d frames)%n", backend.name(), dir, size, pps / 1e6, total);
        return pps;
    }

    // ---- one run with the harness as the front-end ------------------------------------------------

    private static double[] harness(Proc backend, int size, int seconds) throws Exception {
        var o = new VhostSession.Options(backend.socket(), 5000, 0, new RingConfig(256, false, 0), VhostSession.Toggle.AUTO,
                1, 64 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        RunReport r = NetRun.run(new NetRun.Settings(o, 1, size, seconds * 1000L, true, true, 10_000, backend.process().pid(), null), null);
        double tx = r.extra("tx_pps") instanceof Number n ? n.doubleValue() : 0, rx = r.extra("rx_pps") instanceof Number n2 ? n2.doubleValue() : 0;
        System.err.printf(Locale.ROOT, "  %s harness %d B: tx %.3f Mpps rx %.3f Mpps%s%n", backend.name(), size, tx / 1e6, rx / 1e6,
                r.passed() ? "" : " FAILED: " + r.problems());
        return new double[] {tx, rx};
    }

    // ---- processes ---------------------------------------------------------------------------------

    /** A started process, stopped by its own pid (SIGTERM; testpmd prints its totals on it). */
    private record Proc(String name, Process process, String prefix, Path socket) implements AutoCloseable {
        /**
         * SIGSTOP: an idle testpmd still busy-polls a core, which would take it from the backend being measured
         * on a 2-core host. Only this process's pid is signalled.
         */
        void pause() throws IOException, InterruptedException { signal("-STOP"); }

        void resume() throws IOException, InterruptedException { signal("-CONT"); }

        private void signal(String sig) throws IOException, InterruptedException {
            if (process.isAlive()) new ProcessBuilder("kill", sig, Long.toString(process.pid())).inheritIO().start().waitFor();
        }

        @Override
        public void close() throws InterruptedException {
            try { resume(); } catch (IOException ignored) { /* it is stopped by SIGTERM below, or SIGKILL */ }
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(15, TimeUnit.SECONDS)) { process.destroyForcibly(); process.waitFor(10, TimeUnit.SECONDS); }
            }
            if (prefix != null) {
                try (var s = Files.walk(Path.of("/var/run/dpdk", prefix))) {
                    s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // already gone
                }
            }
        }
    }

    private static Proc startOurs(Path work, String sockName, String backend, int pollUs) throws Exception {
        Path sock = work.resolve(sockName);
        // pinned to CPU 1 as net_vhost's forwarding lcore is (testpmd -l 0,1 --main-lcore 0), so that neither backend
        // shares a CPU with virtio_user's forwarding lcore (CPU 0); unpinned, our worker landed there about half the time
        List<String> cmd = List.of("taskset", "-c", "1", ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-cp", System.getProperty("java.class.path"), "org.vhostj.net.NetDaemon", "--socket", sock.toString(),
                "--backend", backend, "--poll-us", Integer.toString(pollUs), "--log-level", "warn");
        Files.deleteIfExists(sock);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("ours-" + RUNS.incrementAndGet() + ".log").toFile()).start();
        Proc proc = new Proc("ours", p, null, sock);
        awaitSocket(proc, sock);
        return proc;
    }

    private static Proc startNetVhost(Path work, String sockName, String mode, int size) throws Exception {
        Path sock = work.resolve(sockName);
        Files.deleteIfExists(sock);
        Proc t = testpmd("dpdk", work.resolve("net_vhost-" + RUNS.incrementAndGet() + ".log"), 0, "net_vhost0,iface=" + sock + ",queues=1", mode, size);
        Proc p = new Proc("dpdk", t.process(), t.prefix(), sock);
        awaitSocket(p, sock);
        return p;
    }

    /** dpdk-testpmd on lcores 0,1 without hugepages; forwarding on lcore 1 - mainLcore. */
    private static Proc testpmd(String name, Path log, int mainLcore, String vdev, String mode, int size) throws IOException {
        String prefix = "vhostj-netbench-" + name + "-" + ProcessHandle.current().pid() + "-" + PREFIXES.incrementAndGet();
        List<String> cmd = List.of(testpmd.toString(), "-l", "0,1", "--main-lcore", Integer.toString(mainLcore), "--no-huge", "-m", "256",
                "--no-pci", "--no-telemetry", "--file-prefix=" + prefix, "--vdev", vdev, "--",
                "--forward-mode=" + mode, "--nb-cores=1", "--stats-period=1", "--total-num-mbufs=32768", "--txpkts=" + size,
                "--eth-peer=0,02:00:00:00:00:01");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        return new Proc(name, p, prefix, null);
    }

    private static void awaitSocket(Proc p, Path sock) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(sock)) {
            if (!p.process().isAlive() || System.nanoTime() > deadline) {
                p.close();
                throw new IllegalStateException("backend did not create " + sock);
            }
            Thread.sleep(20);
        }
    }

    /** testpmd's port 0 total of {@code key} ("TX-packets:"), printed when it stopped. */
    static long total(Path log, String key) throws IOException {
        String text = Files.readString(log);
        int at = text.lastIndexOf("Forward statistics for port 0");
        if (at < 0) throw new IllegalStateException("testpmd printed no totals: " + log);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(key + "\\s+(\\d+)").matcher(text.substring(at));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** The best of testpmd's one-second samples of {@code key} ("Tx-pps:"), leaving out the first non-zero one (ramp-up). */
    static double bestSample(Path log, String key) throws IOException {
        List<Double> v = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(key)) {
                double x = Double.parseDouble(f[1]);
                if (x > 0) v.add(x);
            }
        }
        if (v.size() > 1) v.removeFirst();
        return v.stream().max(Comparator.naturalOrder()).orElse(0.0);
    }
}
