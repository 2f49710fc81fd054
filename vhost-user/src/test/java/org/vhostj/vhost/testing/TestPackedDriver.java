package org.vhostj.vhost.testing;

import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** The driver side of a packed ring, written by hand for core tests (see {@link TestSplitDriver}). */
public final class TestPackedDriver {
    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.varHandle();
    public final int size;
    public final long ringGpa, driverEventGpa, deviceEventGpa;
    public final MemorySegment ring, driverEvent, deviceEvent;
    private int nextSlot, usedSlot;
    private boolean availWrap = true, usedWrap = true;
    private final int[] slotsOfId;

    public TestPackedDriver(TestGuest guest, int size) {
        this.size = size;
        ringGpa = guest.alloc(descTableSize(size), 4096);
        driverEventGpa = guest.alloc(4, 64);
        deviceEventGpa = guest.alloc(4, 64);
        ring = guest.at(ringGpa, descTableSize(size));
        driverEvent = guest.at(driverEventGpa, 4);
        deviceEvent = guest.at(deviceEventGpa, 4);
        slotsOfId = new int[size];
    }

    private int availFlags(boolean wrap) { return wrap ? PACKED_DESC_F_AVAIL : PACKED_DESC_F_USED; }

    /**
     * Posts one chain of buffers as consecutive slots (the head's flags written last, with release).
     * {@code flags[i]} may add WRITE, INDIRECT; NEXT is set between slots.
     */
    public void post(int id, long[] addr, long[] len, int[] flags) {
        int head = nextSlot;
        int n = addr.length;
        int slot = nextSlot;
        boolean wrap = availWrap;
        int headFlags = 0;
        for (int i = 0; i < n; i++) {
            long at = (long) slot * DESC_SIZE;
            ring.set(LE_LONG, at, addr[i]);
            ring.set(LE_INT, at + 8, (int) len[i]);
            ring.set(LE_SHORT, at + 12, (short) id);
            int f = flags[i] | (i < n - 1 ? DESC_F_NEXT : 0) | availFlags(wrap);
            if (i == 0) headFlags = f;
            else ring.set(LE_SHORT, at + 14, (short) f);
            if (++slot == size) { slot = 0; wrap = !wrap; }
        }
        slotsOfId[id] = n;
        nextSlot = slot;
        availWrap = wrap;
        U16.setRelease(ring, (long) head * DESC_SIZE + 14, (short) headFlags);
    }

    /** Writes one raw slot (attacks); the caller controls every flag bit. */
    public void raw(int slot, long addr, long len, int id, int flags) {
        long at = (long) slot * DESC_SIZE;
        ring.set(LE_LONG, at, addr);
        ring.set(LE_INT, at + 8, (int) len);
        ring.set(LE_SHORT, at + 12, (short) id);
        U16.setRelease(ring, at + 14, (short) flags);
    }

    public boolean availWrap() { return availWrap; }

    public int availFlagBits() { return availFlags(availWrap); }

    /** Next completed buffer as {id, len}, or null if the device has not used one. */
    public int[] takeUsed() {
        long at = (long) usedSlot * DESC_SIZE;
        int f = Short.toUnsignedInt((short) U16.getAcquire(ring, at + 14));
        boolean avail = (f & PACKED_DESC_F_AVAIL) != 0, used = (f & PACKED_DESC_F_USED) != 0;
        if (avail != usedWrap || used != usedWrap) return null;
        int id = Short.toUnsignedInt(ring.get(LE_SHORT, at + 12));
        int len = ring.get(LE_INT, at + 8);
        usedSlot += slotsOfId[id];
        if (usedSlot >= size) { usedSlot -= size; usedWrap = !usedWrap; }
        return new int[] {id, len};
    }

    public void setDriverEvent(int offWrap, int flags) {
        driverEvent.set(LE_SHORT, 0, (short) offWrap);
        driverEvent.set(LE_SHORT, 2, (short) flags);
    }

    public int deviceEventFlags() { return Short.toUnsignedInt(deviceEvent.get(LE_SHORT, 2)); }
}
