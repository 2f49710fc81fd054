package org.vhostj.vhost.driver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The driver side of a split virtqueue (virtio 1.2 section 2.7). Owned by one thread.
 * <pre>
 * struct virtq_desc  { le64 addr @0; le32 len @8; le16 flags @12; le16 next @14; }          16 bytes, align 16
 * struct virtq_avail { le16 flags @0; le16 idx @2; le16 ring[N] @4; le16 used_event @4+2N; }  6+2N, align 2
 * struct virtq_used  { le16 flags @0; le16 idx @2; struct { le32 id; le32 len; } ring[N] @4;
 *                      le16 avail_event @4+8N; }                                              6+8N, align 4
 * </pre>
 * Free descriptors are linked through a host-side array, never through guest memory, so a device that
 * scribbles on the table cannot corrupt the free list. Indirect tables live in a separate area, one table
 * of {@code maxIndirect} entries per head descriptor.
 */
public final class DriverSplitRing implements DriverRing {
    public static final int DESC_SIZE = 16, DESC_ADDR_OFFSET = 0, DESC_LEN_OFFSET = 8, DESC_FLAGS_OFFSET = 12,
            DESC_NEXT_OFFSET = 14;
    public static final int DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
    public static final int AVAIL_FLAGS_OFFSET = 0, AVAIL_IDX_OFFSET = 2, AVAIL_RING_OFFSET = 4;
    public static final int USED_FLAGS_OFFSET = 0, USED_IDX_OFFSET = 2, USED_RING_OFFSET = 4, USED_ELEM_SIZE = 8;
    public static final int AVAIL_F_NO_INTERRUPT = 1, USED_F_NO_NOTIFY = 1;
    public static final int DESC_ALIGN = 16, AVAIL_ALIGN = 2, USED_ALIGN = 4;
    public static final int MAX_SIZE = 32768;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Aligned u16 with atomic access modes, for the indices that order ring traffic. */
    private static final VarHandle U16 = LE_SHORT.varHandle();

    public static long descriptorAreaBytes(int size) { return (long) DESC_SIZE * size; }

    public static long driverAreaBytes(int size) { return 6L + 2L * size; }

    public static long deviceAreaBytes(int size) { return 6L + (long) USED_ELEM_SIZE * size; }

    public static long indirectAreaBytes(int size, int maxIndirect) { return (long) DESC_SIZE * size * maxIndirect; }

    private final int size;
    private final boolean eventIdx;
    private final RingArea descArea, availArea, usedArea;
    private final MemorySegment desc, avail, used, indirect;
    private final long indirectGpa;
    private final int maxIndirect;
    private final long usedEventOffset, availEventOffset;

    private final int[] nextFree;        // free-list links, host side
    private final int[] chainTail;       // per head: last descriptor of its direct chain (the head itself if indirect)
    private final int[] chainDescriptors; // per head: table descriptors it holds; 0 = not in flight
    private final long[] chainWritable;  // per head: device-writable bytes offered
    private int freeHead, freeCount;

    private int availIdx;                // next avail idx to publish (u16)
    private int publishedAvailIdx;
    private int lastUsedIdx;
    private int usedLength;
    private int inFlight;
    private boolean interruptsEnabled = true;
    private boolean broken;
    private long violations;
    private String lastViolation;

    /**
     * @param indirect    area for indirect tables ({@link #indirectAreaBytes} bytes, 16-aligned), or null
     * @param maxIndirect entries per indirect table (0 without an indirect area)
     */
    public DriverSplitRing(int size, boolean eventIdx, RingArea descArea, RingArea availArea, RingArea usedArea,
                           RingArea indirect, int maxIndirect) {
        if (size <= 0 || size > MAX_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("split queue size must be a power of 2 in 1.." + MAX_SIZE + ": " + size);
        }
        descArea.require("descriptor table", descriptorAreaBytes(size), DESC_ALIGN);
        availArea.require("available ring", driverAreaBytes(size), AVAIL_ALIGN);
        usedArea.require("used ring", deviceAreaBytes(size), USED_ALIGN);
        if (indirect != null) {
            if (maxIndirect <= 0) throw new IllegalArgumentException("indirect tables need at least one entry: " + maxIndirect);
            indirect.require("indirect tables", indirectAreaBytes(size, maxIndirect), DESC_ALIGN);
        }
        this.size = size;
        this.eventIdx = eventIdx;
        this.descArea = descArea;
        this.availArea = availArea;
        this.usedArea = usedArea;
        this.desc = descArea.memory();
        this.avail = availArea.memory();
        this.used = usedArea.memory();
        this.indirect = indirect == null ? null : indirect.memory();
        this.indirectGpa = indirect == null ? 0 : indirect.gpa();
        this.maxIndirect = indirect == null ? 0 : maxIndirect;
        this.usedEventOffset = AVAIL_RING_OFFSET + 2L * size;
        this.availEventOffset = USED_RING_OFFSET + (long) USED_ELEM_SIZE * size;
        nextFree = new int[size];
        chainTail = new int[size];
        chainDescriptors = new int[size];
        chainWritable = new long[size];
        for (int i = 0; i < size; i++) nextFree[i] = i + 1;
        freeHead = 0;
        freeCount = size;
        // a fresh ring: the device starts from all-zero indices and flags
        desc.asSlice(0, descriptorAreaBytes(size)).fill((byte) 0);
        avail.asSlice(0, driverAreaBytes(size)).fill((byte) 0);
        used.asSlice(0, deviceAreaBytes(size)).fill((byte) 0);
    }

    @Override public int size() { return size; }
    @Override public boolean packed() { return false; }
    @Override public boolean eventIdx() { return eventIdx; }
    @Override public int maxChainLength(boolean indirectChain) { return indirectChain ? maxIndirect : size; }
    @Override public int usedLength() { return usedLength; }
    @Override public int inFlight() { return inFlight; }
    @Override public int freeDescriptors() { return freeCount; }
    @Override public int vringBase() { return publishedAvailIdx; }
    @Override public int usedBase() { return lastUsedIdx; }
    @Override public RingArea descriptorArea() { return descArea; }
    @Override public RingArea driverArea() { return availArea; }
    @Override public RingArea deviceArea() { return usedArea; }
    @Override public long violations() { return violations; }
    @Override public String lastViolation() { return lastViolation; }
    @Override public boolean broken() { return broken; }

    @Override
    public int add(BufferList buffers, boolean indirectChain) {
        return place(buffers, indirectChain, null);
    }

    @Override
    public int addCorrupt(BufferList buffers, ChainCorruption corruption) {
        if (!corruption.split) throw new IllegalArgumentException(corruption + " has no split-ring form");
        boolean viaIndirect = switch (corruption) {
            case NESTED_INDIRECT, INDIRECT_BAD_LENGTH, INDIRECT_EMPTY, INDIRECT_WITH_NEXT, INDIRECT_OUT_OF_RANGE -> true;
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
        int need = indirectChain ? 1 : n;
        if (freeCount < need) return NO_SPACE;
        int head = freeHead;
        int last = head;
        if (indirectChain) {
            long tableOffset = (long) head * maxIndirect * DESC_SIZE;
            long tableGpa = indirectGpa + tableOffset;
            for (int i = 0; i < n; i++) {
                int flags = (buffers.isWritable(i) ? DESC_F_WRITE : 0) | (i < n - 1 ? DESC_F_NEXT : 0);
                writeDesc(indirect, tableOffset + (long) i * DESC_SIZE, buffers.gpa(i), buffers.length(i), flags, i < n - 1 ? i + 1 : 0);
            }
            long headGpa = tableGpa;
            int headLen = n * DESC_SIZE, headFlags = DESC_F_INDIRECT, headNext = 0;
            if (corruption != null) {
                switch (corruption) {
                    case NESTED_INDIRECT -> {   // entry 0 points at its own table again
                        int f0 = DESC_F_INDIRECT | (n > 1 ? DESC_F_NEXT : 0);
                        writeDesc(indirect, tableOffset, tableGpa, n * DESC_SIZE, f0, n > 1 ? 1 : 0);
                    }
                    case INDIRECT_BAD_LENGTH -> headLen = n * DESC_SIZE + 8;
                    case INDIRECT_EMPTY -> headLen = 0;
                    case INDIRECT_WITH_NEXT -> { headFlags |= DESC_F_NEXT; headNext = head; }
                    case INDIRECT_OUT_OF_RANGE -> headGpa = 0xffff_ffff_ffff_0000L;
                    default -> throw new IllegalArgumentException(corruption + " is not an indirect corruption");
                }
            }
            writeDesc(desc, (long) head * DESC_SIZE, headGpa, headLen, headFlags, headNext);
            freeHead = nextFree[head];
        } else {
            int d = head;
            for (int i = 0; i < n; i++) {
                int next = nextFree[d];
                boolean more = i < n - 1;
                int len = buffers.length(i);
                if (corruption == ChainCorruption.HUGE_LENGTH && i == 0) len = -1;
                writeDesc(desc, (long) d * DESC_SIZE, buffers.gpa(i), len,
                        (buffers.isWritable(i) ? DESC_F_WRITE : 0) | (more ? DESC_F_NEXT : 0), more ? next : 0);
                last = d;
                d = next;
            }
            freeHead = d;
            if (corruption == ChainCorruption.DESCRIPTOR_LOOP || corruption == ChainCorruption.NEXT_OUT_OF_RANGE) {
                long at = (long) last * DESC_SIZE;
                desc.set(LE_SHORT, at + DESC_FLAGS_OFFSET, (short) (desc.get(LE_SHORT, at + DESC_FLAGS_OFFSET) | DESC_F_NEXT));
                desc.set(LE_SHORT, at + DESC_NEXT_OFFSET, (short) (corruption == ChainCorruption.DESCRIPTOR_LOOP ? head : size));
            } else if (corruption != null && corruption != ChainCorruption.HUGE_LENGTH) {
                throw new IllegalArgumentException(corruption + " is not a direct-chain corruption");
            }
        }
        freeCount -= need;
        chainTail[head] = last;
        chainDescriptors[head] = need;
        chainWritable[head] = buffers.writableBytes();
        inFlight++;
        // the slot is invisible to the device until publish() moves avail->idx past it
        avail.set(LE_SHORT, AVAIL_RING_OFFSET + 2L * (availIdx & (size - 1)), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
        return head;
    }

    private static void writeDesc(MemorySegment table, long at, long gpa, int len, int flags, int next) {
        table.set(LE_LONG, at + DESC_ADDR_OFFSET, gpa);
        table.set(LE_INT, at + DESC_LEN_OFFSET, len);
        table.set(LE_SHORT, at + DESC_FLAGS_OFFSET, (short) flags);
        table.set(LE_SHORT, at + DESC_NEXT_OFFSET, (short) next);
    }

    @Override
    public boolean publish() {
        int old = publishedAvailIdx, now = availIdx;
        if (old == now) return false;
        // virtio 2.7.13.3: descriptor and ring-entry writes must be visible before the new avail->idx
        U16.setRelease(avail, (long) AVAIL_IDX_OFFSET, (short) now);
        publishedAvailIdx = now;
        // virtio 2.7.13.4 / 2.7.10: idx store before the load of used->flags or avail_event (store->load)
        VarHandle.fullFence();
        if (eventIdx) {
            int availEvent = Short.toUnsignedInt(used.get(LE_SHORT, availEventOffset));
            return DriverRing.needEvent(availEvent, now, old);
        }
        return (used.get(LE_SHORT, USED_FLAGS_OFFSET) & USED_F_NO_NOTIFY) == 0;
    }

    @Override
    public int pollUsed() {
        if (broken) return BAD_USED;
        // virtio 2.7.14: read used->idx before the entries it covers
        int usedIdx = Short.toUnsignedInt((short) U16.getAcquire(used, (long) USED_IDX_OFFSET));
        if (usedIdx == lastUsedIdx) return NONE;
        if (((usedIdx - lastUsedIdx) & 0xffff) > inFlight) {
            return fail("used idx " + usedIdx + " is more than " + inFlight + " (chains in flight) past " + lastUsedIdx, true);
        }
        long at = USED_RING_OFFSET + (long) USED_ELEM_SIZE * (lastUsedIdx & (size - 1));
        int id = used.get(LE_INT, at);
        int len = used.get(LE_INT, at + 4);
        lastUsedIdx = (lastUsedIdx + 1) & 0xffff;
        if (eventIdx && interruptsEnabled) {
            // keep one notification per used buffer coming while interrupts are on (virtio 2.7.10)
            U16.setRelease(avail, usedEventOffset, (short) lastUsedIdx);
        }
        if (id < 0 || id >= size || chainDescriptors[id] == 0) {
            return fail("used id " + Integer.toUnsignedString(id) + " is not a chain in flight", false);
        }
        if (Integer.toUnsignedLong(len) > chainWritable[id]) {
            violations++;
            lastViolation = "used length " + Integer.toUnsignedString(len) + " for id " + id + " exceeds the "
                    + chainWritable[id] + " writable bytes offered";
        }
        int n = chainDescriptors[id];
        chainDescriptors[id] = 0;
        nextFree[chainTail[id]] = freeHead;
        freeHead = id;
        freeCount += n;
        inFlight--;
        usedLength = len;
        return id;
    }

    private int fail(String why, boolean fatal) {
        violations++;
        lastViolation = why;
        if (fatal) broken = true;
        return BAD_USED;
    }

    @Override
    public void disableInterrupts() {
        interruptsEnabled = false;
        if (eventIdx) {
            // with EVENT_IDX the flags must stay 0 (virtio 2.7.7.1); park used_event half the index space away
            U16.setRelease(avail, usedEventOffset, (short) (lastUsedIdx + 0x7fff));
        } else {
            U16.setRelease(avail, (long) AVAIL_FLAGS_OFFSET, (short) AVAIL_F_NO_INTERRUPT);
        }
    }

    @Override
    public boolean enableInterrupts() {
        interruptsEnabled = true;
        if (eventIdx) U16.setRelease(avail, usedEventOffset, (short) lastUsedIdx);
        else U16.setRelease(avail, (long) AVAIL_FLAGS_OFFSET, (short) 0);
        // the request must be visible before we look at used->idx again, or a completion in between is lost
        VarHandle.fullFence();
        return Short.toUnsignedInt((short) U16.getAcquire(used, (long) USED_IDX_OFFSET)) != lastUsedIdx;
    }

    /**
     * Hostile: moves avail->idx {@code delta} entries past what was published (a jump larger than the queue
     * size must make a correct device stop this queue). The ring is unusable afterwards.
     */
    public void corruptAvailIndex(int delta) {
        broken = true;
        int idx = (publishedAvailIdx + delta) & 0xffff;
        U16.setRelease(avail, (long) AVAIL_IDX_OFFSET, (short) idx);
        VarHandle.fullFence();
    }

    /** Hostile: publishes an avail entry naming descriptor {@code head} (which may be out of range or free). */
    public void publishRawHead(int head) {
        avail.set(LE_SHORT, AVAIL_RING_OFFSET + 2L * (availIdx & (size - 1)), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
        // the device may complete it; the driver then sees an id it never added (a violation it caused itself)
        publish();
    }

    @Override
    public String toString() {
        return "split ring[size " + size + ", avail " + publishedAvailIdx + ", used " + lastUsedIdx + ", in flight " + inFlight + "]";
    }
}
