package org.vhostj.vhost.ring;

import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.vhostj.vhost.memory.GuestMemory;

/**
 * Device side of a packed virtqueue (virtio 1.2 section 2.8): one descriptor ring that the driver and the
 * device both write, ownership told by the AVAIL/USED flag bits against each side's wrap counter. A chain
 * may span several ring slots (NEXT) or point at an indirect table; its buffer id is in its last slot.
 */
public final class PackedRing extends DeviceRing {
    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.varHandle();

    private MemorySegment ring, driverEvent, deviceEvent;
    private int nextAvail, nextUsed, signalledUsed;
    private boolean availWrap, usedWrap, signalledValid;
    private int prevAvail;
    private boolean prevAvailWrap;
    private int pendingUsed, lastPoppedId = -1;
    /** Ring slots the used index advanced since the last flush (a whole lap makes the event check ambiguous). */
    private int usedAdvance;
    private final int[] slotsById;
    /** Whether each out-standing chain had device-writable buffers (its used element then carries WRITE). */
    private final boolean[] wroteById;
    private final boolean[] outstanding;
    private int outstandingCount;

    /**
     * @param base SET_VRING_BASE: bits 0-14 next avail index, bit 15 its wrap counter; bits 16-31 the same for
     *             the used side when non-zero (QEMU's layout), else the used side starts where avail does
     */
    public PackedRing(RingAddresses addresses, boolean eventIdx, boolean indirect, int base) {
        super(addresses, eventIdx, indirect);
        if (size <= 0 || size > MAX_QUEUE_SIZE) throw new IllegalArgumentException("packed ring size must be 1.." + MAX_QUEUE_SIZE + ": " + size);
        nextAvail = base & 0x7fff;
        availWrap = (base & 0x8000) != 0;
        int usedBase = base >>> 16;
        nextUsed = usedBase != 0 ? usedBase & 0x7fff : nextAvail;
        usedWrap = usedBase != 0 ? (usedBase & 0x8000) != 0 : availWrap;
        if (nextAvail >= size || nextUsed >= size) throw new IllegalArgumentException("ring base beyond ring size " + size + ": " + Integer.toHexString(base));
        slotsById = new int[size];
        wroteById = new boolean[size];
        outstanding = new boolean[size];
    }

    @Override
    public boolean attach(GuestMemory mem) {
        RingAddresses a = addresses;
        if ((a.descGpa() & 15) != 0 || (a.driverGpa() & 3) != 0 || (a.deviceGpa() & 3) != 0) return false;
        MemorySegment r = mem.slice(a.descGpa(), descTableSize(size));
        MemorySegment drv = mem.slice(a.driverGpa(), EVENT_SUPPRESS_SIZE);
        MemorySegment dev = mem.slice(a.deviceGpa(), EVENT_SUPPRESS_SIZE);
        if (r == null || drv == null || dev == null) return false;
        if ((r.address() & 1) != 0 || (drv.address() & 1) != 0 || (dev.address() & 1) != 0) return false;
        if (memory == null) signalledValid = false;
        memory = mem;
        ring = r;
        driverEvent = drv;
        deviceEvent = dev;
        return true;
    }

    private boolean isAvail(int flags, boolean wrap) {
        boolean avail = (flags & PACKED_DESC_F_AVAIL) != 0, used = (flags & PACKED_DESC_F_USED) != 0;
        return avail == wrap && used != wrap;
    }

    private int flagsAt(int slot) {
        // acquire: the descriptor's other fields are read after its flags say the driver made it available
        return Short.toUnsignedInt((short) U16.getAcquire(ring, (long) slot * DESC_SIZE + PACKED_DESC_FLAGS_OFFSET));
    }

    @Override
    public int pop(DescriptorChain chain) {
        if (!isAvail(flagsAt(nextAvail), availWrap)) return POP_EMPTY;
        prevAvail = nextAvail;
        prevAvailWrap = availWrap;
        chain.clear();
        GuestMemory mem = memory;
        ChainFault fault = ChainFault.OK;
        int slot = nextAvail, slots = 0, id = 0;
        boolean wrap = availWrap;
        while (true) {
            long at = (long) slot * DESC_SIZE;
            int flags = slots == 0 ? flagsAt(slot) : Short.toUnsignedInt(ring.get(LE_SHORT, at + PACKED_DESC_FLAGS_OFFSET));
            if (slots > 0 && !isAvail(flags, wrap) && fault == ChainFault.OK) fault = ChainFault.NOT_AVAILABLE;
            long gpa = ring.get(LE_LONG, at + DESC_ADDR_OFFSET);
            long len = Integer.toUnsignedLong(ring.get(LE_INT, at + DESC_LEN_OFFSET));
            id = Short.toUnsignedInt(ring.get(LE_SHORT, at + PACKED_DESC_ID_OFFSET));
            slots++;
            if (++slot == size) { slot = 0; wrap = !wrap; }
            if (fault == ChainFault.OK) {
                fault = (flags & DESC_F_INDIRECT) != 0
                        ? walkIndirect(mem, chain, gpa, len, (flags & DESC_F_NEXT) != 0)
                        : record(mem, chain, gpa, len, (flags & DESC_F_WRITE) != 0);
            }
            if ((flags & DESC_F_NEXT) == 0) break;
            if (slots == size) { fault = ChainFault.LOOP; break; }   // a chain can not be longer than the ring
        }
        // the chain's slots are consumed whatever its fate, so the ring stays in step with the driver
        nextAvail = slot;
        availWrap = wrap;
        if (id >= size || outstanding[id]) { lastFault = ChainFault.BAD_INDEX; return POP_RING_FAULT; }
        outstanding[id] = true;
        outstandingCount++;
        slotsById[id] = slots;
        wroteById[id] = chain.writableCount() > 0 || fault != ChainFault.OK;
        lastPoppedId = id;
        chain.setHead(id);
        chain.setRingSlots(slots);
        if (fault != ChainFault.OK) { lastFault = fault; return POP_CHAIN_FAULT; }
        if (writeLog != null) writeLog.record(id, chain);
        return POP_OK;
    }

    /** An indirect table of packed descriptors, used in order (no NEXT links inside it). */
    private ChainFault walkIndirect(GuestMemory mem, DescriptorChain chain, long gpa, long len, boolean hasNext) {
        if (!indirect || hasNext || len == 0 || (len & 15) != 0 || len > 65535L * 16) return ChainFault.BAD_INDIRECT;
        int r = mem.regionOf(gpa, len);
        if (r < 0) return ChainFault.BAD_ADDRESS;
        MemorySegment table = mem.region(r);
        long base = mem.offsetIn(r, gpa);
        int entries = (int) (len / DESC_SIZE);
        for (int i = 0; i < entries; i++) {
            long at = base + (long) i * DESC_SIZE;
            long bufGpa = table.get(LE_LONG, at + DESC_ADDR_OFFSET);
            long bufLen = Integer.toUnsignedLong(table.get(LE_INT, at + DESC_LEN_OFFSET));
            int flags = Short.toUnsignedInt(table.get(LE_SHORT, at + PACKED_DESC_FLAGS_OFFSET));
            if ((flags & DESC_F_INDIRECT) != 0) return ChainFault.BAD_INDIRECT;
            ChainFault f = record(mem, chain, bufGpa, bufLen, (flags & DESC_F_WRITE) != 0);
            if (f != ChainFault.OK) return f;
        }
        return ChainFault.OK;
    }

    @Override
    public void unpop() {
        if (lastPoppedId < 0) return;
        nextAvail = prevAvail;
        availWrap = prevAvailWrap;
        outstanding[lastPoppedId] = false;
        outstandingCount--;
        lastPoppedId = -1;
    }

    @Override
    public boolean pushUsed(int id, int lengthBytes) {
        if (id < 0 || id >= size || !outstanding[id]) return false;
        long at = (long) nextUsed * DESC_SIZE;
        ring.set(LE_INT, at + DESC_LEN_OFFSET, lengthBytes);
        ring.set(LE_SHORT, at + PACKED_DESC_ID_OFFSET, (short) id);
        // WRITE says the length is valid (2.8.4: without it the driver must ignore len), as QEMU does for
        // any chain with device-writable buffers; release: id and len are visible before the flags that hand
        // the slot back to the driver
        int flags = (usedWrap ? PACKED_DESC_F_AVAIL | PACKED_DESC_F_USED : 0) | (wroteById[id] ? DESC_F_WRITE : 0);
        U16.setRelease(ring, at + PACKED_DESC_FLAGS_OFFSET, (short) flags);
        if (dirtyLog != null) {
            if (addresses.logUsed()) dirtyLog.mark(addresses.logGpa() + at, DESC_SIZE);
            if (writeLog != null) writeLog.logCompletion(id, lengthBytes, dirtyLog);
        }
        nextUsed += slotsById[id];
        usedAdvance += slotsById[id];
        if (nextUsed >= size) { nextUsed -= size; usedWrap = !usedWrap; }
        outstanding[id] = false;
        outstandingCount--;
        if (id == lastPoppedId) lastPoppedId = -1;
        pendingUsed++;
        return true;
    }

    @Override
    public boolean flushUsed() {
        if (pendingUsed == 0) return false;
        pendingUsed = 0;
        // used slots are visible to the driver as soon as they are written, so it may reap and post again while
        // one batch is still running: the used index can then move a whole lap or more between two flushes, and
        // a 15-bit offset and one wrap bit no longer tell whether its event slot was passed; signal then
        boolean lapped = usedAdvance >= size;
        usedAdvance = 0;
        // store->load: our used flags must be visible before we read the driver's event suppression (2.8.10)
        VarHandle.fullFence();
        int flags = Short.toUnsignedInt((short) U16.get(driverEvent, (long) EVENT_FLAGS_OFFSET)) & 3;
        int offWrap = Short.toUnsignedInt((short) U16.get(driverEvent, (long) EVENT_OFF_WRAP_OFFSET));
        int old = signalledUsed;
        boolean valid = signalledValid;
        signalledUsed = nextUsed;
        signalledValid = true;
        if (flags == EVENT_FLAG_DISABLE) return false;
        if (flags != EVENT_FLAG_DESC || !eventIdx) return true;
        int off = offWrap & 0x7fff;
        if (usedWrap != ((offWrap >>> 15) != 0)) off -= size;
        return !valid || lapped || needEvent(off, nextUsed, old);
    }

    @Override
    public void disableKicks() {
        U16.setRelease(deviceEvent, (long) EVENT_FLAGS_OFFSET, (short) EVENT_FLAG_DISABLE);
    }

    @Override
    public boolean enableKicks() {
        if (eventIdx) {
            U16.set(deviceEvent, (long) EVENT_OFF_WRAP_OFFSET, (short) (nextAvail | (availWrap ? 0x8000 : 0)));
            U16.setRelease(deviceEvent, (long) EVENT_FLAGS_OFFSET, (short) EVENT_FLAG_DESC);
        } else {
            U16.setRelease(deviceEvent, (long) EVENT_FLAGS_OFFSET, (short) EVENT_FLAG_ENABLE);
        }
        // store->load: ask for kicks before re-checking, or a buffer made available in between is missed
        VarHandle.fullFence();
        return hasAvailable();
    }

    @Override
    public boolean hasAvailable() { return isAvail(flagsAt(nextAvail), availWrap); }

    @Override
    public int base() {
        return (nextAvail | (availWrap ? 0x8000 : 0)) | ((nextUsed | (usedWrap ? 0x8000 : 0)) << 16);
    }

    @Override
    public int pendingUsed() { return pendingUsed; }

    @Override
    public int outstandingCount() { return outstandingCount; }
}
