package org.vhostj.harness.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vhostj.vhost.testing.HostPackages;

/**
 * dpdk-testpmd with a net_vhost port (a vhost-user net backend that creates the socket and listens),
 * forwarding in {@code io} or {@code macswap} mode, without hugepages (--no-huge: memfd-backed memory).
 * Stopped by pid; its counters are parsed from the totals it prints on exit.
 */
public final class Testpmd implements AutoCloseable {
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    public final Path dir, socket;
    public final PeerProcess process;
    private final String prefix;

    /** Port 0 totals printed by testpmd on exit: frames it received from us, and sent to us (and dropped). */
    public record Totals(long rxPackets, long txPackets, long txDropped) {}

    private Testpmd(Path dir, Path socket, PeerProcess process, String prefix) {
        this.dir = dir;
        this.socket = socket;
        this.process = process;
        this.prefix = prefix;
    }

    public static Testpmd start(String forwardMode, int queues) throws IOException, InterruptedException {
        HostPackages.require("dpdk-testpmd", "dpdk-dev");
        Path dir = Files.createTempDirectory("vhost-harness-testpmd");
        Path socket = dir.resolve("net.sock");
        String prefix = "vhost-harness-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
        try {
            PeerProcess p = PeerProcess.start("dpdk-testpmd", socket, dir.resolve("testpmd.log"), List.of(
                    "dpdk-testpmd", "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry", "--file-prefix=" + prefix,
                    "--vdev", "net_vhost0,iface=" + socket + ",queues=" + queues, "--",
                    "--forward-mode=" + forwardMode, "--nb-cores=1", "--rxq=" + queues, "--txq=" + queues,
                    "--stats-period=1", "--total-num-mbufs=32768"));
            return new Testpmd(dir, socket, p, prefix);
        } catch (IOException | RuntimeException | InterruptedException e) {
            removeRuntimeDir(prefix);
            TempDirs.delete(dir);
            throw e;
        }
    }

    /** Stops testpmd (it prints its totals on SIGTERM) and parses them. */
    public Totals stopAndCount() throws InterruptedException, IOException {
        process.close();
        String log = Files.readString(process.log());
        int at = log.lastIndexOf("Forward statistics for port 0");
        if (at < 0) throw new IllegalStateException("testpmd printed no totals:\n" + process.logTail(20));
        String block = log.substring(at);
        return new Totals(number(block, "RX-packets"), number(block, "TX-packets"), number(block, "TX-dropped"));
    }

    private static long number(String block, String key) {
        Matcher m = Pattern.compile(key + ":\\s+(\\d+)").matcher(block);
        if (!m.find()) throw new IllegalStateException("no " + key + " in testpmd totals");
        return Long.parseLong(m.group(1));
    }

    private static void removeRuntimeDir(String prefix) {
        TempDirs.delete(Path.of("/var/run/dpdk", prefix));
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
        removeRuntimeDir(prefix);
        TempDirs.delete(dir);
    }
}
