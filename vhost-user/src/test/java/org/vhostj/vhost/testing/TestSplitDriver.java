package org.vhostj.vhost.testing;

import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The driver side of a split ring, written out by hand for core tests: raw descriptor writes (attacks),
 * avail publication with release, used reads with acquire. Deliberately minimal; the harness has the real
 * driver.
 */
public final class TestSplitDriver {
    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.varHandle();
    public final int size;
    public final long descGpa, availGpa, usedGpa;
    public final MemorySegment desc, avail, used;
    private int availIdx, usedSeen;

    public TestSplitDriver(TestGuest guest, int size) {
        this.size = size;
        descGpa = guest.alloc(descTableSize(size), 4096);
        availGpa = guest.alloc(availSize(size), 4096);
        usedGpa = guest.alloc(usedSize(size), 4096);
        desc = guest.at(descGpa, descTableSize(size));
        avail = guest.at(availGpa, availSize(size));
        used = guest.at(usedGpa, usedSize(size));
    }

    /** Where this driver's ring lies, as SET_VRING_ADDR would tell the device (no dirty log). */
    public org.vhostj.vhost.ring.RingAddresses addresses() {
        return new org.vhostj.vhost.ring.RingAddresses(size, descGpa, availGpa, usedGpa, 0, false);
    }

    public void desc(int i, long addr, long len, int flags, int next) {
        long at = (long) i * DESC_SIZE;
        desc.set(LE_LONG, at, addr);
        desc.set(LE_INT, at + 8, (int) len);
        desc.set(LE_SHORT, at + 12, (short) flags);
        desc.set(LE_SHORT, at + 14, (short) next);
    }

    /** Writes an indirect table at {@code tableGpa} in {@code guest}: entries (addr, len, flags, next). */
    public static void indirectEntry(MemorySegment table, int i, long addr, long len, int flags, int next) {
        long at = (long) i * DESC_SIZE;
        table.set(LE_LONG, at, addr);
        table.set(LE_INT, at + 8, (int) len);
        table.set(LE_SHORT, at + 12, (short) flags);
        table.set(LE_SHORT, at + 14, (short) next);
    }

    /** Makes {@code head} available and publishes the new avail idx (release). */
    public void publish(int head) {
        avail.set(LE_SHORT, AVAIL_RING_OFFSET + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
        U16.setRelease(avail, (long) AVAIL_IDX_OFFSET, (short) availIdx);
    }

    /** Sets avail.idx directly (e.g. a jump larger than the ring). */
    public void setAvailIdx(int idx) {
        availIdx = idx & 0xffff;
        U16.setRelease(avail, (long) AVAIL_IDX_OFFSET, (short) availIdx);
    }

    public int usedIdx() { return Short.toUnsignedInt((short) U16.getAcquire(used, (long) USED_IDX_OFFSET)); }

    public int usedId(int i) { return used.get(LE_INT, USED_RING_OFFSET + 8L * (i % size)); }

    public int usedLen(int i) { return used.get(LE_INT, USED_RING_OFFSET + 8L * (i % size) + 4); }

    /** Number of used elements not yet consumed with {@link #takeUsed}. */
    public int pendingUsed() { return (usedIdx() - usedSeen) & 0xffff; }

    /** Consumes the next used element: {id, len}. */
    public int[] takeUsed() {
        int[] e = {usedId(usedSeen), usedLen(usedSeen)};
        usedSeen = (usedSeen + 1) & 0xffff;
        return e;
    }

    public void setUsedEvent(int v) { avail.set(LE_SHORT, usedEventOffset(size), (short) v); }

    public int availEvent() { return Short.toUnsignedInt(used.get(LE_SHORT, availEventOffset(size))); }

    public void setAvailFlags(int flags) { avail.set(LE_SHORT, AVAIL_FLAGS_OFFSET, (short) flags); }

    public int usedFlags() { return Short.toUnsignedInt(used.get(LE_SHORT, USED_FLAGS_OFFSET)); }

    /** Consumes every used element produced so far. */
    public void awaitUsedQuietly() { while (pendingUsed() > 0) takeUsed(); }

    /** Waits (bounded) until the device has produced {@code n} used elements not yet taken. */
    public void awaitUsed(int n, long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        while (pendingUsed() < n) {
            if (System.currentTimeMillis() > end) throw new AssertionError("device produced " + pendingUsed() + " of " + n + " used elements");
            Thread.sleep(1);
        }
    }
}
