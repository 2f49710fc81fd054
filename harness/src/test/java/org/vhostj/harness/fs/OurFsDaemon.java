package org.vhostj.harness.fs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line that starts our virtio-fs daemon ({@code org.vhostj.fs.FsDaemon}) as its own process,
 * on this JVM's class path, with virtiofsd's option names. Tests start it through {@link FsBackend}.
 */
final class OurFsDaemon {
    private OurFsDaemon() {}

    static final String MAIN_CLASS = "org.vhostj.fs.FsDaemon";

    /** True once the daemon's main class is on the class path (branch fs merged). */
    static boolean available() {
        try {
            Class.forName(MAIN_CLASS, false, OurFsDaemon.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static List<String> command(Path socket, Path shared, String... extra) {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), MAIN_CLASS,
                "--socket-path", socket.toString(), "--shared-dir", shared.toString(), "--cache", "auto"));
        cmd.addAll(List.of(extra));
        return cmd;
    }
}
