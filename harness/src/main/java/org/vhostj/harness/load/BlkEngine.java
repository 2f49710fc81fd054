package org.vhostj.harness.load;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.blk.VirtioBlk;
import org.vhostj.harness.frontend.GuestRam;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * virtio-blk requests for one queue: header (16 bytes, device-readable), data, status byte (device-writable),
 * as Linux's virtio_blk sends them. The queue owns the blocks {@code b} with {@code b % queues == queue}, so
 * verification needs no sharing between queues: each owned block remembers the generation last written to
 * it, a block with a request in flight is not picked again, and a read is checked against the generation.
 *
 * <p>Phases: PREFILL (with --verify, when the run reads: every owned block is written once), RUN (timed,
 * the only phase in the statistics), READBACK (with --verify, when the run wrote: every written block is
 * read and checked), DONE. All per-request state is preallocated; the worker thread alone uses it.
 */
public final class BlkEngine implements RequestEngine {
    enum Phase { PREFILL, RUN, DRAIN_FOR_READBACK, READBACK, DONE }

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int READ = 0, WRITE = 1;

    private final BlkJob job;
    private final QueueStats stats;
    private final boolean indirect;
    private final int queueIndex, queueCount, bs, sectorsPerBlock;
    private final long ownedBlocks;
    private final int depth;

    // per slot (one request in flight)
    private final MemorySegment[] header, data, status;
    private final long[] headerGpa, dataGpa, statusGpa;
    private final int[] slotOp, slotGen, slotLength, freeSlots;
    private final long[] slotBlock, slotStart;
    private final boolean[] slotTimed;
    private int freeCount;
    private final int[] slotOfId;
    private final BufferList buffers = new BufferList(3);

    // per owned block (verify)
    private final int[] generation;      // 0 = unknown content
    private final boolean[] busy;

    private Phase phase;
    private long cursor;                 // sequential position (owned-block index)
    private long runEndNanos = -1;
    private long rng;
    private final RequestTrace.Writer trace;
    private final RequestTrace.Reader replay;
    private long traceStartNanos;

    /**
     * @param capacitySectors disk capacity (the working set is clipped to it)
     * @param trace           records every timed request, or null
     * @param replay          the requests to issue instead of generating them, or null
     */
    public BlkEngine(BlkJob job, GuestRam ram, int queueIndex, int queueCount, int ringSize, boolean indirect,
                     long capacitySectors, QueueStats stats, RequestTrace.Writer trace, RequestTrace.Reader replay) {
        this.job = job;
        this.stats = stats;
        this.indirect = indirect;
        this.queueIndex = queueIndex;
        this.queueCount = queueCount;
        this.bs = job.blockBytes();
        this.sectorsPerBlock = bs / VirtioBlk.SECTOR_SIZE;
        this.trace = trace;
        this.replay = replay;
        long blocks = Math.min(job.workingSetBytes(), capacitySectors * VirtioBlk.SECTOR_SIZE) / bs;
        if (blocks <= queueIndex && replay == null) throw new IllegalArgumentException("working set of " + blocks + " blocks leaves queue " + queueIndex + " none");
        this.ownedBlocks = replay != null ? 0 : (blocks - queueIndex + queueCount - 1) / queueCount;
        if (job.verify() && ownedBlocks > Integer.MAX_VALUE) throw new IllegalArgumentException("working set too large to verify: " + ownedBlocks + " blocks per queue");
        int d = Math.min(job.iodepth(), ringSize);
        if (job.verify() && ownedBlocks < d) d = (int) ownedBlocks;   // every request needs a block of its own
        this.depth = d;
        header = new MemorySegment[d];
        data = new MemorySegment[d];
        status = new MemorySegment[d];
        headerGpa = new long[d];
        dataGpa = new long[d];
        statusGpa = new long[d];
        slotOp = new int[d];
        slotGen = new int[d];
        slotLength = new int[d];
        slotBlock = new long[d];
        slotStart = new long[d];
        slotTimed = new boolean[d];
        freeSlots = new int[d];
        int maxBlock = replay == null ? bs : Math.max(bs, replay.maxLengthBytes());
        for (int s = 0; s < d; s++) {
            RingArea hs = ram.allocate(32, 32, s);
            RingArea ds = ram.allocate(maxBlock, 4096, s);   // spread over the regions
            header[s] = hs.memory().asSlice(0, VirtioBlk.OUTHDR_SIZE);
            status[s] = hs.memory().asSlice(VirtioBlk.OUTHDR_SIZE, 1);
            headerGpa[s] = hs.gpa();
            statusGpa[s] = hs.gpa() + VirtioBlk.OUTHDR_SIZE;
            data[s] = ds.memory();
            dataGpa[s] = ds.gpa();
            freeSlots[s] = d - 1 - s;
            if (!job.verify()) BlockPattern.fill(data[s], s, 0, maxBlock - maxBlock % 16);
        }
        freeCount = d;
        slotOfId = new int[ringSize];
        generation = job.verify() ? new int[(int) ownedBlocks] : null;
        busy = job.verify() ? new boolean[(int) ownedBlocks] : null;
        rng = job.seed() * 0x9E37_79B9_7F4A_7C15L + queueIndex + 1;
        boolean prefill = job.verify() && job.rw().reads() && replay == null;
        phase = prefill ? Phase.PREFILL : Phase.RUN;
    }

    /** Effective depth (iodepth, limited by the ring and, with verify, by the blocks this queue owns). */
    public int depth() { return depth; }

    private long nextRandom() {
        long x = rng;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        rng = x;
        return x;
    }

    @Override
    public int submit(DriverRing ring, long nowNanos) {
        if (freeCount == 0) return NOTHING;
        if (phase == Phase.RUN) {
            if (runEndNanos < 0) {
                runEndNanos = nowNanos + job.runtimeMillis() * 1_000_000;
                traceStartNanos = nowNanos;
                stats.startTimed(nowNanos);
            }
            if (nowNanos >= runEndNanos && replay == null) endRun();   // a replay plays the whole trace
        }
        if (phase == Phase.DRAIN_FOR_READBACK && freeCount == depth) {
            phase = Phase.READBACK;
            cursor = 0;
        }
        int op;
        long block;
        int lengthBytes = bs;
        switch (phase) {
            case PREFILL -> {
                if (cursor == ownedBlocks) {
                    if (freeCount < depth) return NOTHING;   // the run's reads must see every prefill write
                    phase = Phase.RUN;
                    cursor = 0;
                    return submit(ring, nowNanos);
                }
                op = WRITE;
                block = cursor++;
            }
            case RUN -> {
                if (replay != null) {
                    if (!replay.next()) { phase = Phase.DONE; return NOTHING; }
                    op = replay.op() == RequestTrace.OP_READ ? READ : WRITE;
                    lengthBytes = replay.lengthBytes();
                    return issue(ring, nowNanos, op, -1, replay.sector(), lengthBytes, true);
                }
                op = pickOp();
                block = pickBlock();
                if (block < 0) return NOTHING;
                if (job.verify() && op == READ && generation[(int) block] == 0) op = WRITE;   // nothing known to check
            }
            case READBACK -> {
                while (cursor < ownedBlocks && generation[(int) cursor] <= 0) cursor++;
                if (cursor == ownedBlocks) { phase = Phase.DONE; return NOTHING; }
                op = READ;
                block = cursor++;
            }
            default -> { return NOTHING; }
        }
        long diskBlock = block * queueCount + queueIndex;
        return issue(ring, nowNanos, op, block, diskBlock * sectorsPerBlock, lengthBytes, phase == Phase.RUN);
    }

    private int issue(DriverRing ring, long nowNanos, int op, long block, long sector, int lengthBytes, boolean timed) {
        int s = freeSlots[freeCount - 1];
        header[s].set(LE_INT, VirtioBlk.OUTHDR_TYPE_OFFSET, op == READ ? VirtioBlk.T_IN : VirtioBlk.T_OUT);
        header[s].set(LE_INT, VirtioBlk.OUTHDR_IOPRIO_OFFSET, 0);
        header[s].set(LE_LONG, VirtioBlk.OUTHDR_SECTOR_OFFSET, sector);
        status[s].set(ValueLayout.JAVA_BYTE, 0, (byte) 0xff);   // a device that never writes status is caught
        int gen = 0;
        if (job.verify() && block >= 0) {
            if (op == WRITE) {
                gen = (generation[(int) block] & 0xffffff) + 1;
                if (gen > 0xffffff) gen = 1;
                BlockPattern.fill(data[s], queueCount * block + queueIndex, gen, bs);
            } else {
                data[s].asSlice(0, bs).fill((byte) 0);
            }
        }
        buffers.clear().readable(headerGpa[s], VirtioBlk.OUTHDR_SIZE).add(dataGpa[s], lengthBytes, op == READ).writable(statusGpa[s], 1);
        int id = ring.add(buffers, indirect);
        if (id < 0) return id;
        freeCount--;
        slotOfId[id] = s;
        slotOp[s] = op;
        slotBlock[s] = block;
        slotGen[s] = gen;
        slotLength[s] = lengthBytes;
        slotStart[s] = nowNanos;
        slotTimed[s] = timed;
        if (busy != null && block >= 0) busy[(int) block] = true;
        if (trace != null && timed) trace.record(queueIndex, op == READ ? RequestTrace.OP_READ : RequestTrace.OP_WRITE, sector, lengthBytes, nowNanos - traceStartNanos);
        return id;
    }

    private int pickOp() {
        return switch (job.rw()) {
            case READ, RANDREAD -> READ;
            case WRITE, RANDWRITE -> WRITE;
            case RANDRW -> Long.remainderUnsigned(nextRandom(), 100) < job.readPercent() ? READ : WRITE;
        };
    }

    /** An owned block with no request in flight, or -1 (all candidates busy for now). */
    private long pickBlock() {
        for (int attempt = 0; attempt < 16; attempt++) {
            long b;
            if (job.rw().random()) b = Long.remainderUnsigned(nextRandom(), ownedBlocks);
            else { b = cursor; cursor = cursor + 1 == ownedBlocks ? 0 : cursor + 1; }
            if (busy == null || !busy[(int) b]) return b;
        }
        return -1;
    }

    private void endRun() {
        phase = job.verify() && job.rw().writes() && replay == null ? Phase.DRAIN_FOR_READBACK : Phase.DONE;
    }

    @Override
    public void complete(int id, long usedLength, long nowNanos) {
        int s = slotOfId[id];
        int op = slotOp[s];
        long block = slotBlock[s];
        int st = status[s].get(ValueLayout.JAVA_BYTE, 0);
        int lengthBytes = slotLength[s];
        if (slotTimed[s]) stats.complete(op, lengthBytes, nowNanos - slotStart[s], nowNanos);
        long expectedUsed = (op == READ ? lengthBytes : 0) + 1L;
        if (usedLength != expectedUsed) {
            if (stats.usedLengthMismatches++ == 0) stats.problem((op == READ ? "read" : "write") + " completed with "
                    + (usedLength == LENGTH_RESERVED ? "a used descriptor without VIRTQ_DESC_F_WRITE (length reserved, virtio 1.2 2.8.3)"
                    : "used length " + usedLength) + ", expected " + expectedUsed);
        }
        if (st != VirtioBlk.S_OK) {
            if (stats.errors++ < 5) stats.problem((op == READ ? "read" : "write") + " of sector " + header[s].get(LE_LONG, VirtioBlk.OUTHDR_SECTOR_OFFSET)
                    + " failed with status " + (st & 0xff));
            if (generation != null && block >= 0 && op == WRITE) generation[(int) block] = -1;   // content unknown now
        } else if (generation != null && block >= 0) {
            int b = (int) block;
            if (op == WRITE) {
                generation[b] = slotGen[s];
            } else if (generation[b] > 0) {
                stats.verified++;
                long diskBlock = queueCount * block + queueIndex;
                if (!BlockPattern.check(data[s], diskBlock, generation[b], bs)) {
                    if (stats.mismatches++ < 10) stats.problem("block " + diskBlock + " (sector " + diskBlock * sectorsPerBlock
                            + ") should hold generation " + generation[b] + ", holds " + BlockPattern.describe(data[s], bs));
                }
            }
        }
        if (busy != null && block >= 0) busy[(int) block] = false;
        freeSlots[freeCount++] = s;
    }

    @Override
    public int inFlight() { return depth - freeCount; }

    @Override
    public boolean finished(long nowNanos) {
        if (phase == Phase.RUN && replay == null && runEndNanos >= 0 && nowNanos >= runEndNanos) endRun();
        return phase == Phase.DONE;
    }

    @Override
    public void stop() { phase = Phase.DONE; }
}
