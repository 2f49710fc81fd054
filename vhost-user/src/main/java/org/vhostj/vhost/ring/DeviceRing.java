package org.vhostj.vhost.ring;

import org.vhostj.vhost.memory.DirtyLog;
import org.vhostj.vhost.memory.GuestMemory;

/**
 * The device side of one virtqueue, split or packed. Owned by the queue's worker thread: no method is
 * thread-safe. It never throws for guest input: a bad chain is a {@link #POP_CHAIN_FAULT} (complete it with
 * length 0 and go on), a bad ring a {@link #POP_RING_FAULT} (stop the queue).
 */
public abstract sealed class DeviceRing permits SplitRing, PackedRing {
    public static final int POP_OK = 0, POP_EMPTY = 1, POP_CHAIN_FAULT = 2, POP_RING_FAULT = 3;

    protected final int size;
    protected final boolean eventIdx;
    protected final boolean indirect;
    protected RingAddresses addresses;
    protected GuestMemory memory;
    protected ChainFault lastFault = ChainFault.OK;
    protected DirtyLog dirtyLog;
    protected WriteLog writeLog;

    protected DeviceRing(RingAddresses addresses, boolean eventIdx, boolean indirect) {
        this.addresses = addresses;
        this.size = addresses.size();
        this.eventIdx = eventIdx;
        this.indirect = indirect;
    }

    public int size() { return size; }

    /** Why the last pop failed. */
    public ChainFault lastFault() { return lastFault; }

    /**
     * Points the ring at a (new) memory snapshot. Returns false if its areas are not inside guest memory or
     * not aligned: the ring must not be used then.
     */
    public abstract boolean attach(GuestMemory memory);

    /** Turns logging of used-ring writes (at {@code logGpa}) on or off on a running ring (VRING_F_LOG). */
    public void updateUsedLog(long logGpa, boolean logUsed) {
        RingAddresses a = addresses;
        addresses = new RingAddresses(a.size(), a.descGpa(), a.driverGpa(), a.deviceGpa(), logGpa, logUsed);
    }

    /** Logs used-ring and data writes into {@code log} from now on (null: stop logging). */
    public void setDirtyLog(DirtyLog log) {
        this.dirtyLog = log;
        this.writeLog = log == null ? null : new WriteLog(size);
    }

    /**
     * Pops the next available chain into {@code chain}: {@link #POP_OK}, {@link #POP_EMPTY},
     * {@link #POP_CHAIN_FAULT} (chain.head() identifies it; complete it with 0) or {@link #POP_RING_FAULT}.
     */
    public abstract int pop(DescriptorChain chain);

    /** Re-walks an in-flight head (split rings, inflight resubmission after a reconnect). */
    public int walkHead(int head, DescriptorChain chain) { return POP_RING_FAULT; }

    /** Undoes the last successful pop (nothing was completed for it). */
    public abstract void unpop();

    /** Writes one used element; returns false if {@code id} is not a buffer this ring handed out. */
    public abstract boolean pushUsed(int id, int lengthBytes);

    /** Makes pushed used elements visible to the driver; returns whether the driver wants an interrupt. */
    public abstract boolean flushUsed();

    /** Tells the driver not to kick (we are polling or draining). */
    public abstract void disableKicks();

    /** Asks the driver to kick again; returns true if buffers arrived meanwhile (drain again before sleeping). */
    public abstract boolean enableKicks();

    /** Whether the driver has made buffers available that were not popped yet. */
    public abstract boolean hasAvailable();

    /** The value GET_VRING_BASE returns (split: next avail index; packed: avail and used with wrap bits). */
    public abstract int base();

    /** Buffers handed to the device and not yet completed. */
    public abstract int outstandingCount();

    /** Used-ring writes not yet flushed. */
    public abstract int pendingUsed();

    /** The region the last buffer was in: the next one is almost always in it too. */
    protected int regionHint;

    /** Adds [gpa, gpa+len) to the chain, split where it crosses from one region into an adjacent one. */
    protected final ChainFault record(GuestMemory mem, DescriptorChain chain, long gpa, long len, boolean writable) {
        while (len > 0) {
            int r = mem.regionAt(gpa, regionHint);
            if (r < 0) return ChainFault.BAD_ADDRESS;
            regionHint = r;
            long n = Math.min(len, mem.remainingIn(r, gpa));
            ChainFault f = chain.add(mem.region(r), mem.offsetIn(r, gpa), n, gpa, writable);
            if (f != ChainFault.OK) return f;
            if (Long.compareUnsigned(gpa + n, gpa) < 0 && len > n) return ChainFault.BAD_ADDRESS; // wraps past 2^64
            gpa += n;
            len -= n;
        }
        return ChainFault.OK;
    }
}
