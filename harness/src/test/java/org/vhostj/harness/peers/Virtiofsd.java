package org.vhostj.harness.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.vhostj.vhost.testing.HostPackages;

/** The C virtiofsd of QEMU 7.2 sharing a fresh temp directory (chroot sandbox), for tests. */
public final class Virtiofsd implements AutoCloseable {
    public static final String BINARY = "/usr/lib/qemu/virtiofsd";

    public final Path dir, shared, socket;
    public final PeerProcess process;

    private Virtiofsd(Path dir, Path shared, Path socket, PeerProcess process) {
        this.dir = dir;
        this.shared = shared;
        this.socket = socket;
        this.process = process;
    }

    public static Virtiofsd start() throws IOException, InterruptedException {
        HostPackages.require(BINARY, "qemu-system-common");
        Path dir = Files.createTempDirectory("vhost-harness-vfsd");
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Path socket = dir.resolve("fs.sock");
        try {
            PeerProcess p = PeerProcess.start("virtiofsd", socket, dir.resolve("virtiofsd.log"), List.of(
                    BINARY, "--socket-path=" + socket, "-o", "source=" + shared, "-o", "cache=auto", "-o", "sandbox=chroot"));
            return new Virtiofsd(dir, shared, socket, p);
        } catch (IOException | RuntimeException | InterruptedException e) {
            TempDirs.delete(dir);
            throw e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
        TempDirs.delete(dir);
    }
}
