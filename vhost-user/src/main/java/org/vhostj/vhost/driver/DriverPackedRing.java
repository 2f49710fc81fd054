package org.vhostj.vhost.driver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The driver side of a packed virtqueue (virtio 1.2 section 2.8). Owned by one thread.
 * <pre>
 * struct pvirtq_desc           { le64 addr @0; le32 len @8; le16 id @12; le16 flags @14; }   16 bytes, align 16
 * struct pvirtq_event_suppress { le16 off_wrap @0; le16 flags @2; }                           4 bytes, align 4
 *   flags: NEXT 1, WRITE 2, INDIRECT 4, AVAIL 1<<7, USED 1<<15
 *   event flags: ENABLE 0, DISABLE 1, DESC 2 (only with EVENT_IDX); off_wrap: bits 0-14 offset, 15 wrap counter
 * </pre>
 * The driver area holds the driver's event suppression (which used buffers it wants notified), the device
 * area the device's (which available buffers it wants kicked for). A chain takes consecutive slots; its
 * head's flags are written last, with release ordering, at {@link #publish}. Buffer ids come from a
 * host-side free stack; each id remembers how many slots its chain took, which is how far the used index
 * moves when the device returns it.
 */
public final class DriverPackedRing implements DriverRing {
    public static final int DESC_SIZE = 16, DESC_ADDR_OFFSET = 0, DESC_LEN_OFFSET = 8, DESC_ID_OFFSET = 12,
            DESC_FLAGS_OFFSET = 14;
    public static final int DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4, DESC_F_AVAIL = 1 << 7,
            DESC_F_USED = 1 << 15;
    public static final int EVENT_SIZE = 4, EVENT_OFF_WRAP_OFFSET = 0, EVENT_FLAGS_OFFSET = 2;
    public static final int EVENT_FLAG_ENABLE = 0, EVENT_FLAG_DISABLE = 1, EVENT_FLAG_DESC = 2;
    public static final int EVENT_WRAP_SHIFT = 15;
    public static final int DESC_ALIGN = 16, EVENT_ALIGN = 4;
    public static final int MAX_SIZE = 32768;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U16 = LE_SHORT.varHandle();
    private static final VarHandle U32 = LE_INT.varHandle();

    public static long descriptorAreaBytes(int size) { return (long) DESC_SIZE * size; }

    public static long driverAreaBytes(int size) { return EVENT_SIZE; }

    public static long deviceAreaBytes(int size) { return EVENT_SIZE; }

    public static long indirectAreaBytes(int size, int maxIndirect) { return (long) DESC_SIZE * size * maxIndirect; }

    private final int size;
    private final boolean eventIdx;
    private final RingArea descArea, driverEventArea, deviceEventArea;
    private final MemorySegment desc, driverEvent, deviceEvent, indirect;
    private final long indirectGpa;
    private final int maxIndirect;

    private final int[] freeIds;
    private int freeIdCount;
    private final int[] slotsOf;         // per id: ring slots its chain took; 0 = free
    private final long[] writableOf;
    private int freeSlots;

    private int nextAvail;               // slot the next descriptor goes to
    private boolean availWrap = true;    // virtio 1.2 2.8.1: both wrap counters start at 1
    private int lastUsed;
    private boolean usedWrap = true;
    private int addedSinceKick;          // slots made available since the last kick decision
    private int publishedSlot;           // where the device's view of available descriptors ends
    private boolean publishedWrap = true;

    private final int[] pendingHeadSlot; // heads written but not yet flagged available
    private final short[] pendingHeadFlags;
    private int pendingCount;

    private int usedLength;
    private boolean usedLengthValid;
    private int inFlight;
    private boolean interruptsEnabled = true;
    private boolean broken;
    private long violations;
    private String lastViolation;

    public DriverPackedRing(int size, boolean eventIdx, RingArea descArea, RingArea driverEventArea, RingArea deviceEventArea,
                            RingArea indirect, int maxIndirect) {
        if (size <= 0 || size > MAX_SIZE) throw new IllegalArgumentException("packed queue size must be in 1.." + MAX_SIZE + ": " + size);
        descArea.require("descriptor ring", descriptorAreaBytes(size), DESC_ALIGN);
        driverEventArea.require("driver event suppression", EVENT_SIZE, EVENT_ALIGN);
        deviceEventArea.require("device event suppression", EVENT_SIZE, EVENT_ALIGN);
        if (indirect != null) {
            if (maxIndirect <= 0) throw new IllegalArgumentException("indirect tables need at least one entry: " + maxIndirect);
            indirect.require("indirect tables", indirectAreaBytes(size, maxIndirect), DESC_ALIGN);
        }
        this.size = size;
        this.eventIdx = eventIdx;
        this.descArea = descArea;
        this.driverEventArea = driverEventArea;
        this.deviceEventArea = deviceEventArea;
        this.desc = descArea.memory();
        this.driverEvent = driverEventArea.memory();
        this.deviceEvent = deviceEventArea.memory();
        this.indirect = indirect == null ? null : indirect.memory();
        this.indirectGpa = indirect == null ? 0 : indirect.gpa();
        this.maxIndirect = indirect == null ? 0 : maxIndirect;
        freeIds = new int[size];
        for (int i = 0; i < size; i++) freeIds[i] = size - 1 - i;   // pop hands out 0, 1, 2...
        freeIdCount = size;
        slotsOf = new int[size];
        writableOf = new long[size];
        freeSlots = size;
        pendingHeadSlot = new int[size];
        pendingHeadFlags = new short[size];
        // all flags 0: with wrap counter 1 no slot looks available (AVAIL=0) or used
        desc.asSlice(0, descriptorAreaBytes(size)).fill((byte) 0);
        driverEvent.asSlice(0, EVENT_SIZE).fill((byte) 0);
        deviceEvent.asSlice(0, EVENT_SIZE).fill((byte) 0);
    }

    @Override public int size() { return size; }
    @Override public boolean packed() { return true; }
    @Override public boolean eventIdx() { return eventIdx; }
    @Override public int maxChainLength(boolean indirectChain) { return indirectChain ? maxIndirect : size; }
    @Override public int usedLength() { return usedLength; }
    @Override public boolean usedLengthValid() { return usedLengthValid; }
    @Override public int usedBase() { return offWrap(lastUsed, usedWrap); }
    @Override public int inFlight() { return inFlight; }
    @Override public int freeDescriptors() { return freeSlots; }
    @Override public RingArea descriptorArea() { return descArea; }
    @Override public RingArea driverArea() { return driverEventArea; }
    @Override public RingArea deviceArea() { return deviceEventArea; }
    @Override public long violations() { return violations; }
    @Override public String lastViolation() { return lastViolation; }
    @Override public boolean broken() { return broken; }

    /** Packed SET_VRING_BASE: bits 0-14 the next available slot, bit 15 the driver's wrap counter. */
    @Override
    public int vringBase() { return offWrap(publishedSlot, publishedWrap); }

    /** AVAIL/USED bits that make a descriptor available under wrap counter {@code wrap} (virtio 2.8.1). */
    private static int availBits(boolean wrap) { return wrap ? DESC_F_AVAIL : DESC_F_USED; }

    @Override
    public int add(BufferList buffers, boolean indirectChain) {
        return place(buffers, indirectChain, null);
    }

    @Override
    public int addCorrupt(BufferList buffers, ChainCorruption corruption) {
        if (!corruption.packed) throw new IllegalArgumentException(corruption + " has no packed-ring form");
        boolean viaIndirect = switch (corruption) {
            case NESTED_INDIRECT, INDIRECT_BAD_LENGTH, INDIRECT_EMPTY, INDIRECT_OUT_OF_RANGE -> true;
            default -> false;
        };
        if (viaIndirect && maxIndirect == 0) throw new IllegalArgumentException(corruption + " needs an indirect area");
        return place(buffers, viaIndirect, corruption);
    }

    private int place(BufferList buffers, boolean indirectChain, ChainCorruption corruption) {
        int n = buffers.count();
        if (n == 0) throw new IllegalArgumentException("a chain needs at least one buffer");
        if (n > maxChainLength(indirectChain)) {
            throw new IllegalArgumentException("chain of " + n + " buffers exceeds " + maxChainLength(indirectChain)
                    + (indirectChain ? " (indirect table size)" : " (queue size)"));
        }
        int slots = indirectChain ? 1 : n;
        if (freeSlots < slots || freeIdCount == 0) return NO_SPACE;
        int id = freeIds[--freeIdCount];
        int headSlot = nextAvail;
        short headFlags;
        if (indirectChain) {
            long tableOffset = (long) id * maxIndirect * DESC_SIZE;
            long tableGpa = indirectGpa + tableOffset;
            // indirect entries are read in order; NEXT is not used inside a packed indirect table
            for (int i = 0; i < n; i++) {
                long at = tableOffset + (long) i * DESC_SIZE;
                writeDesc(indirect, at, buffers.gpa(i), buffers.length(i), id);
                indirect.set(LE_SHORT, at + DESC_FLAGS_OFFSET, (short) (buffers.isWritable(i) ? DESC_F_WRITE : 0));
            }
            long headGpa = tableGpa;
            int headLen = n * DESC_SIZE;
            if (corruption != null) {
                switch (corruption) {
                    case NESTED_INDIRECT -> {
                        writeDesc(indirect, tableOffset, tableGpa, n * DESC_SIZE, id);
                        indirect.set(LE_SHORT, tableOffset + DESC_FLAGS_OFFSET, (short) DESC_F_INDIRECT);
                    }
                    case INDIRECT_BAD_LENGTH -> headLen = n * DESC_SIZE + 8;
                    case INDIRECT_EMPTY -> headLen = 0;
                    case INDIRECT_OUT_OF_RANGE -> headGpa = 0xffff_ffff_ffff_0000L;
                    default -> throw new IllegalArgumentException(corruption + " is not an indirect corruption");
                }
            }
            writeDesc(desc, (long) headSlot * DESC_SIZE, headGpa, headLen, id);
            headFlags = (short) (DESC_F_INDIRECT | availBits(availWrap));
            advance();
        } else {
            if (corruption != null && corruption != ChainCorruption.HUGE_LENGTH && corruption != ChainCorruption.UNTERMINATED_CHAIN) {
                throw new IllegalArgumentException(corruption + " is not a direct-chain corruption");
            }
            headFlags = 0;
            for (int i = 0; i < n; i++) {
                boolean more = i < n - 1 || corruption == ChainCorruption.UNTERMINATED_CHAIN;
                int len = buffers.length(i);
                if (corruption == ChainCorruption.HUGE_LENGTH && i == 0) len = -1;
                long at = (long) nextAvail * DESC_SIZE;
                writeDesc(desc, at, buffers.gpa(i), len, id);
                int flags = (buffers.isWritable(i) ? DESC_F_WRITE : 0) | (more ? DESC_F_NEXT : 0) | availBits(availWrap);
                if (i == 0) headFlags = (short) flags;
                else desc.set(LE_SHORT, at + DESC_FLAGS_OFFSET, (short) flags);   // published by the head's release
                advance();
            }
        }
        pendingHeadSlot[pendingCount] = headSlot;
        pendingHeadFlags[pendingCount] = headFlags;
        pendingCount++;
        freeSlots -= slots;
        slotsOf[id] = slots;
        writableOf[id] = buffers.writableBytes();
        addedSinceKick += slots;
        inFlight++;
        return id;
    }

    private void advance() {
        if (++nextAvail == size) {
            nextAvail = 0;
            availWrap = !availWrap;
        }
    }

    private static void writeDesc(MemorySegment table, long at, long gpa, int len, int id) {
        table.set(LE_LONG, at + DESC_ADDR_OFFSET, gpa);
        table.set(LE_INT, at + DESC_LEN_OFFSET, len);
        table.set(LE_SHORT, at + DESC_ID_OFFSET, (short) id);
    }

    @Override
    public boolean publish() {
        if (pendingCount == 0) return false;
        for (int i = 0; i < pendingCount; i++) {
            // virtio 1.2 2.8 "Updating flags": every other field of the chain is visible before the head's flags
            U16.setRelease(desc, (long) pendingHeadSlot[i] * DESC_SIZE + DESC_FLAGS_OFFSET, pendingHeadFlags[i]);
        }
        pendingCount = 0;
        publishedSlot = nextAvail;
        publishedWrap = availWrap;
        int now = nextAvail, old = nextAvail - addedSinceKick;
        addedSinceKick = 0;
        // virtio 1.2 2.8 "Sending Available Buffer Notifications": the flags stores before the load of the device's event suppression (store->load)
        VarHandle.fullFence();
        int snapshot = (int) U32.getAcquire(deviceEvent, 0L);    // off_wrap and flags read as one pair
        int flags = (snapshot >>> 16) & 0x3;
        if (flags != EVENT_FLAG_DESC) return flags != EVENT_FLAG_DISABLE;
        int offWrap = snapshot & 0xffff;
        int event = offWrap & 0x7fff;
        boolean eventWrap = (offWrap >>> EVENT_WRAP_SHIFT) != 0;
        // an event offset from the previous lap lies one ring size behind our indices
        if (eventWrap != availWrap) event -= size;
        return DriverRing.needEvent(event & 0xffff, now & 0xffff, old & 0xffff);
    }

    @Override
    public int pollUsed() {
        if (broken) return BAD_USED;
        long at = (long) lastUsed * DESC_SIZE;
        // virtio 1.2 2.8 "Receiving Used Buffers": read the flags first; id and len are valid only once they say "used"
        int flags = Short.toUnsignedInt((short) U16.getAcquire(desc, at + DESC_FLAGS_OFFSET));
        boolean avail = (flags & DESC_F_AVAIL) != 0, usedBit = (flags & DESC_F_USED) != 0;
        if (avail != usedBit || usedBit != usedWrap) return NONE;
        if (inFlight == 0) return fail("slot " + lastUsed + " marked used with nothing in flight");
        int id = Short.toUnsignedInt(desc.get(LE_SHORT, at + DESC_ID_OFFSET));
        // virtio 1.2 2.8.3/2.8.4: WRITE in a used descriptor says data was written; without it the length is reserved
        boolean lengthValid = (flags & DESC_F_WRITE) != 0;
        int len = lengthValid ? desc.get(LE_INT, at + DESC_LEN_OFFSET) : 0;
        if (id >= size || slotsOf[id] == 0) return fail("used buffer id " + id + " is not in flight");
        if (Integer.toUnsignedLong(len) > writableOf[id]) {
            violations++;
            lastViolation = "used length " + Integer.toUnsignedString(len) + " for id " + id + " exceeds the "
                    + writableOf[id] + " writable bytes offered";
        }
        int slots = slotsOf[id];
        slotsOf[id] = 0;
        freeIds[freeIdCount++] = id;
        freeSlots += slots;
        inFlight--;
        lastUsed += slots;
        if (lastUsed >= size) {
            lastUsed -= size;
            usedWrap = !usedWrap;
        }
        if (eventIdx && interruptsEnabled) {
            U16.setRelease(driverEvent, (long) EVENT_OFF_WRAP_OFFSET, (short) offWrap(lastUsed, usedWrap));
        }
        usedLength = len;
        usedLengthValid = lengthValid;
        return id;
    }

    private static int offWrap(int slot, boolean wrap) { return slot | (wrap ? 1 << EVENT_WRAP_SHIFT : 0); }

    private int fail(String why) {
        violations++;
        lastViolation = why;
        broken = true;   // the slot walk cannot continue without knowing how far this chain reached
        return BAD_USED;
    }

    @Override
    public void disableInterrupts() {
        interruptsEnabled = false;
        U16.setRelease(driverEvent, (long) EVENT_FLAGS_OFFSET, (short) EVENT_FLAG_DISABLE);
    }

    @Override
    public boolean enableInterrupts() {
        interruptsEnabled = true;
        if (eventIdx) {
            // the offset must be in place before the flags switch to DESC mode
            U16.setRelease(driverEvent, (long) EVENT_OFF_WRAP_OFFSET, (short) offWrap(lastUsed, usedWrap));
            U16.setRelease(driverEvent, (long) EVENT_FLAGS_OFFSET, (short) EVENT_FLAG_DESC);
        } else {
            U16.setRelease(driverEvent, (long) EVENT_FLAGS_OFFSET, (short) EVENT_FLAG_ENABLE);
        }
        // the request must be visible before we look at the used slot again (store->load)
        VarHandle.fullFence();
        int flags = Short.toUnsignedInt((short) U16.getAcquire(desc, (long) lastUsed * DESC_SIZE + DESC_FLAGS_OFFSET));
        boolean avail = (flags & DESC_F_AVAIL) != 0, usedBit = (flags & DESC_F_USED) != 0;
        return avail == usedBit && usedBit == usedWrap && inFlight > 0;
    }

    @Override
    public String toString() {
        return "packed ring[size " + size + ", next avail " + nextAvail + "/" + (availWrap ? 1 : 0) + ", last used "
                + lastUsed + "/" + (usedWrap ? 1 : 0) + ", in flight " + inFlight + "]";
    }
}
