package org.vhostj.blk;

import java.nio.file.Files;
import java.nio.file.Path;
import org.vhostj.vhost.cli.DaemonCommand;
import org.vhostj.vhost.cli.UsageException;
import org.vhostj.vhost.device.VirtioDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vhost-user-blk}: serves a raw image (a file or a block device) to any vhost-user front-end. The
 * shared {@link DaemonCommand} owns the socket, lifecycle and signals; this class validates the device
 * options and builds the {@link BlockDevice}, which flushes and closes the image when the daemon stops.
 */
@Command(name = "vhost-user-blk", sortOptions = false,
        description = "Serve a raw disk image or block device as a virtio-blk device over vhost-user.")
public final class BlkDaemon extends DaemonCommand {
    @Option(names = "--image", required = true, paramLabel = "FILE", order = 20,
            description = "raw image file or block device to serve")
    Path image;

    @Option(names = "--read-only", order = 21, description = "export the disk read-only (VIRTIO_BLK_F_RO); writes fail with IOERR")
    boolean readOnly;

    @Option(names = "--direct", order = 22, description = "open the image with O_DIRECT (bypass the host page cache)")
    boolean direct;

    @Option(names = "--num-queues", paramLabel = "N", order = 23, description = "request queues, 1..64 (default: ${DEFAULT-VALUE})")
    int numQueues = 1;

    @Option(names = "--queue-size", paramLabel = "N", order = 24,
            description = "largest ring a front-end may use, a power of two in 2..1024 (default: ${DEFAULT-VALUE})")
    int queueSize = 256;

    @Option(names = "--serial", paramLabel = "ID", order = 25, description = "serial number GET_ID answers, at most 20 ASCII characters")
    String serial = "";

    @Option(names = "--io-engine", paramLabel = "ENGINE", order = 26,
            description = "auto (io_uring for disks, synchronous for images in tmpfs), sync or uring (default: ${DEFAULT-VALUE})")
    DiskImage.IoEngine ioEngine = DiskImage.IoEngine.AUTO;

    @Option(names = "--copy-threads", paramLabel = "N", order = 27,
            description = "with the synchronous engine, helper threads per queue that copy requests of 64 KiB and more alongside the queue's worker, 0..16; 0 copies everything on the worker (default: ${DEFAULT-VALUE})")
    int copyThreads = BlockDevice.Options.DEFAULT_COPY_THREADS;

    @Override
    protected VirtioDevice createDevice() {
        BlockDevice.Options options;
        try {
            options = new BlockDevice.Options(numQueues, queueSize, serial, ioEngine, copyThreads);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            String option = msg.startsWith("--") ? msg.substring(0, msg.indexOf(' ')) : "--num-queues";
            throw new UsageException(option, msg.substring(msg.indexOf(' ') + 1));
        }
        if (!Files.exists(image)) throw new UsageException("--image", "no such file: " + image);
        if (Files.isDirectory(image)) throw new UsageException("--image", image + " is a directory");
        DiskImage disk;
        try {
            disk = DiskImage.open(image, readOnly, direct);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--image", e.getMessage());
        }
        try {
            return new BlockDevice(disk, options);
        } catch (RuntimeException e) {
            disk.close();
            throw e;
        }
    }

    public static void main(String[] args) {
        System.exit(DaemonCommand.execute(new BlkDaemon(), args));
    }
}
