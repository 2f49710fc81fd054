package org.vhostj.net.backend;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.net.FrameBuffers;
import org.vhostj.net.VirtioNet;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;
import org.vhostj.sys.NetCalls;

/**
 * {@code tap:NAME}: a Linux tap device, created if absent, opened with IFF_MULTI_QUEUE (one queue fd per queue
 * pair) and IFF_VNET_HDR, so the virtio-net header (checksum and segmentation offloads) passes between the
 * guest and the kernel unchanged. Frames move with readv/writev straight on guest memory.
 *
 * <p>Owned by the daemon's main thread, which opens the queues and closes them; each queue fd is then read and
 * written only by its pair's worker. Queue 0 is always attached; queue k > 0 only while pair k's receive
 * ring takes frames, so the kernel never steers frames to a queue nobody reads.
 */
public final class TapBackend implements NetBackend {
    private static final Logger log = LoggerFactory.getLogger(TapBackend.class);

    private final String name;
    private final Fd[] queues;
    private final TapPort[] ports;

    public TapBackend(String name, int pairs) {
        this.name = name;
        queues = new Fd[pairs];
        ports = new TapPort[pairs];
        int flags = NetCalls.IFF_TAP | NetCalls.IFF_NO_PI | NetCalls.IFF_VNET_HDR | NetCalls.IFF_MULTI_QUEUE;
        try {
            for (int q = 0; q < pairs; q++) {
                queues[q] = NetCalls.openTapQueue(name, flags);
                // queue 0 stays attached (the device always has a queue, and it sends for detached ones); the
                // others are attached while their pair's receive ring runs, so the kernel never steers frames
                // to a queue nobody reads
                if (q > 0) ErrnoException.check("ioctl(TUNSETQUEUE detach)", NetCalls.setQueueAttached(queues[q].value(), false));
                ports[q] = new TapPort(queues[q].value(), queues[0].value(), q == 0);
            }
        } catch (ErrnoException e) {
            close();
            throw new IllegalArgumentException("tap " + name + ": " + e.getMessage()
                    + (e.errno() == 22 ? " (an existing tap must have been created with multi_queue and vnet_hdr)" : ""), e);
        }
        setHeader(VirtioNet.HDR_SIZE, 0);
        log.info("tap {}: {} queue(s) opened", name, pairs);
    }

    private void setHeader(int headerBytes, int tunOffloads) {
        for (Fd q : queues) {
            ErrnoException.check("ioctl(TUNSETVNETHDRSZ " + headerBytes + ")", NetCalls.setVnetHeaderSize(q.value(), headerBytes));
            ErrnoException.check("ioctl(TUNSETOFFLOAD 0x" + Integer.toHexString(tunOffloads) + ")", NetCalls.setOffload(q.value(), tunOffloads));
        }
    }

    @Override public String describe() { return "tap:" + name + " (" + queues.length + " queue(s))"; }

    @Override
    public long offloadFeatures() {
        return 1L << VirtioNet.F_CSUM | 1L << VirtioNet.F_GUEST_CSUM | 1L << VirtioNet.F_HOST_TSO4 | 1L << VirtioNet.F_HOST_TSO6
                | 1L << VirtioNet.F_GUEST_TSO4 | 1L << VirtioNet.F_GUEST_TSO6;
    }

    @Override public boolean carriesHeader() { return true; }

    @Override public int maxPairs() { return queues.length; }

    @Override public NetPort port(int pair) { return ports[pair]; }

    /** What the kernel may hand the guest: the guest's GUEST_* offloads, as TUN_F_* flags. */
    @Override
    public void featuresAcked(long features, int headerBytes) {
        int tun = 0;
        if ((features & 1L << VirtioNet.F_GUEST_CSUM) != 0) {
            tun |= NetCalls.TUN_F_CSUM;
            if ((features & 1L << VirtioNet.F_GUEST_TSO4) != 0) tun |= NetCalls.TUN_F_TSO4;
            if ((features & 1L << VirtioNet.F_GUEST_TSO6) != 0) tun |= NetCalls.TUN_F_TSO6;
        }
        setHeader(headerBytes, tun);
    }

    @Override
    public void close() {
        for (Fd q : queues) if (q != null) q.close();
    }

    /** One tap queue: readv/writev on guest memory. */
    static final class TapPort implements NetPort {
        private static final int EBADFD = 77;
        private final int fd, fallbackFd;
        private final boolean always;
        private boolean attached;

        /**
         * {@code fallbackFd}: queue 0, which sends for a queue that is detached (a detached queue refuses
         * writes); {@code alwaysAttached}: this is queue 0.
         */
        TapPort(int fd, int fallbackFd, boolean alwaysAttached) {
            this.fd = fd;
            this.fallbackFd = fallbackFd;
            this.always = alwaysAttached;
            this.attached = alwaysAttached;
        }

        @Override public int rxFd() { return fd; }

        @Override
        public long receive(FrameBuffers into) { return LibC.readv(fd, into.iov().segment(), into.iov().count()); }

        @Override
        public long send(FrameBuffers frame, long dstMac, long srcMac) {
            long r = LibC.writev(fd, frame.iov().segment(), frame.iov().count());
            if (r == -EBADFD && fd != fallbackFd) r = LibC.writev(fallbackFd, frame.iov().segment(), frame.iov().count());
            return r;
        }

        @Override
        public void rxStarted() {
            if (!attached) attached = NetCalls.setQueueAttached(fd, true) >= 0;
        }

        @Override
        public void rxStopped() {
            if (attached && !always) attached = NetCalls.setQueueAttached(fd, false) < 0;
        }
    }
}
