package org.vhostj.harness.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One short host command run to completion (apt-get download, dpkg -x, depmod, modprobe, xz), its
 * stdout and stderr captured in a temp file. Called on the thread that builds a guest image.
 */
final class HostCommand {
    private HostCommand() {}

    /** Runs {@code argv} in {@code directory} (null: the current one); returns its output, or throws naming the command and its last lines. */
    static String run(List<String> argv, Path directory, Duration timeout) throws IOException {
        Path output = Files.createTempFile("vhostj-cmd", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            if (directory != null) pb.directory(directory.toFile());
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            pb.environment().put("LC_ALL", "C");
            Process p = pb.start();
            boolean exited;
            try {
                exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException(String.join(" ", argv) + ": interrupted", e);
            }
            if (!exited) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + ": no exit within " + timeout);
            }
            String out = Files.readString(output, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", argv) + " exited " + p.exitValue() + ": " + tail(out, 5));
            }
            return out;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    static String tail(String text, int lines) {
        String[] all = text.strip().split("\n");
        int from = Math.max(0, all.length - lines);
        return String.join(" | ", List.of(all).subList(from, all.length));
    }
}
