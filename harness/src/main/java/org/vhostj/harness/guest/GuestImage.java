package org.vhostj.harness.guest;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * A bootable test guest: Debian's Linux 6.1 kernel as an uncompressed vmlinux (QEMU enters it through
 * its PVH entry, which under TCG boots about 3 s faster than the bzImage) and a busybox initramfs with
 * the virtio modules, the /init of {@code init.sh} and the {@link GuestCase} scripts; optionally fio with
 * its shared libraries (a 30 MB larger initramfs that boots about 2 s slower, for perf).
 *
 * <p>Everything comes from Debian packages: {@code apt-get download} of the kernel image that
 * linux-image-amd64 depends on and of busybox-static, unpacked with {@code dpkg -x}, never installed.
 * Downloads, unpacked trees and initramfs archives are cached in {@link #defaultCacheDir()}; an
 * initramfs is keyed by a hash of everything that goes into it, so edited scripts give a new one and
 * an unchanged build costs a directory listing. A file lock serialises builds across JVMs.
 *
 * <p>Immutable once built; {@link #shared(boolean)} gives one image per JVM and flavour.
 */
public final class GuestImage {
    /** Modules loaded by /init, each with its dependencies (modprobe --show-depends), in this order. */
    public static final List<String> MODULES =
            List.of("virtio_pci", "virtio_blk", "virtio_net", "virtiofs", "fuse", "virtio_rng", "ext4", "pktgen");

    private static final String RESOURCES = "/org/vhostj/harness/guest/";
    /** Bump when the layout of the initramfs changes in a way the hashed inputs do not show. */
    private static final String FORMAT = "vhostj-guest-1";
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final int UNUSED_ARCHIVE_DAYS = 3;
    private static final byte[] XZ_MAGIC = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
    private static final Map<Boolean, GuestImage> SHARED = new LinkedHashMap<>();

    private final Path kernel;
    private final Path initramfs;
    private final String kernelVersion;
    private final boolean withFio;

    private GuestImage(Path kernel, Path initramfs, String kernelVersion, boolean withFio) {
        this.kernel = kernel;
        this.initramfs = initramfs;
        this.kernelVersion = kernelVersion;
        this.withFio = withFio;
    }

    /** The uncompressed kernel (ELF with a PVH note), for QEMU's -kernel. */
    public Path kernel() {
        return kernel;
    }

    /** The gzip'd newc initramfs, for QEMU's -initrd (QemuGuest appends a per-run archive to a copy). */
    public Path initramfs() {
        return initramfs;
    }

    /** e.g. 6.1.0-50-amd64 */
    public String kernelVersion() {
        return kernelVersion;
    }

    public boolean hasFio() {
        return withFio;
    }

    @Override
    public String toString() {
        return "GuestImage[kernel " + kernelVersion + (withFio ? ", fio" : "") + ", " + initramfs + "]";
    }

    /** Host programs a build needs (and QEMU, which every run needs). */
    public static List<HostProgram> hostPrograms(boolean withFio) {
        List<HostProgram> programs = new ArrayList<>(List.of(
                new HostProgram("qemu-system-x86_64", "qemu-system-x86"),
                new HostProgram("apt-get", "apt"),
                new HostProgram("dpkg", "dpkg"),
                new HostProgram("depmod", "kmod"),
                new HostProgram("modprobe", "kmod"),
                new HostProgram("xz", "xz-utils")));
        if (withFio) {
            programs.add(new HostProgram("fio", "fio"));
            programs.add(new HostProgram("ldd", "libc-bin"));
        }
        return programs;
    }

    /** -Dvhostj.guest.cache, else ${java.io.tmpdir}/vhostj-guest. */
    public static Path defaultCacheDir() {
        String configured = System.getProperty("vhostj.guest.cache");
        if (configured != null && !configured.isBlank()) return Path.of(configured);
        return Path.of(System.getProperty("java.io.tmpdir"), "vhostj-guest");
    }

    /** One image per JVM and flavour, built (or found in the cache) on first use. */
    public static GuestImage shared(boolean withFio) throws IOException {
        synchronized (SHARED) {
            GuestImage image = SHARED.get(withFio);
            if (image == null) {
                image = build(defaultCacheDir(), withFio);
                SHARED.put(withFio, image);
            }
            return image;
        }
    }

    /** Builds the image in {@code cacheDir}, or finds it there. */
    public static GuestImage build(Path cacheDir, boolean withFio) throws IOException {
        Files.createDirectories(cacheDir);
        synchronized (GuestImage.class) {
            try (FileChannel lockFile = FileChannel.open(cacheDir.resolve(".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = lockFile.lock();
                try {
                    return new Builder(cacheDir, withFio).build();
                } finally {
                    lock.release();
                }
            }
        }
    }

    /** The steps of one build; used on one thread under the cache lock. */
    private static final class Builder {
        private final Path cache;
        private final Path debs;
        private final boolean withFio;
        private boolean aptUpdated;

        Builder(Path cache, boolean withFio) {
            this.cache = cache;
            this.debs = cache.resolve("debs");
            this.withFio = withFio;
        }

        GuestImage build() throws IOException {
            Files.createDirectories(debs);
            String kernelPackage = System.getProperty("vhostj.guest.kernelPackage");
            if (kernelPackage == null || kernelPackage.isBlank()) kernelPackage = resolveKernelPackage();
            Path kernelDeb = fetchDeb(kernelPackage);
            Path busyboxDeb = fetchDeb("busybox-static");

            Path kernelTree = unpack(kernelDeb, "kernel-");
            String version = kernelVersion(kernelTree);
            Path vmlinux = kernelTree.resolve("vmlinux");
            if (!Files.isRegularFile(vmlinux)) {
                HostCommand.run(List.of(program("depmod"), "-b", kernelTree.toString(), version), null, TOOL_TIMEOUT);
                extractVmlinux(kernelTree.resolve("boot/vmlinuz-" + version), vmlinux);
            }
            Path busybox = unpack(busyboxDeb, "busybox-").resolve("bin/busybox");
            if (!Files.isRegularFile(busybox)) throw new IOException(busyboxDeb + " holds no bin/busybox");

            List<Path> modules = moduleLoadOrder(kernelTree, version);
            Map<String, byte[]> scripts = scripts();
            Map<String, Path> fioFiles = withFio ? fioFiles() : Map.of();

            MessageDigest key = sha256();
            update(key, FORMAT, kernelDeb.getFileName().toString(), busyboxDeb.getFileName().toString());
            for (Path m : modules) update(key, m.getFileName().toString());
            for (var s : scripts.entrySet()) {
                update(key, s.getKey());
                key.update(s.getValue());
            }
            for (var f : fioFiles.entrySet()) {
                update(key, f.getKey(), Long.toString(Files.size(f.getValue())),
                        Files.getLastModifiedTime(f.getValue()).toString());
            }
            String hash = HexFormat.of().formatHex(key.digest()).substring(0, 16);
            Path initramfs = cache.resolve("initramfs-" + hash + (withFio ? "-fio" : "") + ".cpio.gz");
            if (!Files.isRegularFile(initramfs)) {
                Path tmp = Files.createTempFile(cache, "initramfs", ".tmp");
                try {
                    try (OutputStream out = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)), 1 << 16)) {
                        CpioNewcWriter cpio = new CpioNewcWriter(out);
                        for (String dir : List.of("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "mnt", "root", "etc",
                                "cases", "lib/modules", "usr/bin")) {
                            cpio.directory(dir);
                        }
                        cpio.characterDevice("dev/console", 0600, 5, 1);
                        cpio.file("bin/busybox", 0755, busybox);
                        cpio.symlink("bin/sh", "busybox");
                        StringBuilder order = new StringBuilder();
                        for (Path m : modules) {
                            cpio.file("lib/modules/" + m.getFileName(), 0644, m);
                            order.append(m.getFileName()).append('\n');
                        }
                        cpio.file("etc/modules.order", 0644, order.toString().getBytes(StandardCharsets.UTF_8));
                        cpio.file("etc/kernel-version", 0644, (version + "\n").getBytes(StandardCharsets.UTF_8));
                        for (var s : scripts.entrySet()) {
                            cpio.file(s.getKey(), s.getKey().equals("init") ? 0755 : 0644, s.getValue());
                        }
                        for (var f : fioFiles.entrySet()) cpio.file(f.getKey(), 0755, f.getValue());
                        cpio.finish();
                    }
                    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                    moveAtomically(tmp, initramfs);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            Files.setLastModifiedTime(initramfs, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
            pruneUnusedArchives(initramfs);
            return new GuestImage(vmlinux, initramfs, version, withFio);
        }

        /**
         * Deletes initramfs archives no build has used for {@link #UNUSED_ARCHIVE_DAYS} days (each
         * build touches the one it returns): edited scripts leave old ones behind, and worktrees on
         * other branches may still use recent ones.
         */
        private void pruneUnusedArchives(Path keep) throws IOException {
            java.time.Instant cutoff = java.time.Instant.now().minus(Duration.ofDays(UNUSED_ARCHIVE_DAYS));
            try (Stream<Path> files = Files.list(cache)) {
                for (Path p : files.filter(p -> p.getFileName().toString().startsWith("initramfs-")
                        && p.getFileName().toString().endsWith(".cpio.gz") && !p.equals(keep)).toList()) {
                    if (Files.getLastModifiedTime(p).toInstant().isBefore(cutoff)) Files.deleteIfExists(p);
                }
            }
        }

        /** linux-image-amd64 is a metapackage; its Depends names the real image (linux-image-6.1.0-NN-amd64). */
        private String resolveKernelPackage() throws IOException {
            Pattern depends = Pattern.compile("Depends:\\s*(linux-image-[0-9]\\S*)");
            for (int attempt = 0; attempt < 2; attempt++) {
                try {
                    Matcher m = depends.matcher(HostCommand.run(List.of("apt-cache", "depends", "linux-image-amd64"), null, TOOL_TIMEOUT));
                    if (m.find()) return m.group(1);
                } catch (IOException e) {
                    // stale or missing package lists: try once more after apt-get update
                }
                if (!aptUpdate()) break;
            }
            try (Stream<Path> cached = Files.list(debs)) {   // offline: the newest kernel already downloaded
                return cached.map(p -> p.getFileName().toString())
                        .filter(n -> n.startsWith("linux-image-") && n.endsWith(".deb"))
                        .max(Comparator.naturalOrder())
                        .map(n -> n.substring(0, n.indexOf('_')))
                        .orElseThrow(() -> new IOException("cannot resolve linux-image-amd64 with apt-cache (run apt-get update)"));
            }
        }

        /** The cached .deb of {@code pkg}, downloaded with apt-get download if there is none. */
        private Path fetchDeb(String pkg) throws IOException {
            Path cached = cachedDeb(pkg);
            if (cached != null) return cached;
            Path work = Files.createTempDirectory(cache, "download");
            try {
                for (int attempt = 0; ; attempt++) {
                    try {
                        HostCommand.run(List.of("apt-get", "download", "-q", pkg), work, DOWNLOAD_TIMEOUT);
                        break;
                    } catch (IOException e) {
                        if (attempt > 0 || !aptUpdate()) throw e;
                    }
                }
                try (Stream<Path> files = Files.list(work)) {
                    for (Path deb : files.filter(p -> p.getFileName().toString().endsWith(".deb")).toList()) {
                        moveAtomically(deb, debs.resolve(deb.getFileName()));
                    }
                }
            } finally {
                deleteTree(work);
            }
            cached = cachedDeb(pkg);
            if (cached == null) throw new IOException("apt-get download " + pkg + " left no " + pkg + "_*.deb");
            return cached;
        }

        private Path cachedDeb(String pkg) throws IOException {
            try (Stream<Path> files = Files.list(debs)) {
                return files.filter(p -> p.getFileName().toString().startsWith(pkg + "_")
                                && p.getFileName().toString().endsWith(".deb"))
                        .max(Comparator.comparing(p -> p.getFileName().toString())).orElse(null);
            }
        }

        /** apt-get update once per build, as root only; false if it was not (or could not be) run. */
        private boolean aptUpdate() {
            if (aptUpdated || !"root".equals(System.getProperty("user.name"))) return false;
            aptUpdated = true;
            try {
                HostCommand.run(List.of("apt-get", "update", "-q"), null, DOWNLOAD_TIMEOUT);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /** dpkg -x of {@code deb} into cache/PREFIX+name, once (a .done marker records completion). */
        private Path unpack(Path deb, String prefix) throws IOException {
            String name = deb.getFileName().toString();
            Path tree = cache.resolve(prefix + name.substring(0, name.length() - ".deb".length()));
            if (Files.exists(tree.resolve(".done"))) return tree;
            deleteTree(tree);
            Files.createDirectories(tree);
            HostCommand.run(List.of("dpkg", "-x", deb.toString(), tree.toString()), null, TOOL_TIMEOUT);
            Files.createFile(tree.resolve(".done"));
            return tree;
        }

        private static String kernelVersion(Path kernelTree) throws IOException {
            try (Stream<Path> versions = Files.list(kernelTree.resolve("lib/modules"))) {
                return versions.map(p -> p.getFileName().toString()).findFirst()
                        .orElseThrow(() -> new IOException(kernelTree + " has no lib/modules/<version>"));
            }
        }

        /**
         * The bzImage carries the kernel as an xz stream after its setup code; decompressing from the
         * stream's magic gives the ELF vmlinux (what the kernel's scripts/extract-vmlinux does).
         */
        private static void extractVmlinux(Path vmlinuz, Path vmlinux) throws IOException {
            byte[] image = Files.readAllBytes(vmlinuz);
            int at = indexOf(image, XZ_MAGIC);
            if (at < 0) throw new IOException(vmlinuz + " holds no xz stream (not an xz-compressed bzImage?)");
            Path tmp = vmlinux.resolveSibling("vmlinux.tmp");
            Process xz = new ProcessBuilder("xz", "-dc", "--single-stream")
                    .redirectOutput(tmp.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (OutputStream in = xz.getOutputStream()) {
                in.write(image, at, image.length - at);
            } catch (IOException e) {
                // xz stops reading after the stream's end: a broken pipe here is expected
            }
            try {
                xz.waitFor();
            } catch (InterruptedException e) {
                xz.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while extracting vmlinux", e);
            }
            byte[] head = new byte[4];
            try (InputStream check = Files.newInputStream(tmp)) {
                if (check.readNBytes(head, 0, 4) != 4 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
                    throw new IOException("xz -d of " + vmlinuz + " gave no ELF (xz exit " + xz.exitValue() + ")");
                }
            }
            moveAtomically(tmp, vmlinux);
        }

        /** Every module file to load, dependencies first, each once; built-in ones need nothing. */
        private static List<Path> moduleLoadOrder(Path kernelTree, String version) throws IOException {
            LinkedHashMap<String, Path> order = new LinkedHashMap<>();
            for (String module : MODULES) {
                String out = HostCommand.run(List.of(program("modprobe"), "-d", kernelTree.toString(), "-S", version,
                        "--show-depends", module), null, TOOL_TIMEOUT);
                for (String line : out.split("\n")) {
                    String[] words = line.trim().split("\\s+");
                    if (words.length < 2 || !words[0].equals("insmod")) continue;   // "builtin NAME"
                    Path file = Path.of(words[1]);
                    order.putIfAbsent(file.getFileName().toString(), file);
                }
            }
            return List.copyOf(order.values());
        }

        /** initramfs path -> bytes: /init and /cases/*.sh from the resources. */
        private static Map<String, byte[]> scripts() throws IOException {
            Map<String, byte[]> scripts = new LinkedHashMap<>();
            scripts.put("init", resource("init.sh"));
            scripts.put("cases/" + GuestCase.LIBRARY, resource("cases/" + GuestCase.LIBRARY));
            for (GuestCase c : GuestCase.values()) scripts.put("cases/" + c.fileName(), resource("cases/" + c.fileName()));
            return scripts;
        }

        /** fio and every shared object ldd resolves for it (with the loader), at the paths ldd printed. */
        private static Map<String, Path> fioFiles() throws IOException {
            Path fio = QemuGuest.findProgram("fio");
            if (fio == null) throw new IOException("fio is not installed (Debian package fio)");
            Map<String, Path> files = new LinkedHashMap<>();
            files.put("usr/bin/fio", fio.toRealPath());
            // lines: "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
            Pattern library = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");
            for (String line : HostCommand.run(List.of("ldd", fio.toString()), null, TOOL_TIMEOUT).split("\n")) {
                Matcher m = library.matcher(line);
                if (m.find()) files.put(m.group(1).substring(1), Path.of(m.group(1)).toRealPath());
            }
            return files;
        }
    }

    /** {@code name}'s path (depmod and modprobe live in /usr/sbin, which a user's PATH may lack). */
    private static String program(String name) throws IOException {
        Path p = QemuGuest.findProgram(name);
        if (p == null) throw new IOException(name + " is not installed");
        return p.toString();
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = GuestImage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) throw new IOException("missing resource " + RESOURCES + name);
            return in.readAllBytes();
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest digest, String... parts) {
        for (String p : parts) {
            digest.update(p.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
        }
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
