package org.vhostj.vhost.example;

import java.lang.foreign.Arena;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fcntl;
import org.vhostj.sys.IovecArray;
import org.vhostj.sys.LibC;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * virtio-rng (virtio 1.2 section 5.4): one request queue; the driver posts device-writable buffers and the
 * device fills them with entropy from /dev/urandom, read straight into guest memory. It shows how little a
 * device needs: features, a queue count and a handler; the core does everything else.
 */
public final class RngDevice implements VirtioDevice {
    public static final int DEVICE_TYPE = 4;
    /** At most this much entropy per request, so one greedy buffer cannot stall the queue. */
    static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final int urandom;

    public RngDevice() {
        try (Arena a = Arena.ofConfined()) {
            urandom = ErrnoException.check("open(/dev/urandom)",
                    LibC.openat(Fcntl.AT_FDCWD, a.allocateFrom("/dev/urandom"), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0));
        }
    }

    @Override public int deviceType() { return DEVICE_TYPE; }

    @Override public String name() { return "rng"; }

    @Override public int queueCount() { return 1; }

    @Override public long offeredFeatures() { return 0; }

    @Override
    public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
        IovecArray iov = new IovecArray(IovecArray.IOV_MAX);
        return new QueueHandler() {
            @Override
            public int onChain(DescriptorChain chain) {
                if (chain.readableCount() != 0 || chain.writableCount() == 0) {
                    ctx.countError();   // the driver gives the device only writable buffers
                    return 0;
                }
                iov.clear();
                chain.fillIovecs(iov, true, 0, Math.min(chain.writableBytes(), MAX_REQUEST_BYTES));
                long n = LibC.readv(urandom, iov.segment(), iov.count());
                if (n < 0) {
                    ctx.countError();
                    return 0;
                }
                ctx.countBytes(n);
                return (int) n;
            }

            @Override
            public void stop() { iov.close(); }
        };
    }

    @Override
    public void close() { LibC.close(urandom); }

    /** {@code vhost-user-rng}: the device as a daemon, with the options and lifecycle every daemon shares. */
    @picocli.CommandLine.Command(name = "vhost-user-rng", description = "virtio-rng over vhost-user: entropy from /dev/urandom.")
    public static final class Command extends org.vhostj.vhost.cli.DaemonCommand {
        @Override protected VirtioDevice createDevice() { return new RngDevice(); }
    }

    public static void main(String[] args) { System.exit(org.vhostj.vhost.cli.DaemonCommand.execute(new Command(), args)); }
}
