package org.vhostj.net;

import static org.vhostj.net.NetCounters.Counter.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.vhostj.net.backend.NetPort;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.Errno;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * A receive queue (2 * pair): frames come from the backend into buffers the driver posted. The handler pulls
 * chains only when it has somewhere to put a frame ({@code consumesOnKick() == false}), and watches the
 * backend's fd only while the driver has buffers posted: with none, it unwatches and waits for the driver's
 * kick, so the backend queues (and eventually drops) instead of us reading frames we cannot deliver.
 *
 * <p>A frame is read straight into the first chain's buffers, followed by an overflow area in native memory.
 * A frame that fits one chain (the usual case) is never copied. A larger one (MRG_RXBUF: GSO frames into
 * page-sized buffers) spills into the overflow area and is copied on into as many more chains as it needs;
 * num_buffers in the header says how many. Without MRG_RXBUF, or when the driver posted too few buffers,
 * it is dropped and counted. Runs on the pair's worker thread.
 */
final class RxPath implements QueueHandler {
    /** Frames received per callback before the worker looks at its other queues. */
    static final int BUDGET = 256;
    private static final int OK = 0, STOP = 1;

    private final NetDevice device;
    private final NetPort port;
    private final QueueContext ctx;
    private final int pair, row, hdrLen;
    private final boolean carriesHeader, mrg, guestCsum, filtering;
    private final FrameBuffers bufs = new FrameBuffers(org.vhostj.sys.IovecArray.IOV_MAX);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment overflow, header;
    private final int[] heads;
    private final long[] lengths;
    private boolean watching, started;

    RxPath(NetDevice device, int pair, NetPort port, QueueContext ctx, int ringSize) {
        this.device = device;
        this.port = port;
        this.ctx = ctx;
        this.pair = pair;
        this.row = pair;
        long f = ctx.negotiatedFeatures();
        this.hdrLen = NetDevice.headerBytes(f);
        this.carriesHeader = device.backend().carriesHeader();
        this.mrg = (f & 1L << VirtioNet.F_MRG_RXBUF) != 0;
        this.guestCsum = (f & 1L << VirtioNet.F_GUEST_CSUM) != 0;
        this.filtering = (f & 1L << VirtioNet.F_CTRL_RX) != 0;
        overflow = arena.allocate(VirtioNet.MAX_GSO_FRAME + VirtioNet.HDR_SIZE, 64);
        header = arena.allocate(VirtioNet.HDR_SIZE, 8);
        header.set(ValueLayout.JAVA_SHORT_UNALIGNED, VirtioNet.HDR_NUM_BUFFERS_OFFSET, (short) 1);
        heads = new int[Math.max(ringSize, 1)];
        lengths = new long[heads.length];
    }

    @Override public boolean consumesOnKick() { return false; }

    /** Never called for a receive queue (chains are pulled); a resubmitted one is completed empty by the core. */
    @Override public int onChain(DescriptorChain chain) { return 0; }

    @Override public void onKick() { receive(); }

    @Override public void onFdReady(int token, int readyEvents) { receive(); }

    private void receive() {
        int fd = port.rxFd();
        if (fd < 0) return;
        if (!device.rxActive(pair) || !ctx.enabled()) { idle(); return; }
        if (!started) { port.rxStarted(); started = true; }
        for (int n = 0; n < BUDGET; n++) {
            DescriptorChain c = ctx.pollChain();
            if (c == null) {
                // busy polling: the worker watches the ring for the poll window and calls onKick; keep the backend watched
                if (!ctx.pollingForChains()) idle();   // else no buffers: wait for the driver's kick (pollChain asked for one)
                return;
            }
            if (!watching) { ctx.watch(fd, Epoll.EPOLLIN, 0); watching = true; }
            if (receiveOne(c) == STOP) return;
        }
    }

    /** Stops watching the backend until the driver posts buffers again. */
    private void idle() {
        if (watching) { ctx.unwatch(port.rxFd()); watching = false; }
        // a pair the driver does not use (MQ_VQ_PAIRS_SET, or its ring disabled) lets the backend's other queues take its frames
        if (started && (!device.rxActive(pair) || !ctx.enabled())) { port.rxStopped(); started = false; }
    }

    private int receiveOne(DescriptorChain c) {
        NetCounters cnt = device.counters();
        long room = c.writableBytes();
        if (room < hdrLen + VirtioNet.ETH_HEADER_SIZE) {   // a buffer no frame fits: give it back empty
            cnt.increment(row, RX_ERRORS);
            ctx.complete(c.head(), 0);
            return OK;
        }
        long dataOff = carriesHeader ? 0 : hdrLen;
        bufs.clear();
        bufs.addChain(c, true, dataOff, room - dataOff);
        long inChain = bufs.totalBytes();
        bufs.add(overflow, 0, overflow.byteSize());
        long n = port.receive(bufs);
        if (n < 0) {
            ctx.unpollChain();
            if (n != -Errno.EAGAIN) {          // a backend error: count it, and wait for the next kick rather than spin
                cnt.increment(row, RX_ERRORS);
                idle();
            }
            return STOP;
        }
        long frameLen = carriesHeader ? n - hdrLen : n;
        if (frameLen < VirtioNet.ETH_HEADER_SIZE) { ctx.unpollChain(); cnt.increment(row, RX_DROP_SHORT); return OK; }
        long total = hdrLen + frameLen;
        if (n > bufs.totalBytes()) { ctx.unpollChain(); cnt.increment(row, RX_DROP_OVERSIZE); return OK; }   // cut by the socket
        if (filtering || port.learns()) {
            long frameAt = carriesHeader ? hdrLen : 0;
            if (filtering && !device.filter().accepts(bufs.macAt(frameAt))) {
                ctx.unpollChain();
                cnt.increment(row, RX_DROP_FILTERED);
                return OK;
            }
            if (port.learns()) port.received(bufs.macAt(frameAt + 6));
        }
        if (!carriesHeader) writePlainHeader(c);
        else {
            if (!guestCsum) c.writeByte(VirtioNet.HDR_FLAGS_OFFSET, (byte) 0);   // flags must be 0 without GUEST_CSUM (5.1.6.4.1)
            if (hdrLen == VirtioNet.HDR_SIZE) c.writeTo(VirtioNet.HDR_NUM_BUFFERS_OFFSET, header, VirtioNet.HDR_NUM_BUFFERS_OFFSET, 2);
        }
        if (total <= room) {
            ctx.complete(c.head(), (int) total);
            cnt.increment(row, RX_FRAMES);
            cnt.add(row, RX_BYTES, frameLen);
            return OK;
        }
        if (!mrg) { ctx.unpollChain(); cnt.increment(row, RX_DROP_OVERSIZE); return OK; }
        return spill(c, total, n - inChain);
    }

    /** The header of a frame without offloads: flags 0, GSO_NONE, num_buffers 1 (ignored without MRG_RXBUF). */
    private void writePlainHeader(DescriptorChain c) {
        int first = c.readableCount();
        if (c.length(first) >= VirtioNet.HDR_SIZE) {
            // the usual case: stored only where it differs. A driver reuses its buffers, so the header there is
            // mostly this one already; not writing it leaves its cache line shared with the driver's CPU (which
            // reads it) instead of pulling it over (and back) for every frame
            MemorySegment m = c.memory(first);
            long at = c.offset(first);
            if (m.get(ValueLayout.JAVA_LONG_UNALIGNED, at) != 0L) m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, 0L);
            if (hdrLen == VirtioNet.HDR_SIZE) {
                if (m.get(ValueLayout.JAVA_INT_UNALIGNED, at + 8) != 1 << 16) m.set(ValueLayout.JAVA_INT_UNALIGNED, at + 8, 1 << 16);   // csum_offset 0, num_buffers 1
            } else if (m.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 8) != 0) {
                m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 8, (short) 0);
            }
        } else {
            c.writeTo(0, header, 0, hdrLen);
        }
    }

    /**
     * MRG_RXBUF: the first {@code room} bytes are in chain {@code first}; {@code rest} more wait in the overflow
     * area. Pulls more chains for them and completes all of them together, or, when the driver has too few
     * buffers posted, completes all of them empty (the driver drops zero-length buffers) and counts a drop.
     */
    private int spill(DescriptorChain first, long total, long rest) {
        NetCounters cnt = device.counters();
        // the header's num_buffers is written last, when the count is known: remember where it lies
        MemorySegment numMem = null;
        long numOff = -1, skip = VirtioNet.HDR_NUM_BUFFERS_OFFSET;
        for (int i = first.readableCount(); i < first.count(); i++) {
            if (skip + 2 <= first.length(i)) { numMem = first.memory(i); numOff = first.offset(i) + skip; break; }
            if (skip < first.length(i)) break;   // num_buffers straddles two buffers: handled below
            skip -= first.length(i);
        }
        int k = 0;
        heads[k] = first.head();
        lengths[k++] = first.writableBytes();
        long pos = 0;
        boolean ok = true;
        while (rest > 0) {
            DescriptorChain c = k < heads.length ? ctx.pollChain() : null;
            if (c == null) { ok = false; break; }
            long m = Math.min(rest, c.writableBytes());
            c.writeTo(0, overflow, pos, m);
            heads[k] = c.head();
            lengths[k++] = m;
            pos += m;
            rest -= m;
        }
        if (!ok || numMem == null) {
            for (int i = 0; i < k; i++) ctx.complete(heads[i], 0);
            cnt.increment(row, RX_DROP_OVERSIZE);
            return ok ? OK : STOP;
        }
        numMem.set(ValueLayout.JAVA_SHORT_UNALIGNED, numOff, (short) k);   // little-endian on x86 and aarch64
        for (int i = 0; i < k; i++) ctx.complete(heads[i], (int) lengths[i]);
        cnt.increment(row, RX_FRAMES);
        cnt.increment(row, RX_MERGED_FRAMES);
        cnt.add(row, RX_BYTES, total - hdrLen);
        return OK;
    }

    @Override
    public void stop() {
        // the core removes watched fds from its epoll after stop(); the tap queue is detached for the next session
        if (started) port.rxStopped();
        bufs.close();
        arena.close();
    }
}
