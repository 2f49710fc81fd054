package org.vhostj.harness.load;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.frontend.GuestRam;
import org.vhostj.sys.LibC;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * FUSE READ or WRITE requests on one open file with {@code iodepth} in flight, sequential (wrapping at the
 * file size) or random (block-aligned). A READ chain is {in header + fuse_read_in} then device-writable
 * {out header}{data}; a WRITE chain is {in header + fuse_write_in}{data} then {out header + fuse_write_out}.
 * Replies are checked: unique, error, length; with verify, read data against {@link FilePattern}.
 */
final class FsIoEngine implements RequestEngine {
    static final int READ = 0, WRITE = 1;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int IN_BYTES = Fuse.IN_HEADER_SIZE + Fuse.READ_IN_SIZE;

    private final FsJob job;
    private final QueueStats stats;
    private final int op;
    private final boolean random;
    private final long nodeid, fh;
    private final int bs, depth;
    private final long blocks;
    private final MemorySegment[] in, data, outHdr;
    private final long[] inGpa, dataGpa, outGpa, slotOffset, slotStart, slotUnique;
    private final int[] freeSlots, slotOfId;
    private int freeCount;
    private final BufferList buffers = new BufferList(4);
    private final int uid = LibC.geteuid(), gid = LibC.getegid(), pid = (int) ProcessHandle.current().pid();
    private long nextUnique, cursor, rng;
    private long endNanos = -1;
    private boolean stopped;

    FsIoEngine(FsJob job, GuestRam ram, int ringSize, boolean write, long nodeid, long fh, long firstUnique, QueueStats stats) {
        this.job = job;
        this.stats = stats;
        this.op = write ? WRITE : READ;
        this.random = job.workload() == FsJob.Workload.RANDREAD;
        this.nodeid = nodeid;
        this.fh = fh;
        this.bs = job.blockBytes();
        this.blocks = job.fileBytes() / bs;
        this.depth = Math.min(job.iodepth(), ringSize / 2);   // a READ takes two descriptors, a WRITE three
        this.nextUnique = firstUnique;
        in = new MemorySegment[depth];
        data = new MemorySegment[depth];
        outHdr = new MemorySegment[depth];
        inGpa = new long[depth];
        dataGpa = new long[depth];
        outGpa = new long[depth];
        slotOffset = new long[depth];
        slotStart = new long[depth];
        slotUnique = new long[depth];
        freeSlots = new int[depth];
        slotOfId = new int[ringSize];
        for (int s = 0; s < depth; s++) {
            RingArea a = ram.allocate(256, 64, s);
            RingArea d = ram.allocate(bs, 4096, s);
            in[s] = a.memory().asSlice(0, IN_BYTES);
            inGpa[s] = a.gpa();
            outHdr[s] = a.memory().asSlice(128, Fuse.OUT_HEADER_SIZE + Fuse.WRITE_OUT_SIZE);
            outGpa[s] = a.gpa() + 128;
            data[s] = d.memory();
            dataGpa[s] = d.gpa();
            freeSlots[s] = s;
            if (write && !job.verify()) FilePattern.fill(data[s], 0, bs);
        }
        freeCount = depth;
        rng = job.seed() * 0x9E37_79B9_7F4A_7C15L + 1;
    }

    @Override
    public int submit(DriverRing ring, long nowNanos) {
        if (endNanos < 0) {
            endNanos = nowNanos + job.runtimeMillis() * 1_000_000;
            stats.startTimed(nowNanos);
        }
        if (freeCount == 0 || finished(nowNanos)) return NOTHING;
        int s = freeSlots[freeCount - 1];
        long offset;
        if (random) {
            rng ^= rng << 13;
            rng ^= rng >>> 7;
            rng ^= rng << 17;
            offset = Long.remainderUnsigned(rng, blocks) * bs;
        } else {
            offset = cursor;
            cursor = cursor + bs >= (long) blocks * bs ? 0 : cursor + bs;
        }
        long unique = nextUnique++;
        MemorySegment m = in[s];
        m.set(LE_INT, Fuse.IN_LEN_OFFSET, IN_BYTES + (op == WRITE ? bs : 0));
        m.set(LE_INT, Fuse.IN_OPCODE_OFFSET, op == WRITE ? Fuse.WRITE : Fuse.READ);
        m.set(LE_LONG, Fuse.IN_UNIQUE_OFFSET, unique);
        m.set(LE_LONG, Fuse.IN_NODEID_OFFSET, nodeid);
        m.set(LE_INT, Fuse.IN_UID_OFFSET, uid);
        m.set(LE_INT, Fuse.IN_GID_OFFSET, gid);
        m.set(LE_INT, Fuse.IN_PID_OFFSET, pid);
        m.set(LE_INT, Fuse.IN_TOTAL_EXTLEN_OFFSET, 0);
        long a = Fuse.IN_HEADER_SIZE;
        m.set(LE_LONG, a + Fuse.RW_FH_OFFSET, fh);
        m.set(LE_LONG, a + Fuse.RW_OFFSET_OFFSET, offset);
        m.set(LE_INT, a + Fuse.RW_SIZE_OFFSET, bs);
        m.set(LE_INT, a + Fuse.RW_FLAGS_OFFSET, 0);
        m.set(LE_LONG, a + Fuse.RW_LOCK_OWNER_OFFSET, 0);
        m.set(LE_LONG, a + Fuse.RW_OPEN_FLAGS_OFFSET, 0);
        outHdr[s].set(LE_LONG, Fuse.OUT_UNIQUE_OFFSET, 0);
        buffers.clear().readable(inGpa[s], IN_BYTES);
        if (op == WRITE) {
            if (job.verify()) FilePattern.fill(data[s], offset, bs);
            buffers.readable(dataGpa[s], bs).writable(outGpa[s], Fuse.OUT_HEADER_SIZE + Fuse.WRITE_OUT_SIZE);
        } else {
            buffers.writable(outGpa[s], Fuse.OUT_HEADER_SIZE).writable(dataGpa[s], bs);
        }
        int id = ring.add(buffers, false);
        if (id < 0) { nextUnique--; return id; }
        freeCount--;
        slotOfId[id] = s;
        slotOffset[s] = offset;
        slotStart[s] = nowNanos;
        slotUnique[s] = unique;
        return id;
    }

    @Override
    public void complete(int id, long usedLength, long nowNanos) {
        int s = slotOfId[id];
        freeSlots[freeCount++] = s;
        MemorySegment h = outHdr[s];
        int len = h.get(LE_INT, Fuse.OUT_LEN_OFFSET), error = h.get(LE_INT, Fuse.OUT_ERROR_OFFSET);
        long used = usedLength;
        if (used == LENGTH_RESERVED) {
            if (stats.usedLengthMismatches++ == 0) stats.problem("used descriptor without VIRTQ_DESC_F_WRITE (length reserved, virtio 1.2 2.8.3)");
            used = Integer.toUnsignedLong(len);   // the reply header is all there is to go by
        }
        long unique = h.get(LE_LONG, Fuse.OUT_UNIQUE_OFFSET);
        String what = op == WRITE ? "FUSE_WRITE" : "FUSE_READ";
        if (used < Fuse.OUT_HEADER_SIZE || unique != slotUnique[s] || Integer.toUnsignedLong(len) != used) {
            if (stats.mismatches++ < 5) stats.problem(what + " at " + slotOffset[s] + ": reply header len " + Integer.toUnsignedString(len)
                    + " unique " + unique + " (sent " + slotUnique[s] + "), used length " + used);
            return;
        }
        if (error != 0) {
            if (stats.errors++ < 5) stats.problem(what + " at " + slotOffset[s] + " failed: errno " + -error);
            return;
        }
        long expected = Math.min(bs, job.fileBytes() - slotOffset[s]);
        if (op == WRITE) {
            int written = used >= Fuse.OUT_HEADER_SIZE + Fuse.WRITE_OUT_SIZE ? h.get(LE_INT, Fuse.OUT_HEADER_SIZE) : -1;
            if (written != bs && stats.mismatches++ < 5) stats.problem(what + " at " + slotOffset[s] + " wrote " + written + " of " + bs + " bytes");
            stats.complete(WRITE, bs, nowNanos - slotStart[s], nowNanos);
            return;
        }
        long got = used - Fuse.OUT_HEADER_SIZE;
        if (got != expected) {
            if (stats.mismatches++ < 5) stats.problem(what + " at " + slotOffset[s] + " returned " + got + " bytes, expected " + expected);
        } else if (job.verify()) {
            stats.verified++;
            long bad = FilePattern.mismatch(data[s], slotOffset[s], got);
            if (bad >= 0 && stats.mismatches++ < 10) stats.problem(what + " at " + slotOffset[s] + ": data differs at file offset " + (slotOffset[s] + bad));
        }
        stats.complete(READ, got, nowNanos - slotStart[s], nowNanos);
    }

    @Override
    public int inFlight() { return depth - freeCount; }

    @Override
    public boolean finished(long nowNanos) { return stopped || (endNanos >= 0 && nowNanos >= endNanos); }

    @Override
    public void stop() { stopped = true; }
}
