package org.vhostj.fs;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fcntl;
import org.vhostj.sys.FsCalls;
import org.vhostj.sys.LibC;

/**
 * The process-level sandbox around the daemon (virtiofsd's --sandbox), on top of the in-process confinement
 * that every mode has (name checks, openat2 beneath O_PATH inodes, no open of special files; see
 * {@link org.vhostj.fs.passthrough.PassthroughFs}). Called on the main thread during startup only.
 *
 * <ul>
 * <li><b>none</b>: in-process confinement only. A bug that resolved a host path by string would see the
 *     whole host filesystem with the daemon's privileges.</li>
 * <li><b>chroot</b>: after everything is open, the process's root becomes an empty directory that is then
 *     deleted: no path-based access (a bug resolving an absolute path, a symlink followed by mistake, a
 *     lazily loaded class or library) finds any file. Not chrooted into the share itself, as virtiofsd
 *     does: a JVM that later loaded a class or library by path would load guest-controlled files. Does not
 *     stop a compromised process that keeps CAP_SYS_CHROOT (it can escape a chroot), nor access through
 *     the fds it holds (the share, /proc/self/fd).</li>
 * <li><b>namespace</b>: the daemon re-executes itself under {@code unshare --mount --propagation private}
 *     (a running JVM cannot move all its threads into a new mount namespace), then pivot_roots into a
 *     read-only tmpfs that holds only read-only, nosuid, nodev bind mounts of the JDK and the daemon's jars,
 *     and detaches the host's mount tree. Host files outside the share are then not reachable by any path,
 *     /proc and /dev are absent (only /dev/null and /dev/urandom), and nothing the daemon mounts
 *     propagates to the host. Does not give PID, network or user namespaces, seccomp or a capability drop:
 *     a compromised process with CAP_SYS_ADMIN could still mount or open by handle, and the fds it holds
 *     stay valid.</li>
 * </ul>
 * chroot and namespace need root. Both preload every class of the daemon's jars first, so nothing is
 * loaded by path afterwards.
 */
final class Sandbox {
    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
    /** Set in the environment of the re-executed daemon: it already runs in its own mount namespace. */
    static final String IN_NAMESPACE_ENV = "VHOSTJ_FS_MOUNT_NAMESPACE";

    enum Mode {
        NAMESPACE, CHROOT, NONE;

        static Mode parse(String s) { return valueOf(s.trim().toUpperCase(Locale.ROOT)); }
    }

    private Sandbox() {}

    /** Drops every supplementary group of the process (all threads), so none leaks into created files. */
    static void dropSupplementaryGroups() {
        int r = FsCalls.setgroups(0, MemorySegment.NULL);
        if (r < 0) log.warn("setgroups(0): {}", org.vhostj.sys.Errno.describe(-r));
    }

    /**
     * Unless already inside one, re-executes this JVM, with the same command line, under
     * {@code unshare --mount --propagation private}. execve keeps inherited descriptors (systemd's
     * listening socket, --fd) and the pid. Returns only when already inside the namespace.
     */
    static void enterMountNamespace() {
        if ("1".equals(System.getenv(IN_NAMESPACE_ENV))) return;
        ProcessHandle.Info info = ProcessHandle.current().info();
        String java = info.command().orElseThrow(() -> new IllegalStateException("--sandbox namespace: cannot read this JVM's command"));
        String[] jvmArgs = info.arguments().orElseThrow(() -> new IllegalStateException("--sandbox namespace: cannot read this JVM's arguments"));
        String unshare = Files.isExecutable(Path.of("/usr/bin/unshare")) ? "/usr/bin/unshare" : "/bin/unshare";
        if (!Files.isExecutable(Path.of(unshare))) throw new IllegalStateException("--sandbox namespace needs unshare(1) (util-linux)");
        List<String> argv = new ArrayList<>(List.of(unshare, "--mount", "--propagation", "private", "--", java));
        for (String arg : jvmArgs) {
            // the launcher's class-data-sharing archive is written at exit, which the sandbox cannot do: only read it
            if (!arg.equals("-XX:+AutoCreateSharedArchive")) argv.add(arg);
        }
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) env.add(e.getKey() + "=" + e.getValue());
        env.add(IN_NAMESPACE_ENV + "=1");
        log.debug("entering a private mount namespace: {}", argv);
        System.out.flush();
        System.err.flush();
        try (Arena a = Arena.ofConfined()) {
            int r = FsCalls.execve(a.allocateFrom(unshare), pointers(a, argv), pointers(a, env));
            throw new ErrnoException("execve(" + unshare + ")", -r);
        }
    }

    private static MemorySegment pointers(Arena a, List<String> strings) {
        MemorySegment array = a.allocate(ValueLayout.ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) array.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(strings.get(i)));
        array.setAtIndex(ValueLayout.ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }

    /** Enters {@code mode} (after the filesystem and the socket are open; before the guest is served). */
    static void enter(Mode mode) {
        if (mode == Mode.NONE) return;
        preloadClasses();
        if (mode == Mode.CHROOT) chrootIntoDeletedDir();
        else pivotIntoRuntimeOnlyRoot();
    }

    /** Loads every class of the class path's jars and directories, so none is looked up by path later. */
    static int preloadClasses() {
        int loaded = 0;
        ClassLoader loader = Sandbox.class.getClassLoader();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.endsWith(".jar")) continue;
            try (JarFile jar = new JarFile(entry)) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    String name = e.nextElement().getName();
                    if (!name.endsWith(".class") || name.contains("-") || name.startsWith("META-INF")) continue;
                    try {
                        Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
                        loaded++;
                    } catch (Throwable t) {
                        // an optional dependency is missing: that class is never used here
                    }
                }
            } catch (IOException e) {
                log.warn("preloading {}: {}", entry, e.toString());
            }
        }
        log.debug("preloaded {} classes before entering the sandbox", loaded);
        return loaded;
    }

    private static void chrootIntoDeletedDir() {
        try (Arena a = Arena.ofConfined()) {
            Path dir = Files.createTempDirectory("vhost-user-fs-root-");
            int parent = ErrnoException.check("open(" + dir.getParent() + ")",
                    LibC.openat(Fcntl.AT_FDCWD, a.allocateFrom(dir.getParent().toString()), Fcntl.O_PATH | Fcntl.O_DIRECTORY | Fcntl.O_CLOEXEC, 0));
            try {
                ErrnoException.check("chdir(" + dir + ")", FsCalls.chdir(a.allocateFrom(dir.toString())));
                ErrnoException.check("chroot(" + dir + ")", LibC.chroot(a.allocateFrom(".")));
                ErrnoException.check("chdir(/)", FsCalls.chdir(a.allocateFrom("/")));
                // the directory we are rooted in goes away: nothing can be created in it any more
                ErrnoException.check("rmdir(" + dir + ")", LibC.unlinkat(parent, a.allocateFrom(dir.getFileName().toString()), Fcntl.AT_REMOVEDIR));
            } finally {
                LibC.close(parent);
            }
            log.info("sandbox: chrooted into an empty, deleted directory");
        } catch (IOException e) {
            throw new IllegalStateException("--sandbox chroot: " + e.getMessage(), e);
        }
    }

    private static void pivotIntoRuntimeOnlyRoot() {
        if (!"1".equals(System.getenv(IN_NAMESPACE_ENV))) throw new IllegalStateException("--sandbox namespace: not in a private mount namespace");
        // What the JVM may still need by path: its runtime image and the class path, read-only.
        Set<String> binds = new LinkedHashSet<>();
        binds.add(Path.of(System.getProperty("java.home")).toAbsolutePath().normalize().toString());
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath().normalize();
            binds.add((Files.isDirectory(p) ? p : p.getParent()).toString());
        }
        List<String> devices = List.of("/dev/null", "/dev/urandom");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment none = a.allocateFrom("none");
            ErrnoException.check("mount(/, MS_REC|MS_PRIVATE)", FsCalls.mount(MemorySegment.NULL, a.allocateFrom("/"), MemorySegment.NULL,
                    FsCalls.MS_REC | FsCalls.MS_PRIVATE, MemorySegment.NULL));
            // Hold every bind source by fd before the tmpfs may cover it (a class path under /tmp).
            List<Integer> sources = new ArrayList<>();
            List<String> targets = new ArrayList<>(binds);
            targets.addAll(devices);
            for (String t : targets) {
                sources.add(ErrnoException.check("open(" + t + ")", LibC.openat(Fcntl.AT_FDCWD, a.allocateFrom(t), Fcntl.O_PATH | Fcntl.O_CLOEXEC, 0)));
            }
            String newRoot = "/tmp";
            ErrnoException.check("mount(tmpfs, " + newRoot + ")", FsCalls.mount(none, a.allocateFrom(newRoot), a.allocateFrom("tmpfs"),
                    FsCalls.MS_NOSUID | FsCalls.MS_NODEV, a.allocateFrom("mode=0755,size=1m")));
            for (int i = 0; i < targets.size(); i++) {
                String t = targets.get(i);
                Path at = Path.of(newRoot + t);
                boolean device = i >= binds.size();
                if (device) {
                    Files.createDirectories(at.getParent());
                    Files.createFile(at);
                } else {
                    Files.createDirectories(at);
                }
                MemorySegment target = a.allocateFrom(at.toString());
                ErrnoException.check("bind " + t, FsCalls.mount(a.allocateFrom("/proc/self/fd/" + sources.get(i)), target, MemorySegment.NULL,
                        FsCalls.MS_BIND | FsCalls.MS_REC, MemorySegment.NULL));
                long ro = FsCalls.MS_REMOUNT | FsCalls.MS_BIND | FsCalls.MS_RDONLY | FsCalls.MS_NOSUID | (device ? 0 : FsCalls.MS_NODEV);
                ErrnoException.check("remount " + t + " read-only", FsCalls.mount(MemorySegment.NULL, target, MemorySegment.NULL, ro, MemorySegment.NULL));
                LibC.close(sources.get(i));
            }
            Files.createDirectory(Path.of(newRoot, ".old"));
            ErrnoException.check("chdir(" + newRoot + ")", FsCalls.chdir(a.allocateFrom(newRoot)));
            ErrnoException.check("pivot_root", FsCalls.pivotRoot(a.allocateFrom("."), a.allocateFrom(".old")));
            ErrnoException.check("chdir(/)", FsCalls.chdir(a.allocateFrom("/")));
            ErrnoException.check("umount(/.old)", FsCalls.umount2(a.allocateFrom("/.old"), FsCalls.MNT_DETACH));
            ErrnoException.check("rmdir(/.old)", LibC.unlinkat(Fcntl.AT_FDCWD, a.allocateFrom("/.old"), Fcntl.AT_REMOVEDIR));
            ErrnoException.check("remount / read-only", FsCalls.mount(MemorySegment.NULL, a.allocateFrom("/"), MemorySegment.NULL,
                    FsCalls.MS_REMOUNT | FsCalls.MS_RDONLY | FsCalls.MS_NOSUID | FsCalls.MS_NODEV, MemorySegment.NULL));
            log.info("sandbox: private mount namespace, root is a read-only tmpfs with {} read-only bind mounts", targets.size());
        } catch (IOException e) {
            throw new IllegalStateException("--sandbox namespace: " + e.getMessage(), e);
        }
    }
}
