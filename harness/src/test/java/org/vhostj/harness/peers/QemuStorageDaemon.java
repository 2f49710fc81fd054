package org.vhostj.harness.peers;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.vhostj.vhost.testing.HostPackages;

/** qemu-storage-daemon exporting a raw image file as vhost-user-blk, for tests. Closes the process, then its temp dir. */
public final class QemuStorageDaemon implements AutoCloseable {
    public final Path dir, image, socket;
    public final PeerProcess process;

    private QemuStorageDaemon(Path dir, Path image, Path socket, PeerProcess process) {
        this.dir = dir;
        this.image = image;
        this.socket = socket;
        this.process = process;
    }

    /** A {@code sizeBytes} raw image (sparse) exported with {@code queues} queues. */
    public static QemuStorageDaemon start(long sizeBytes, int queues) throws IOException, InterruptedException {
        HostPackages.require("qemu-storage-daemon", "qemu-system-common");
        Path dir = Files.createTempDirectory("vhost-harness-qsd");
        Path image = dir.resolve("disk.raw"), socket = dir.resolve("blk.sock");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) { f.setLength(sizeBytes); }
        try {
            PeerProcess p = PeerProcess.start("qemu-storage-daemon", socket, dir.resolve("qsd.log"), List.of(
                    "qemu-storage-daemon",
                    "--blockdev", "driver=file,node-name=disk0,filename=" + image + ",cache.direct=off",
                    "--export", "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=" + socket
                            + ",writable=on,num-queues=" + queues));
            return new QemuStorageDaemon(dir, image, socket, p);
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
