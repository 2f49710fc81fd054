package org.vhostj.harness.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * One real Linux guest under QEMU 7.2 with vhost-user devices, configured with fluent setters and then
 * started: {@link #run()} boots, runs the guest script and returns a {@link GuestResult};
 * {@link #start()} returns a {@link RunningGuest} for tests that act on the host while the guest runs
 * (kill a backend when the guest prints "ACK", write a host file the guest waits for).
 *
 * <p>The machine: {@code -accel tcg,thread=multi -cpu max} (QEMU+KVM cannot run full guests on the
 * nested hosts we test on; {@code -Dvhostj.guest.accel=kvm} or {@link #accel} switches), RAM as a
 * shared memfd ({@code memory-backend-memfd,share=on} + {@code -numa node,memdev=mem}: every vhost-user
 * backend maps it), the image's vmlinux through QEMU's PVH entry, the serial console on QEMU's stdout.
 * The guest script, with its environment, rides in a small cpio archive appended to a per-run copy of
 * the initramfs.
 *
 * <p>vhost-user-net under TCG: QEMU 7.2 dereferences a NULL irqfd table when the guest enables a
 * vhost-user virtio-net device whose MSI-X vectors are unmasked (see NET-TCG-MSIX.md in this package's
 * resources); {@link NetInterrupts#AUTO} therefore gives such a device {@code vectors=0} (INTx) under
 * TCG and MSI-X under KVM.
 *
 * <p>Not thread-safe: configure and start on one thread. Each {@link #start()} is a new QEMU process.
 */
public final class QemuGuest {
    /** Where guest code runs. */
    public enum Accel { TCG, KVM }

    /** Interrupts of a vhost-user virtio-net device. */
    public enum NetInterrupts {
        /** INTx under TCG (QEMU 7.2 crashes with MSI-X there), MSI-X under KVM. */
        AUTO,
        /** MSI-X whatever the accelerator: under TCG this reproduces QEMU 7.2's crash. */
        MSIX,
        /** {@code vectors=0}: legacy INTx. */
        INTX
    }

    /** A vhost-user device; its backend must already listen on {@code socket} (QEMU is the client). */
    public sealed interface Device permits Blk, Fs, Net, Custom {
        Path socket();
    }

    /**
     * vhost-user-blk-pci. {@code reconnect}: the chardev retries the socket every second, so QEMU and
     * the guest survive the backend's death and a restarted backend is set up again (crash tests).
     */
    public record Blk(Path socket, int queues, boolean packed, boolean reconnect) implements Device {
        public Blk {
            Objects.requireNonNull(socket);
            if (queues < 1 || queues > 64) throw new IllegalArgumentException("blk queues " + queues + " not in 1..64");
        }
    }

    /** vhost-user-fs-pci: the guest mounts it with {@code mount -t virtiofs TAG}. */
    public record Fs(Path socket, String tag, int queueSize) implements Device {
        public Fs {
            Objects.requireNonNull(socket);
            if (!tag.matches("[A-Za-z0-9_.-]{1,36}")) throw new IllegalArgumentException("bad virtiofs tag " + tag);
            if (queueSize < 2 || queueSize > 1024 || Integer.bitCount(queueSize) != 1) {
                throw new IllegalArgumentException("fs queue size " + queueSize + " not a power of two in 2..1024");
            }
        }
    }

    /** -netdev vhost-user + virtio-net-pci; {@code queues} RX/TX pairs (mq=on when more than one). */
    public record Net(Path socket, int queues, String mac, NetInterrupts interrupts) implements Device {
        public Net {
            Objects.requireNonNull(socket);
            Objects.requireNonNull(interrupts);
            if (queues < 1 || queues > 16) throw new IllegalArgumentException("net queue pairs " + queues + " not in 1..16");
            if (!mac.matches("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}")) throw new IllegalArgumentException("bad MAC " + mac);
        }
    }

    /**
     * Any other vhost-user device QEMU has, e.g. {@code vhost-user-rng-pci}: {@code -chardev socket}
     * plus {@code -device QEMU_DEVICE,chardev=...} followed by {@code options} (comma-separated, may be empty).
     */
    public record Custom(Path socket, String qemuDevice, String options) implements Device {
        public Custom {
            Objects.requireNonNull(socket);
            if (!qemuDevice.matches("vhost-user-[a-z0-9-]+")) throw new IllegalArgumentException("not a vhost-user device: " + qemuDevice);
            if (options.contains(" ")) throw new IllegalArgumentException("device options with spaces: " + options);
        }
    }

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final GuestImage image;
    private final List<Device> devices = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> extraQemuArgs = new ArrayList<>();
    private String script;
    private Accel accel = defaultAccel();
    private int memoryMib = 1024;
    private int cpus = 2;
    private Duration timeout = Duration.ofMinutes(3);
    private Path consoleLog;
    private String kernelArgs = "";
    private Consumer<String> consoleListener = line -> {};

    private QemuGuest(GuestImage image) {
        this.image = Objects.requireNonNull(image);
    }

    public static QemuGuest of(GuestImage image) {
        return new QemuGuest(image);
    }

    public QemuGuest device(Device device) {
        devices.add(Objects.requireNonNull(device));
        return this;
    }

    public QemuGuest blk(Path socket) {
        return device(new Blk(socket, 1, false, false));
    }

    public QemuGuest fs(Path socket, String tag) {
        return device(new Fs(socket, tag, 1024));
    }

    /** A net device with MAC 52:54:00:12:34:5N (N: its index among the net devices). */
    public QemuGuest net(Path socket) {
        return net(socket, 1);
    }

    public QemuGuest net(Path socket, int queuePairs) {
        long n = devices.stream().filter(d -> d instanceof Net).count();
        return device(new Net(socket, queuePairs, String.format("52:54:00:12:34:%02x", 0x50 + n), NetInterrupts.AUTO));
    }

    /** Runs {@code c} in the guest. */
    public QemuGuest run(GuestCase c) {
        return script(c.command());
    }

    /** Any busy-box shell script; its exit status decides pass or fail. */
    public QemuGuest script(String shellScript) {
        this.script = Objects.requireNonNull(shellScript);
        return this;
    }

    /** Exported to the guest script. */
    public QemuGuest env(String name, Object value) {
        if (!ENV_NAME.matcher(name).matches()) throw new IllegalArgumentException("bad environment name " + name);
        env.put(name, String.valueOf(value));
        return this;
    }

    public QemuGuest accel(Accel accel) {
        this.accel = Objects.requireNonNull(accel);
        return this;
    }

    public QemuGuest memoryMib(int mib) {
        if (mib < 128) throw new IllegalArgumentException("guest memory " + mib + " MiB < 128");
        this.memoryMib = mib;
        return this;
    }

    public QemuGuest cpus(int cpus) {
        if (cpus < 1 || cpus > 64) throw new IllegalArgumentException("cpus " + cpus);
        this.cpus = cpus;
        return this;
    }

    /** The whole run, boot included; QEMU is killed when it is over. Default 3 minutes. */
    public QemuGuest timeout(Duration timeout) {
        this.timeout = Objects.requireNonNull(timeout);
        return this;
    }

    /** Where the console goes (default: a new file in ${java.io.tmpdir}/vhostj-guest-logs). */
    public QemuGuest consoleLog(Path file) {
        this.consoleLog = file;
        return this;
    }

    /**
     * Called with each console line (CRs and terminal escapes removed), on the console reader thread.
     * It must return quickly: while it runs, QEMU's console output, and so the guest, waits.
     */
    public QemuGuest onConsoleLine(Consumer<String> listener) {
        this.consoleListener = Objects.requireNonNull(listener);
        return this;
    }

    /** Appended to the kernel command line. */
    public QemuGuest kernelArgs(String args) {
        this.kernelArgs = Objects.requireNonNull(args);
        return this;
    }

    /** Appended to QEMU's command line as they are. */
    public QemuGuest qemuArgs(String... args) {
        extraQemuArgs.addAll(List.of(args));
        return this;
    }

    /** Boots, runs the script and waits for the guest to power off (or the timeout). */
    public GuestResult run() throws IOException, InterruptedException {
        try (RunningGuest guest = start()) {
            return guest.await();
        }
    }

    /** Starts QEMU; the caller owns the returned guest and must close it. */
    public RunningGuest start() throws IOException {
        Path qemu = findProgram("qemu-system-x86_64");
        if (qemu == null) throw new IOException("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)");
        for (Device d : devices) {
            if (!Files.exists(d.socket())) throw new IOException(d + ": no socket at " + d.socket() + " (start the backend first)");
        }
        Path log = consoleLog != null ? consoleLog : defaultLog();
        Files.createDirectories(log.toAbsolutePath().getParent());
        Path runDir = Files.createTempDirectory("vhostj-guest-run");
        try {
            Path initrd = runDir.resolve("initrd.cpio.gz");
            Files.copy(image.initramfs(), initrd);
            try (OutputStream out = Files.newOutputStream(initrd, StandardOpenOption.APPEND)) {
                out.write(runArchive());
            }
            List<String> command = commandLine(qemu.toString(), initrd);
            return RunningGuest.start(command, runDir, log, consoleListener, timeout);
        } catch (IOException | RuntimeException e) {
            GuestImage.deleteTree(runDir);
            throw e;
        }
    }

    /** QEMU's argv for this configuration, with {@code initrd} as the initramfs. */
    public List<String> commandLine(String qemu, Path initrd) {
        String mem = memoryMib + "M";
        List<String> cmd = new ArrayList<>(List.of(qemu));
        if (accel == Accel.KVM) {
            cmd.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            // thread=multi: one host thread per vCPU; tb-size: a 256 MiB code cache instead of 1 GiB
            cmd.addAll(List.of("-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max"));
        }
        cmd.addAll(List.of("-m", mem, "-smp", Integer.toString(cpus),
                "-object", "memory-backend-memfd,id=mem,size=" + mem + ",share=on", "-numa", "node,memdev=mem",
                "-kernel", image.kernel().toString(), "-initrd", initrd.toString(),
                "-append", ("console=ttyS0 quiet panic=-1 reboot=t " + kernelArgs).strip(),
                "-nographic", "-nodefaults", "-no-user-config", "-serial", "stdio", "-no-reboot"));
        int blk = 0, fs = 0, net = 0, custom = 0;
        for (Device d : devices) {
            switch (d) {
                case Blk b -> {
                    cmd.addAll(List.of("-chardev", "socket,id=blk" + blk + ",path=" + b.socket() + (b.reconnect() ? ",reconnect=1" : ""),
                            "-device", "vhost-user-blk-pci,id=vblk" + blk + ",chardev=blk" + blk + ",num-queues=" + b.queues()
                                    + (b.packed() ? ",packed=on" : "")));
                    blk++;
                }
                case Fs f -> {
                    cmd.addAll(List.of("-chardev", "socket,id=fs" + fs + ",path=" + f.socket(),
                            "-device", "vhost-user-fs-pci,id=vfs" + fs + ",chardev=fs" + fs + ",tag=" + f.tag()
                                    + ",queue-size=" + f.queueSize()));
                    fs++;
                }
                case Net n -> {
                    cmd.addAll(List.of("-chardev", "socket,id=net" + net + ",path=" + n.socket(),
                            "-netdev", "vhost-user,id=hn" + net + ",chardev=net" + net + ",queues=" + n.queues(),
                            // romfile=: no iPXE option ROM, we boot with -kernel
                            "-device", "virtio-net-pci,id=vnet" + net + ",netdev=hn" + net + ",mac=" + n.mac()
                                    + ",romfile=" + netInterruptOptions(n, accel)));
                    net++;
                }
                case Custom c -> {
                    cmd.addAll(List.of("-chardev", "socket,id=vu" + custom + ",path=" + c.socket(),
                            "-device", c.qemuDevice() + ",id=vdev" + custom + ",chardev=vu" + custom
                                    + (c.options().isEmpty() ? "" : "," + c.options())));
                    custom++;
                }
            }
        }
        cmd.addAll(extraQemuArgs);
        return cmd;
    }

    /** The virtio-net-pci options that choose its interrupts (see NET-TCG-MSIX.md). */
    static String netInterruptOptions(Net n, Accel accel) {
        String mq = n.queues() > 1 ? ",mq=on" : "";
        boolean msix = switch (n.interrupts()) {
            case AUTO -> accel == Accel.KVM;
            case MSIX -> true;
            case INTX -> false;
        };
        if (!msix) return mq + ",vectors=0";
        // one vector per queue, one for the control queue, one for config changes
        return n.queues() > 1 ? mq + ",vectors=" + (2 * n.queues() + 2) : "";
    }

    /** The gzip'd cpio appended to the initramfs: /run/vhostj/test.sh with the environment exports. */
    byte[] runArchive() throws IOException {
        StringBuilder sh = new StringBuilder();
        for (var e : env.entrySet()) sh.append("export ").append(e.getKey()).append('=').append(shellQuote(e.getValue())).append('\n');
        sh.append(script != null ? script : GuestCase.SMOKE.command()).append('\n');
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            CpioNewcWriter cpio = new CpioNewcWriter(gz);
            cpio.file("run/vhostj/test.sh", 0755, sh.toString().getBytes(StandardCharsets.UTF_8));
            cpio.finish();
        }
        return bytes.toByteArray();
    }

    static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private static Accel defaultAccel() {
        return "kvm".equalsIgnoreCase(System.getProperty("vhostj.guest.accel", "tcg")) ? Accel.KVM : Accel.TCG;
    }

    private static Path defaultLog() {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        return Path.of(System.getProperty("java.io.tmpdir"), "vhostj-guest-logs",
                "guest-" + stamp + "-" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet() + ".log");
    }

    /** An executable {@code name} on PATH or in the sbin directories; null if there is none. */
    public static Path findProgram(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }
}
