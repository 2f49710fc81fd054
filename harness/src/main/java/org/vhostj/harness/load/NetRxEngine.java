package org.vhostj.harness.load;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.vhostj.harness.frontend.GuestRam;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * Keeps an RX queue full of receive buffers (one device-writable buffer each, room for the header and a
 * full-size frame) and checks every frame that comes back: length, content, sequence (out-of-order and
 * duplicates are counted, not failed), MAC addresses (swapped or rewritten are reported, not failed).
 * Posted buffers are not "in flight": a network may drop frames. The engine is finished once sending is
 * over and every sent frame came back, or the drain time passed.
 */
final class NetRxEngine implements RequestEngine {
    static final long DRAIN_NANOS = 500_000_000L;
    private static final int MAX_FRAME = 1518;

    private final NetFlow flow;
    private final QueueStats stats;
    private final boolean indirect;
    private final int hdrBytes, bufferBytes, slots;
    private final MemorySegment[] buffer;
    private final long[] bufferGpa;
    private final int[] freeSlots, slotOfId;
    private int freeCount;
    private final BufferList buffers = new BufferList(1);
    private final MemorySegment reference;
    private boolean stopped;

    NetRxEngine(NetFlow flow, GuestRam ram, int ringSize, boolean indirect, int hdrBytes, QueueStats stats, Arena arena) {
        this.flow = flow;
        this.stats = stats;
        this.indirect = indirect;
        this.hdrBytes = hdrBytes;
        this.bufferBytes = hdrBytes + Math.max(flow.frameBytes, MAX_FRAME);
        this.slots = ringSize;
        buffer = new MemorySegment[slots];
        bufferGpa = new long[slots];
        freeSlots = new int[slots];
        slotOfId = new int[ringSize];
        for (int s = 0; s < slots; s++) {
            RingArea a = ram.allocate(bufferBytes, 64, s + 1);
            buffer[s] = a.memory();
            bufferGpa[s] = a.gpa();
            freeSlots[s] = s;
        }
        freeCount = slots;
        reference = arena.allocate(flow.frameBytes, 8);
        NetFrame.template(reference, flow.frameBytes, flow.pair);
    }

    @Override
    public int submit(DriverRing ring, long nowNanos) {
        if (freeCount == 0 || stopped) return NOTHING;
        int s = freeSlots[freeCount - 1];
        buffers.clear().writable(bufferGpa[s], bufferBytes);
        int id = ring.add(buffers, indirect);
        if (id < 0) return id;
        freeCount--;
        slotOfId[id] = s;
        return id;
    }

    @Override
    public void complete(int id, long usedLength, long nowNanos) {
        int s = slotOfId[id];
        freeSlots[freeCount++] = s;
        if (usedLength == LENGTH_RESERVED) {
            // without a length the frame's end is unknown: only a frame of the size sent can be checked
            if (stats.usedLengthMismatches++ == 0) stats.problem("RX used descriptor without VIRTQ_DESC_F_WRITE (length reserved, virtio 1.2 2.8.3)");
            usedLength = hdrBytes + flow.frameBytes;
        }
        long len = usedLength - hdrBytes;
        if (len < NetFrame.MIN_SIZE || len > bufferBytes - hdrBytes) {
            stats.mismatches++;
            if (stats.mismatches <= 5) stats.problem("received a frame of used length " + usedLength);
            return;
        }
        MemorySegment f = buffer[s].asSlice(hdrBytes, len);
        NetFrame.Verdict v = NetFrame.check(f, len, reference);
        if (v == NetFrame.Verdict.BAD) {
            stats.mismatches++;
            if (stats.mismatches <= 5) stats.problem("received a damaged frame of " + len + " bytes (sent " + flow.frameBytes + ")");
            return;
        }
        long seq = NetFrame.seq(f);
        if (seq >= flow.nextSeq || NetFrame.pair(f) != flow.pair) {
            if (seq >= flow.nextSeq) {
                stats.mismatches++;
                if (stats.mismatches <= 5) stats.problem("received frame " + seq + " which was never sent");
                return;
            }
            flow.misrouted++;
        }
        if (v == NetFrame.Verdict.MACS_SWAPPED) flow.macsSwapped++;
        else if (v == NetFrame.Verdict.MACS_REWRITTEN) flow.macsRewritten++;
        if (seq <= flow.lastRxSeq) flow.outOfOrder++;   // a gap is a drop, counted as such at the end
        else flow.lastRxSeq = seq;
        flow.rxReceived++;
        stats.verified++;
        long latency = flow.nextSeq - seq < NetFlow.TIME_WINDOW ? nowNanos - flow.sentAt[(int) (seq & (NetFlow.TIME_WINDOW - 1))] : 0;
        stats.complete(1, len, latency, nowNanos);
    }

    /** Posted receive buffers wait for frames that may never come; none of them is a request in flight. */
    @Override
    public int inFlight() { return 0; }

    @Override
    public boolean finished(long nowNanos) {
        if (stopped) return true;
        return flow.txFinished && flow.txCompleted == flow.nextSeq
                && (flow.rxReceived >= flow.nextSeq || nowNanos - flow.txFinishedAt > DRAIN_NANOS);
    }

    @Override
    public void stop() { stopped = true; }
}
