package org.vhostj.vhost.ring;

import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.vhostj.vhost.memory.GuestMemory;

/**
 * Device side of a split virtqueue (virtio 1.2 section 2.7). Walks each chain once into the worker's
 * {@link DescriptorChain}, bounded by the table size so a loop ends, and tracks which heads are out so a
 * handler cannot complete a head twice.
 */
public final class SplitRing extends DeviceRing {
    /** Aligned u16 access for the indexes the spec orders (needs 2-byte alignment; native = little-endian here). */
    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.varHandle();
    static {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) throw new ExceptionInInitializerError("virtio rings need a little-endian host");
    }

    private MemorySegment desc, avail, used;
    private int nextAvail, nextUsed, signalledUsed;
    /**
     * The avail index as last read: entries up to it are known to be there, so the driver's index (a cache
     * line it keeps writing) is read again only once they are used up, as a driver's burst is.
     */
    private int availSeen;
    private boolean signalledValid;
    private int pendingUsed;
    /** Used elements written since the used index was last stored (see {@link #PUBLISH_EVERY}). */
    private int unpublished;
    /**
     * A long batch stores the used index every this many elements, so the driver can reap and post again while
     * the batch runs (a 256-chain batch on a 256-entry ring would otherwise leave it nothing to post); the
     * interrupt decision stays once per batch, in {@link #flushUsed}.
     */
    static final int PUBLISH_EVERY = 32;
    private final boolean[] outstanding;
    private int outstandingCount;
    private SplitInflight inflight;
    /**
     * Look-ahead: the next avail entries (up to {@value #AHEAD}) and each head's descriptor, read in one pass
     * when the burst's first chain is popped. Their loads do not depend on each other, so the core overlaps
     * the cache misses (these lines were just written on the driver's CPU) instead of taking one per chain,
     * as DPDK's prefetch of a burst's descriptors does. Each field is still read only once.
     */
    static final int AHEAD = 32;
    private final int[] aheadHead = new int[AHEAD];
    private final long[] aheadAddr = new long[AHEAD], aheadWord = new long[AHEAD];
    /** The avail index of {@code aheadHead[0]}, and how many entries from it are held. */
    private int aheadFrom, aheadCount;

    public SplitRing(RingAddresses addresses, boolean eventIdx, boolean indirect, int nextAvail) {
        super(addresses, eventIdx, indirect);
        if (size <= 0 || size > MAX_QUEUE_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("split ring size must be a power of two in 1.." + MAX_QUEUE_SIZE + ": " + size);
        }
        this.nextAvail = nextAvail & 0xffff;
        this.availSeen = this.nextAvail;
        this.outstanding = new boolean[size];
    }

    @Override
    public boolean attach(GuestMemory mem) {
        RingAddresses a = addresses;
        // virtio 1.2 2.7: descriptor table 16-aligned, avail 2-aligned, used 4-aligned
        if ((a.descGpa() & 15) != 0 || (a.driverGpa() & 1) != 0 || (a.deviceGpa() & 3) != 0) return false;
        MemorySegment d = mem.slice(a.descGpa(), descTableSize(size));
        MemorySegment av = mem.slice(a.driverGpa(), availSize(size));
        MemorySegment u = mem.slice(a.deviceGpa(), usedSize(size));
        if (d == null || av == null || u == null) return false;
        if ((av.address() & 1) != 0 || (u.address() & 3) != 0) return false;
        boolean first = memory == null;
        this.memory = mem;
        this.desc = d;
        this.avail = av;
        this.used = u;
        if (first) {
            nextUsed = Short.toUnsignedInt((short) U16.getAcquire(used, (long) USED_IDX_OFFSET));
            signalledValid = false;
        }
        return true;
    }

    /**
     * Tracks in-flight heads in {@code region} (INFLIGHT_SHMFD) and returns the heads a previous daemon left
     * in flight, to resubmit with {@link #walkHead}; the next avail index then follows from the used index.
     */
    public int[] trackInflight(SplitInflight region) {
        this.inflight = region;
        int usedIdx = Short.toUnsignedInt((short) U16.getAcquire(used, (long) USED_IDX_OFFSET));
        int[] heads = region.recover(usedIdx);
        nextUsed = usedIdx;
        nextAvail = (usedIdx + heads.length) & 0xffff;
        availSeen = nextAvail;
        aheadCount = 0;
        return heads;
    }

    private int availIdx() { return Short.toUnsignedInt((short) U16.getAcquire(avail, (long) AVAIL_IDX_OFFSET)); }

    @Override
    public int pop(DescriptorChain chain) {
        if (availSeen == nextAvail) {
            // acquire: the ring entries and descriptors the driver wrote before bumping idx are visible after this read
            int idx = availIdx();
            int pending = (idx - nextAvail) & 0xffff;
            if (pending == 0) return POP_EMPTY;
            if (pending > size) { lastFault = ChainFault.BAD_INDEX; return POP_RING_FAULT; }  // more than a ring's worth: not work, a broken driver
            availSeen = idx;
        }
        int k = (nextAvail - aheadFrom) & 0xffff;
        if (k >= aheadCount) { readAhead(); k = 0; }
        int head = aheadHead[k];
        if (head >= size || outstanding[head]) { lastFault = ChainFault.BAD_INDEX; return POP_RING_FAULT; }
        nextAvail = (nextAvail + 1) & 0xffff;
        outstanding[head] = true;
        outstandingCount++;
        if (inflight != null) inflight.popped(head);
        return walkOut(head, aheadAddr[k], aheadWord[k], chain);
    }

    /** Reads the avail entries from nextAvail up to availSeen (at most {@value #AHEAD}) and their heads' descriptors. */
    private void readAhead() {
        int n = Math.min(AHEAD, (availSeen - nextAvail) & 0xffff);
        for (int i = 0; i < n; i++) {
            int head = Short.toUnsignedInt(avail.get(LE_SHORT, AVAIL_RING_OFFSET + 2L * ((nextAvail + i) & (size - 1))));
            aheadHead[i] = head;
            if (head < size) {   // a bad head faults when popped
                long at = (long) head * DESC_SIZE;
                aheadAddr[i] = desc.get(LE_LONG, at + DESC_ADDR_OFFSET);
                aheadWord[i] = desc.get(LE_LONG, at + DESC_LEN_OFFSET);
            }
        }
        aheadFrom = nextAvail;
        aheadCount = n;
    }

    @Override
    public int walkHead(int head, DescriptorChain chain) {
        if (head < 0 || head >= size || outstanding[head]) { lastFault = ChainFault.BAD_INDEX; return POP_RING_FAULT; }
        outstanding[head] = true;
        outstandingCount++;
        long at = (long) head * DESC_SIZE;
        return walkOut(head, desc.get(LE_LONG, at + DESC_ADDR_OFFSET), desc.get(LE_LONG, at + DESC_LEN_OFFSET), chain);
    }

    /** The chain at {@code head}, whose descriptor's two words were read as {@code gpa} and {@code word}. */
    private int walkOut(int head, long gpa, long word, DescriptorChain chain) {
        if (walkSingle(head, gpa, word, chain)) {
            if (writeLog != null) writeLog.record(head, chain);
            return POP_OK;
        }
        chain.clear();
        chain.setHead(head);
        chain.setRingSlots(1);
        ChainFault f = walk(head, chain);
        if (f != ChainFault.OK) { lastFault = f; return POP_CHAIN_FAULT; }
        if (writeLog != null) writeLog.record(head, chain);
        return POP_OK;
    }

    /**
     * The common chain, one direct descriptor inside one region (what network drivers post), read without the
     * general walk; false sends anything else (and anything wrong) to {@link #walk}, which reads it again.
     */
    private boolean walkSingle(int head, long gpa, long w, DescriptorChain chain) {
        long len = w & 0xffff_ffffL;
        int flags = (int) (w >>> 32) & 0xffff;
        if ((flags & (DESC_F_NEXT | DESC_F_INDIRECT)) != 0 || len == 0) return false;
        GuestMemory mem = memory;
        int r = mem.regionAt(gpa, regionHint);
        if (r < 0 || len > mem.remainingIn(r, gpa)) return false;
        regionHint = r;
        chain.setSingle(head, mem.region(r), mem.offsetIn(r, gpa), len, gpa, (flags & DESC_F_WRITE) != 0);
        return true;
    }

    /** Walks the chain at {@code head}; never allocates, never throws for guest input. */
    private ChainFault walk(int head, DescriptorChain chain) {
        GuestMemory mem = memory;
        MemorySegment table = desc;
        long base = 0;
        int tableSize = size, budget = size, index = head;
        boolean inIndirect = false;
        while (true) {
            if (index >= tableSize) return ChainFault.BAD_INDEX;
            if (budget-- == 0) return ChainFault.LOOP;            // each entry is visited at most once
            long at = base + (long) index * DESC_SIZE;              // read each field once: the guest may be rewriting it
            long gpa = table.get(LE_LONG, at + DESC_ADDR_OFFSET);
            long w = table.get(LE_LONG, at + DESC_LEN_OFFSET);       // len, flags and next in one load
            long len = w & 0xffff_ffffL;
            int flags = (int) (w >>> 32) & 0xffff;
            int next = (int) (w >>> 48);
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (!indirect || inIndirect || (flags & DESC_F_NEXT) != 0 || len == 0 || (len & 15) != 0 || len > 65535L * 16) {
                    return ChainFault.BAD_INDIRECT;
                }
                int r = mem.regionOf(gpa, len);
                if (r < 0) return ChainFault.BAD_ADDRESS;
                table = mem.region(r);
                base = mem.offsetIn(r, gpa);
                tableSize = budget = (int) (len / DESC_SIZE);
                index = 0;
                inIndirect = true;
                continue;
            }
            ChainFault f = record(mem, chain, gpa, len, (flags & DESC_F_WRITE) != 0);
            if (f != ChainFault.OK) return f;
            if ((flags & DESC_F_NEXT) == 0) return ChainFault.OK;
            index = next;
        }
    }

    @Override
    public void unpop() {
        nextAvail = (nextAvail - 1) & 0xffff;
        int head = Short.toUnsignedInt(avail.get(LE_SHORT, AVAIL_RING_OFFSET + 2L * (nextAvail & (size - 1))));
        if (head < size && outstanding[head]) { outstanding[head] = false; outstandingCount--; }
    }

    @Override
    public boolean pushUsed(int id, int lengthBytes) {
        if (id < 0 || id >= size || !outstanding[id]) return false;
        long at = USED_RING_OFFSET + (long) USED_ELEM_SIZE * (nextUsed & (size - 1));
        used.set(LE_INT, at, id);
        used.set(LE_INT, at + 4, lengthBytes);
        if (inflight != null) inflight.completing(id);
        if (dirtyLog != null) logUsedWrite(at, USED_ELEM_SIZE);
        if (writeLog != null && dirtyLog != null) writeLog.logCompletion(id, lengthBytes, dirtyLog);
        outstanding[id] = false;
        outstandingCount--;
        nextUsed = (nextUsed + 1) & 0xffff;
        pendingUsed++;
        if (++unpublished == PUBLISH_EVERY) publishUsedIdx();
        return true;
    }

    /**
     * Stores the used index without deciding about an interrupt: the next {@link #flushUsed} still checks the
     * whole range since the last interrupt decision (EVENT_IDX compares against {@code signalledUsed}; without
     * it the flags are read after that flush's fence), so a driver that re-armed meanwhile is not missed.
     */
    private void publishUsedIdx() {
        unpublished = 0;
        // release: the used elements written above are visible before the driver can see the new idx
        U16.setRelease(used, (long) USED_IDX_OFFSET, (short) nextUsed);
        if (inflight != null) inflight.published(nextUsed);
        if (dirtyLog != null) logUsedWrite(USED_IDX_OFFSET, 2);
    }

    @Override
    public boolean flushUsed() {
        if (pendingUsed == 0) return false;
        publishUsedIdx();
        pendingUsed = 0;
        // store->load barrier: our idx store must be visible before we read the driver's suppression state,
        // pairing with the driver's barrier between its used_event store and its used idx read (2.7.10)
        VarHandle.fullFence();
        if (eventIdx) {
            int usedEvent = Short.toUnsignedInt((short) U16.get(avail, usedEventOffset(size)));
            int old = signalledUsed;
            boolean valid = signalledValid;
            signalledUsed = nextUsed;
            signalledValid = true;
            return !valid || needEvent(usedEvent, nextUsed, old);
        }
        return (Short.toUnsignedInt((short) U16.get(avail, (long) AVAIL_FLAGS_OFFSET)) & AVAIL_F_NO_INTERRUPT) == 0;
    }

    @Override
    public void disableKicks() {
        // with EVENT_IDX the driver kicks only when it passes avail_event, which we leave behind while draining
        if (!eventIdx) U16.setRelease(used, (long) USED_FLAGS_OFFSET, (short) USED_F_NO_NOTIFY);
    }

    @Override
    public boolean enableKicks() {
        if (eventIdx) U16.setRelease(used, availEventOffset(size), (short) nextAvail);
        else U16.setRelease(used, (long) USED_FLAGS_OFFSET, (short) 0);
        // store->load: publish "kick me" before re-checking avail idx, or a buffer added in between is missed
        VarHandle.fullFence();
        return hasAvailable();
    }

    @Override
    public boolean hasAvailable() { return availSeen != nextAvail || availIdx() != nextAvail; }

    @Override
    public int base() { return nextAvail; }

    @Override
    public int pendingUsed() { return pendingUsed; }

    @Override
    public int outstandingCount() { return outstandingCount; }

    private void logUsedWrite(long offsetInUsed, long len) {
        if (addresses.logUsed()) dirtyLog.mark(addresses.logGpa() + offsetInUsed, len);
    }
}
