package org.vhostj.vhost.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Makes sure the host programs a test needs (QEMU, qemu-storage-daemon, virtiofsd, DPDK testpmd...) are
 * installed, installing the Debian packages that provide them when the test runs as root, so a fresh CI
 * machine passes. Without root (or apt) the test is skipped with a message naming what is missing.
 */
public final class HostPackages {
    private HostPackages() {}

    /** Ensures {@code program} (an absolute path or a name on PATH) exists, installing {@code packages} if not. */
    public static synchronized Path require(String program, String... packages) {
        Path found = locate(program);
        if (found != null) return found;
        String why = install(packages);
        found = locate(program);
        Assumptions.assumeTrue(found != null, () -> program + " is not installed and could not be installed (" + why + ")");
        return found;
    }

    /** Ensures the file {@code path} (a library, a module) exists, installing {@code packages} if not. */
    public static synchronized Path requireFile(Path path, String... packages) {
        if (Files.exists(path)) return path;
        String why = install(packages);
        Assumptions.assumeTrue(Files.exists(path), () -> path + " is not installed and could not be installed (" + why + ")");
        return path;
    }

    /** True if the test is allowed to run slow, external-process tests (-Dvhostj.skipSlow=true turns them off). */
    public static void assumeSlowTestsEnabled() {
        Assumptions.assumeFalse(Boolean.getBoolean("vhostj.skipSlow"), "slow tests disabled by -Dvhostj.skipSlow=true");
    }

    private static Path locate(String program) {
        if (program.startsWith("/")) return Files.isExecutable(Path.of(program)) ? Path.of(program) : null;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p;
        }
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    private static String install(String... packages) {
        if (packages.length == 0) return "no package given";
        if (!"root".equals(System.getProperty("user.name"))) return "not root, cannot apt-get install " + String.join(" ", packages);
        String r = apt(packages);
        if (r == null) return "installed";
        // a fresh machine may have stale package lists
        String u = run(List.of("apt-get", "update", "-q"));
        if (u != null) return "apt-get update failed: " + u;
        r = apt(packages);
        return r == null ? "installed" : r;
    }

    private static String apt(String... packages) {
        List<String> cmd = new ArrayList<>(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends"));
        cmd.addAll(List.of(packages));
        return run(cmd);
    }

    /** Runs a command; null on success, else a short reason. */
    private static String run(List<String> cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Path log = Files.createTempFile("apt", ".log");
            Process p = pb.redirectOutput(log.toFile()).start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) { p.destroyForcibly(); return String.join(" ", cmd) + " timed out"; }
            String out = Files.readString(log);
            Files.deleteIfExists(log);
            if (p.exitValue() == 0) return null;
            String[] lines = out.strip().split("\n");
            return String.join(" ", cmd) + " exited " + p.exitValue() + ": " + lines[lines.length - 1];
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
