package org.vhostj.harness.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vhostj.vhost.testing.HostPackages;

/**
 * dpdk-testpmd with a virtio_user port: DPDK's virtio-net driver in a process, a real third-party vhost-user
 * front-end, connecting to our daemon's socket. No hugepages (--no-huge: memfd-backed memory it shares with
 * the backend). Stopped by pid with SIGTERM, after which it prints its port totals.
 */
final class VirtioUserTestpmd implements AutoCloseable {
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    final Process process;
    final Path log;
    private final String prefix;

    record Totals(long rxPackets, long txPackets, long txDropped) {}

    private VirtioUserTestpmd(Process process, Path log, String prefix) {
        this.process = process;
        this.log = log;
        this.prefix = prefix;
    }

    /** Starts testpmd forwarding in {@code mode} on virtio_user0 connected to {@code socket}. */
    static VirtioUserTestpmd start(Path socket, String mode, Path log, String... extra) throws IOException {
        HostPackages.require("dpdk-testpmd", "dpdk-dev");
        String prefix = "vhostj-vuser-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
        List<String> cmd = new ArrayList<>(List.of("dpdk-testpmd", "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
                "--file-prefix=" + prefix, "--vdev", "virtio_user0,path=" + socket + ",queues=1,queue_size=256", "--",
                "--forward-mode=" + mode, "--nb-cores=1", "--stats-period=1", "--total-num-mbufs=32768"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        return new VirtioUserTestpmd(p, log, prefix);
    }

    /** Waits until testpmd forwards (its first periodic stats line), or throws with its log. */
    void awaitForwarding(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!Files.readString(log).contains("Rx-pps:")) {
            if (!process.isAlive() || System.nanoTime() > deadline) throw new IllegalStateException("testpmd did not start forwarding:\n" + tail());
            Thread.sleep(50);
        }
    }

    String tail() {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - 30), all.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Stops testpmd and parses the port 0 totals it prints. */
    Totals stopAndCount() throws IOException, InterruptedException {
        close();
        String text = Files.readString(log);
        int at = text.lastIndexOf("Forward statistics for port 0");
        if (at < 0) throw new IllegalStateException("testpmd printed no totals:\n" + tail());
        String b = text.substring(at);
        return new Totals(number(b, "RX-packets"), number(b, "TX-packets"), number(b, "TX-dropped"));
    }

    private static long number(String block, String key) {
        Matcher m = Pattern.compile(key + ":\\s+(\\d+)").matcher(block);
        if (!m.find()) throw new IllegalStateException("no " + key + " in testpmd totals");
        return Long.parseLong(m.group(1));
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) { process.destroyForcibly(); process.waitFor(10, TimeUnit.SECONDS); }
        }
        try (var s = Files.walk(Path.of("/var/run/dpdk", prefix))) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // nothing left behind
        }
    }
}
