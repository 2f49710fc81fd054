package org.vhostj.vhost.ring;

import java.lang.foreign.ValueLayout;

/**
 * Virtqueue memory layouts (virtio 1.2, 2.7 split and 2.8 packed), little-endian.
 * <pre>
 * split:  struct virtq_desc  { le64 addr @0; le32 len @8; le16 flags @12; le16 next @14; }     16 bytes
 *         struct virtq_avail { le16 flags @0; le16 idx @2; le16 ring[size] @4; le16 used_event; }
 *         struct virtq_used  { le16 flags @0; le16 idx @2; { le32 id; le32 len; } ring[size] @4; le16 avail_event; }
 * packed: struct pvirtq_desc { le64 addr @0; le32 len @8; le16 id @12; le16 flags @14; }       16 bytes
 *         struct pvirtq_event_suppress { le16 off_wrap @0; le16 flags @2; }   driver area / device area
 * </pre>
 * Ring indexes are read with acquire and written with release: they need the aligned {@code JAVA_SHORT}
 * VarHandle, so ring addresses are checked for alignment at ring start.
 */
public final class RingLayout {
    private RingLayout() {}

    public static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    public static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    public static final int DESC_SIZE = 16, DESC_ADDR_OFFSET = 0, DESC_LEN_OFFSET = 8, DESC_FLAGS_OFFSET = 12,
            DESC_NEXT_OFFSET = 14;
    public static final int DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;

    public static final int AVAIL_FLAGS_OFFSET = 0, AVAIL_IDX_OFFSET = 2, AVAIL_RING_OFFSET = 4;
    public static final int AVAIL_F_NO_INTERRUPT = 1;
    public static final int USED_FLAGS_OFFSET = 0, USED_IDX_OFFSET = 2, USED_RING_OFFSET = 4, USED_ELEM_SIZE = 8;
    public static final int USED_F_NO_NOTIFY = 1;

    public static long availSize(int queueSize) { return 6L + 2L * queueSize; }
    public static long usedSize(int queueSize) { return 6L + 8L * queueSize; }
    public static long descTableSize(int queueSize) { return 16L * queueSize; }
    public static long usedEventOffset(int queueSize) { return AVAIL_RING_OFFSET + 2L * queueSize; }
    public static long availEventOffset(int queueSize) { return USED_RING_OFFSET + 8L * queueSize; }

    public static final int PACKED_DESC_ID_OFFSET = 12, PACKED_DESC_FLAGS_OFFSET = 14;
    public static final int PACKED_DESC_F_AVAIL = 1 << 7, PACKED_DESC_F_USED = 1 << 15;
    public static final int EVENT_SUPPRESS_SIZE = 4, EVENT_OFF_WRAP_OFFSET = 0, EVENT_FLAGS_OFFSET = 2;
    public static final int EVENT_FLAG_ENABLE = 0, EVENT_FLAG_DISABLE = 1, EVENT_FLAG_DESC = 2;

    /** The largest queue size either layout allows. */
    public static final int MAX_QUEUE_SIZE = 32768;

    /** Linux's vring_need_event: has {@code newIdx} moved past {@code eventIdx} since {@code oldIdx} (u16 math)? */
    public static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
}
