package org.vhostj.harness.load;

import java.lang.foreign.MemorySegment;
import org.vhostj.harness.frontend.GuestRam;
import org.vhostj.net.VirtioNet;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * Transmits frames on a TX queue for the run's duration, keeping the ring as full as the backend lets it:
 * each chain is one device-readable buffer holding the virtio-net header (zeroed: no offloads) and the
 * frame. Buffers are templated once; a send only stamps the sequence number.
 */
final class NetTxEngine implements RequestEngine {
    private final NetFlow flow;
    private final QueueStats stats;
    private final boolean indirect;
    private final long runtimeNanos;
    private final int hdrBytes, slots;
    private final MemorySegment[] frame;
    private final long[] bufferGpa;
    private final int[] freeSlots, slotOfId;
    private final long[] slotSeq;
    private int freeCount;
    private final BufferList buffers = new BufferList(1);
    private long endNanos = -1;
    private boolean stopped;

    NetTxEngine(NetFlow flow, GuestRam ram, int ringSize, boolean indirect, int hdrBytes, long runtimeMillis, QueueStats stats) {
        this.flow = flow;
        this.stats = stats;
        this.indirect = indirect;
        this.hdrBytes = hdrBytes;
        this.runtimeNanos = runtimeMillis * 1_000_000;
        this.slots = ringSize;
        frame = new MemorySegment[slots];
        bufferGpa = new long[slots];
        freeSlots = new int[slots];
        slotOfId = new int[ringSize];
        slotSeq = new long[slots];
        int bytes = hdrBytes + flow.frameBytes;
        for (int s = 0; s < slots; s++) {
            RingArea a = ram.allocate(bytes, 64, s);
            a.memory().asSlice(0, hdrBytes).fill((byte) 0);
            frame[s] = a.memory().asSlice(hdrBytes, flow.frameBytes);
            NetFrame.template(frame[s], flow.frameBytes, flow.pair);
            bufferGpa[s] = a.gpa();
            freeSlots[s] = s;
        }
        freeCount = slots;
    }

    @Override
    public int submit(DriverRing ring, long nowNanos) {
        if (endNanos < 0) {
            endNanos = nowNanos + runtimeNanos;
            stats.startTimed(nowNanos);
        }
        if (freeCount == 0 || finishedSending(nowNanos)) return NOTHING;
        int s = freeSlots[freeCount - 1];
        long seq = flow.nextSeq;
        NetFrame.stamp(frame[s], seq);
        buffers.clear().readable(bufferGpa[s], hdrBytes + flow.frameBytes);
        int id = ring.add(buffers, indirect);
        if (id < 0) return id;
        freeCount--;
        flow.nextSeq++;
        flow.sentAt[(int) (seq & (NetFlow.TIME_WINDOW - 1))] = nowNanos;
        slotOfId[id] = s;
        slotSeq[s] = nowNanos;
        return id;
    }

    private boolean finishedSending(long nowNanos) {
        if (!flow.txFinished && (stopped || (endNanos >= 0 && nowNanos >= endNanos))) {
            flow.txFinished = true;
            flow.txFinishedAt = nowNanos;
        }
        return flow.txFinished;
    }

    @Override
    public void complete(int id, long usedLength, long nowNanos) {
        int s = slotOfId[id];
        stats.complete(0, flow.frameBytes, nowNanos - slotSeq[s], nowNanos);
        flow.txCompleted++;
        freeSlots[freeCount++] = s;
    }

    @Override
    public int inFlight() { return slots - freeCount; }

    @Override
    public boolean finished(long nowNanos) { return finishedSending(nowNanos); }

    @Override
    public void stop() { stopped = true; }

    static int headerBytes(long ackedFeatures) {
        boolean v1 = (ackedFeatures & (1L << org.vhostj.vhost.protocol.VirtioFeature.VERSION_1)) != 0;
        boolean mrg = (ackedFeatures & (1L << VirtioNet.F_MRG_RXBUF)) != 0;
        return v1 || mrg ? VirtioNet.HDR_SIZE : VirtioNet.HDR_LEGACY_SIZE;
    }
}
