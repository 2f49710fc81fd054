package org.vhostj.harness.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A reference vhost-user backend process to compare with or to prove the guest harness against:
 * qemu-storage-daemon (blk), QEMU 7.2's C virtiofsd (fs) or DPDK testpmd with a net_vhost port (net).
 * Owns the process (stopped by its handle, never by name), its socket and, for testpmd, its DPDK
 * runtime directory. The start methods return once the backend listens on its socket. Stop and kill
 * may be called from any thread.
 */
public final class ReferencePeer implements AutoCloseable {
    private static final Duration SOCKET_WAIT = Duration.ofSeconds(20);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    public static final String VIRTIOFSD = "/usr/lib/qemu/virtiofsd";

    private final String name;
    private final Process process;
    private final Path socket;
    private final Path log;
    private final Path runtimeDir;

    private ReferencePeer(String name, Process process, Path socket, Path log, Path runtimeDir) {
        this.name = name;
        this.process = process;
        this.socket = socket;
        this.log = log;
        this.runtimeDir = runtimeDir;
    }

    /** The program each peer runs, with its Debian package. */
    public static final HostProgram QEMU_STORAGE_DAEMON = new HostProgram("qemu-storage-daemon", "qemu-system-common");
    public static final HostProgram VIRTIOFSD_PROGRAM = new HostProgram(VIRTIOFSD, "qemu-system-common");
    public static final HostProgram TESTPMD = new HostProgram("dpdk-testpmd", "dpdk-dev");

    /**
     * qemu-storage-daemon exporting the raw file {@code image} as vhost-user-blk with {@code queues}
     * queues, served by one iothread. {@code direct}: O_DIRECT + Linux AIO on the host file (as a
     * production setup would; the file system must support O_DIRECT); otherwise the page cache and a
     * thread pool.
     */
    public static ReferencePeer qemuStorageDaemon(Path socket, Path image, int queues, boolean direct, Path log)
            throws IOException, InterruptedException {
        String file = "driver=file,node-name=disk0,filename=" + image
                + (direct ? ",cache.direct=on,aio=native" : ",cache.direct=off,aio=threads");
        return start("qemu-storage-daemon", socket, log, null, List.of("qemu-storage-daemon",
                "--object", "iothread,id=iot0",
                "--blockdev", file,
                "--export", "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=" + socket
                        + ",writable=on,num-queues=" + queues + ",iothread=iot0"));
    }

    /** QEMU 7.2's C virtiofsd sharing {@code dir} (cache=auto; namespace sandbox, which needs root). */
    public static ReferencePeer virtiofsd(Path socket, Path dir, Path log) throws IOException, InterruptedException {
        String sandbox = "root".equals(System.getProperty("user.name")) ? "namespace" : "none";
        return start("virtiofsd", socket, log, null, List.of(VIRTIOFSD, "--socket-path=" + socket,
                "-o", "source=" + dir, "-o", "cache=auto", "-o", "sandbox=" + sandbox));
    }

    /**
     * dpdk-testpmd with a net_vhost port listening on {@code socket} ({@code queues} queue pairs),
     * forwarding with {@code forwardMode} (5tswap: swaps MACs, IPs and ports, so a guest's ping comes
     * back as a reply; macswap; io; rxonly...) on lcore 1, lcore 0 running the main loop. Memory:
     * --no-huge -m 256 (memfd-backed; no hugepages needed). SIGTERM makes it print its totals.
     */
    public static ReferencePeer testpmdNetVhost(Path socket, String forwardMode, int queues, Path log)
            throws IOException, InterruptedException {
        String prefix = "vhostj-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        List<String> cmd = new ArrayList<>(List.of("dpdk-testpmd", "-l", "0,1", "--main-lcore", "0",
                "--no-huge", "-m", "256", "--no-pci", "--no-telemetry", "--file-prefix=" + prefix,
                "--vdev", "net_vhost0,iface=" + socket + ",queues=" + queues, "--",
                "--forward-mode=" + forwardMode, "--nb-cores=1", "--stats-period=1", "--total-num-mbufs=32768",
                "--eth-peer=0,02:00:00:00:00:01", "--rxq=" + queues, "--txq=" + queues));
        return start("testpmd", socket, log, Path.of("/var/run/dpdk", prefix), cmd);
    }

    private static ReferencePeer start(String name, Path socket, Path log, Path runtimeDir, List<String> cmd)
            throws IOException, InterruptedException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.createDirectories(log.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        Files.writeString(log, "# " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        ReferencePeer peer = new ReferencePeer(name, p, socket, log, runtimeDir);
        long until = System.nanoTime() + SOCKET_WAIT.toNanos();
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > until) {
                peer.close();
                throw new IOException(name + " did not create " + socket + " (exit " + (p.isAlive() ? "none" : p.exitValue())
                        + "): " + HostCommand.tail(Files.readString(log, StandardCharsets.UTF_8), 8));
            }
            Thread.sleep(50);
        }
        return peer;
    }

    public long pid() {
        return process.pid();
    }

    public Path socket() {
        return socket;
    }

    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL now and wait for the exit: the backend dies without any cleanup (crash tests). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * SIGTERM, SIGKILL after 10 s; then removes the socket and the DPDK runtime directory. Idempotent.
     * If interrupted, the process gets SIGKILL at once and the interrupt flag stays set.
     */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) kill();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(socket);
            if (runtimeDir != null) GuestImage.deleteTree(runtimeDir);
        } catch (IOException e) {
            // leftovers in /tmp or /var/run/dpdk do not change any result
        }
    }

    @Override
    public String toString() {
        return name + "[pid " + process.pid() + ", " + socket + "]";
    }
}
