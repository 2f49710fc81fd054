package org.vhostj.vhost.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One split queue's region of the INFLIGHT_SHMFD buffer (vhost-user.rst "Inflight I/O tracking"): which
 * heads the device popped and has not completed, kept in memory the front-end holds, so a restarted
 * daemon can resubmit them. Owned by the queue's worker thread.
 * <pre>
 * struct QueueRegionSplit { u64 features @0; u16 version @8; u16 desc_num @10; u16 last_batch_head @12;
 *                           u16 used_idx @14; DescStateSplit desc[desc_num] @16; }
 * struct DescStateSplit   { u8 inflight @0; u8 padding[5]; u16 next @6; u64 counter @8; }     16 bytes
 * </pre>
 * Each store is a release store, in the order the spec gives, so a crash between any two leaves a state the
 * recovery below repairs.
 */
public final class SplitInflight {
    public static final int VERSION = 1;
    public static final long HEADER_SIZE = 16, DESC_STATE_SIZE = 16;
    private static final long VERSION_OFFSET = 8, DESC_NUM_OFFSET = 10, LAST_BATCH_HEAD_OFFSET = 12, USED_IDX_OFFSET = 14;
    private static final long INFLIGHT_OFFSET = 0, NEXT_OFFSET = 6, COUNTER_OFFSET = 8;
    private static final VarHandle U8 = ValueLayout.JAVA_BYTE.varHandle();
    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.varHandle();
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment region;
    private final int queueSize;
    private long counter;
    private final int[] batch;
    private int batchCount;

    /** Bytes one queue's region needs, aligned to 64 as libvhost-user does. */
    public static long regionSize(int queueSize) {
        return (HEADER_SIZE + DESC_STATE_SIZE * queueSize + 63) & ~63L;
    }

    public SplitInflight(MemorySegment region, int queueSize) {
        if (region.byteSize() < HEADER_SIZE + DESC_STATE_SIZE * queueSize) {
            throw new IllegalArgumentException("inflight region of " + region.byteSize() + " bytes is too small for queue size " + queueSize);
        }
        this.region = region;
        this.queueSize = queueSize;
        this.batch = new int[queueSize];
    }

    private long desc(int head) { return HEADER_SIZE + DESC_STATE_SIZE * head; }

    /**
     * At ring start: initialises a fresh region, or repairs a used batch that was half recorded when the
     * previous daemon died and returns the heads still in flight, oldest first.
     */
    public int[] recover(int usedIdx) {
        int version = Short.toUnsignedInt((short) U16.getAcquire(region, VERSION_OFFSET));
        int descNum = Short.toUnsignedInt((short) U16.get(region, DESC_NUM_OFFSET));
        if (version != VERSION || descNum != queueSize) {
            region.asSlice(0, HEADER_SIZE + DESC_STATE_SIZE * queueSize).fill((byte) 0);
            U16.set(region, DESC_NUM_OFFSET, (short) queueSize);
            U16.set(region, USED_IDX_OFFSET, (short) usedIdx);
            U16.setRelease(region, VERSION_OFFSET, (short) VERSION);
            counter = 0;
            return new int[0];
        }
        int recordedUsed = Short.toUnsignedInt((short) U16.get(region, USED_IDX_OFFSET));
        if (recordedUsed != usedIdx) {
            // the used idx moved but the batch's inflight flags were not all cleared: clear that batch
            int n = (usedIdx - recordedUsed) & 0xffff;
            int head = Short.toUnsignedInt((short) U16.get(region, LAST_BATCH_HEAD_OFFSET));
            for (int i = 0; i < n && head < queueSize; i++) {
                U8.setRelease(region, desc(head) + INFLIGHT_OFFSET, (byte) 0);
                head = Short.toUnsignedInt((short) U16.get(region, desc(head) + NEXT_OFFSET));
            }
            U16.setRelease(region, USED_IDX_OFFSET, (short) usedIdx);
        }
        // resubmit in the order the driver made them available (by counter); runs once per reconnect
        java.util.List<long[]> inflight = new java.util.ArrayList<>();
        for (int h = 0; h < queueSize; h++) {
            if ((byte) U8.get(region, desc(h) + INFLIGHT_OFFSET) == 1) {
                inflight.add(new long[] {(long) U64.get(region, desc(h) + COUNTER_OFFSET), h});
            }
        }
        inflight.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        int[] heads = new int[inflight.size()];
        long maxCounter = -1;
        for (int i = 0; i < heads.length; i++) {
            heads[i] = (int) inflight.get(i)[1];
            maxCounter = Math.max(maxCounter, inflight.get(i)[0]);
        }
        counter = maxCounter + 1;
        return heads;
    }

    /** The driver handed us {@code head}. */
    public void popped(int head) {
        U64.set(region, desc(head) + COUNTER_OFFSET, counter++);
        U8.setRelease(region, desc(head) + INFLIGHT_OFFSET, (byte) 1);
    }

    /** {@code head} goes into the used ring in the current batch (before used->idx is published). */
    public void completing(int head) {
        int last = Short.toUnsignedInt((short) U16.get(region, LAST_BATCH_HEAD_OFFSET));
        U16.set(region, desc(head) + NEXT_OFFSET, (short) last);
        U16.setRelease(region, LAST_BATCH_HEAD_OFFSET, (short) head);
        batch[batchCount++] = head;
    }

    /** used->idx was published as {@code usedIdx}: the batch is no longer in flight. */
    public void published(int usedIdx) {
        for (int i = 0; i < batchCount; i++) U8.setRelease(region, desc(batch[i]) + INFLIGHT_OFFSET, (byte) 0);
        batchCount = 0;
        U16.setRelease(region, USED_IDX_OFFSET, (short) usedIdx);
    }
}
