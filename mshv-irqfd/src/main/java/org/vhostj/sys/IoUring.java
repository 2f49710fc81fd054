package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Owner of one io_uring instance (io_uring_setup(2), io_uring_enter(2), io_uring_register(2) through
 * {@link LibC#syscall}): its fd, the mapped submission and completion rings and the SQE array. Used by one
 * thread (the queue worker that owns it); the other party is the kernel, so each ring index is read or
 * written with the ordering liburing uses, named at the call site.
 *
 * <pre>
 * struct io_uring_params { u32 sq_entries @0; u32 cq_entries @4; u32 flags @8; u32 sq_thread_cpu @12;
 *   u32 sq_thread_idle @16; u32 features @20; u32 wq_fd @24; u32 resv[3] @28;
 *   struct io_sqring_offsets { u32 head, tail, ring_mask, ring_entries, flags, dropped, array, resv1; u64 user_addr; } sq_off @40;
 *   struct io_cqring_offsets { u32 head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1; u64 user_addr; } cq_off @80; }  // 120
 * struct io_uring_sqe { u8 opcode @0; u8 flags @1; u16 ioprio @2; s32 fd @4; u64 off @8; u64 addr @16; u32 len @24;
 *   u32 rw_flags @28; u64 user_data @32; u16 buf_index @40; u16 personality @42; s32 splice_fd_in @44; u64 addr3 @48; u64 pad @56; } // 64
 * struct io_uring_cqe { u64 user_data @0; s32 res @8; u32 flags @12; }                                       // 16
 * </pre>
 * Data-path methods never throw and never allocate: {@link #prepare} returns false when the SQ is full and
 * {@link #submit} returns {@code -errno}.
 */
public final class IoUring implements AutoCloseable {
    public static final long SYS_IO_URING_SETUP = 425, SYS_IO_URING_ENTER = 426, SYS_IO_URING_REGISTER = 427;
    public static final int OP_NOP = 0, OP_READV = 1, OP_WRITEV = 2, OP_FSYNC = 3, OP_FALLOCATE = 17;
    public static final int FSYNC_DATASYNC = 1;
    /** pwritev2/preadv2 flags that also go in an SQE's rw_flags. */
    public static final int RWF_HIPRI = 1, RWF_DSYNC = 2, RWF_SYNC = 4, RWF_NOWAIT = 8;
    static final int SETUP_SUBMIT_ALL = 1 << 7;
    static final int FEAT_SINGLE_MMAP = 1;
    static final int ENTER_GETEVENTS = 1;
    static final int REGISTER_EVENTFD = 4;
    static final long OFF_SQ_RING = 0, OFF_CQ_RING = 0x8000000L, OFF_SQES = 0x10000000L;
    public static final long PARAMS_SIZE = 120, SQE_SIZE = 64, CQE_SIZE = 16;
    static final long P_SQ_ENTRIES = 0, P_CQ_ENTRIES = 4, P_FLAGS = 8, P_FEATURES = 20, P_SQ_OFF = 40, P_CQ_OFF = 80;
    // offsets inside io_sqring_offsets / io_cqring_offsets
    static final long SQO_HEAD = 0, SQO_TAIL = 4, SQO_RING_MASK = 8, SQO_RING_ENTRIES = 12, SQO_ARRAY = 24;
    static final long CQO_HEAD = 0, CQO_TAIL = 4, CQO_RING_MASK = 8, CQO_RING_ENTRIES = 12, CQO_CQES = 20;
    static final long SQE_OPCODE = 0, SQE_FLAGS = 1, SQE_IOPRIO = 2, SQE_FD = 4, SQE_OFF = 8, SQE_ADDR = 16, SQE_LEN = 24,
            SQE_RW_FLAGS = 28, SQE_USER_DATA = 32, SQE_BUF_INDEX = 40, SQE_PERSONALITY = 42, SQE_SPLICE_FD_IN = 44, SQE_ADDR3 = 48, SQE_PAD = 56;
    static final long CQE_USER_DATA = 0, CQE_RES = 8;

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final Fd fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment sqRing, cqRing, sqes;
    private final long sqHead, sqTail, cqHead, cqTail, cqes;
    private final int sqMask, sqEntries, cqMask;
    /** Our copy of the SQ tail (SQEs prepared) and of the CQ head (CQEs consumed); the kernel sees them on publish. */
    private int sqTailLocal, cqHeadLocal;
    private int unsubmitted;

    /** A ring with at least {@code entries} SQ slots (rounded up to a power of two by the kernel) and twice as many CQ slots. */
    public IoUring(int entries) {
        if (entries < 1 || entries > 32768) throw new IllegalArgumentException("io_uring entries 1..32768: " + entries);
        Fd ringFd;
        MemorySegment params;
        try (Arena a = Arena.ofConfined()) {
            params = a.allocate(PARAMS_SIZE, 8);
            params.set(ValueLayout.JAVA_INT, P_FLAGS, SETUP_SUBMIT_ALL);
            long r = LibC.syscall(SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
            if (r == -Errno.EINVAL) {   // a kernel before 5.18: no SUBMIT_ALL
                params.fill((byte) 0);
                r = LibC.syscall(SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
            }
            ringFd = Fd.adopt((int) ErrnoException.check("io_uring_setup", r));
            params = MemorySegment.ofArray(params.toArray(ValueLayout.JAVA_BYTE));
        }
        try {
            ValueLayout.OfInt u32 = ValueLayout.JAVA_INT_UNALIGNED;
            sqEntries = params.get(u32, P_SQ_ENTRIES);
            int cqEntries = params.get(u32, P_CQ_ENTRIES);
            int features = params.get(u32, P_FEATURES);
            long sqArray = params.get(u32, P_SQ_OFF + SQO_ARRAY);
            long sqSize = sqArray + 4L * sqEntries;
            long cqSize = params.get(u32, P_CQ_OFF + CQO_CQES) + CQE_SIZE * cqEntries;
            if ((features & FEAT_SINGLE_MMAP) != 0) {
                sqRing = Memfd.mapShared(ringFd.value(), OFF_SQ_RING, Math.max(sqSize, cqSize), true, arena);
                cqRing = sqRing;
            } else {
                sqRing = Memfd.mapShared(ringFd.value(), OFF_SQ_RING, sqSize, true, arena);
                cqRing = Memfd.mapShared(ringFd.value(), OFF_CQ_RING, cqSize, true, arena);
            }
            sqes = Memfd.mapShared(ringFd.value(), OFF_SQES, SQE_SIZE * sqEntries, true, arena);
            sqHead = params.get(u32, P_SQ_OFF + SQO_HEAD);
            sqTail = params.get(u32, P_SQ_OFF + SQO_TAIL);
            sqMask = sqRing.get(ValueLayout.JAVA_INT, params.get(u32, P_SQ_OFF + SQO_RING_MASK));
            cqHead = params.get(u32, P_CQ_OFF + CQO_HEAD);
            cqTail = params.get(u32, P_CQ_OFF + CQO_TAIL);
            cqMask = cqRing.get(ValueLayout.JAVA_INT, params.get(u32, P_CQ_OFF + CQO_RING_MASK));
            cqes = params.get(u32, P_CQ_OFF + CQO_CQES);
            // SQ slot i always names SQE i: the indirection array is the identity
            for (int i = 0; i < sqEntries; i++) sqRing.set(ValueLayout.JAVA_INT, sqArray + 4L * i, i);
            sqTailLocal = (int) U32.getAcquire(sqRing, sqTail);
            cqHeadLocal = (int) U32.getAcquire(cqRing, cqHead);
        } catch (RuntimeException e) {
            arena.close();
            ringFd.close();
            throw e;
        }
        fd = ringFd;
    }

    public int fd() { return fd.value(); }

    public int sqEntries() { return sqEntries; }

    /** Signals {@code eventFd} whenever a completion is posted (IORING_REGISTER_EVENTFD). */
    public void registerEventFd(EventFd eventFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, eventFd.fd());
            ErrnoException.check("io_uring_register(EVENTFD)", LibC.syscall(SYS_IO_URING_REGISTER, fd.value(), REGISTER_EVENTFD, v.address(), 1, 0, 0));
        }
    }

    /**
     * Prepares one SQE (not yet visible to the kernel). {@code addr}/{@code len}: iovec array address and
     * count for READV/WRITEV; length and mode for FALLOCATE (addr = length, len = mode). Returns false if the
     * SQ is full.
     */
    public boolean prepare(int opcode, int targetFd, long offset, long addr, int len, int opFlags, long userData) {
        // the kernel advances sq.head as it consumes SQEs (release); acquire pairs with it before we reuse a slot
        int head = (int) U32.getAcquire(sqRing, sqHead);
        if (sqTailLocal - head >= sqEntries) return false;
        long at = SQE_SIZE * (sqTailLocal & sqMask);
        sqes.set(ValueLayout.JAVA_BYTE, at + SQE_OPCODE, (byte) opcode);
        sqes.set(ValueLayout.JAVA_BYTE, at + SQE_FLAGS, (byte) 0);
        sqes.set(ValueLayout.JAVA_SHORT, at + SQE_IOPRIO, (short) 0);
        sqes.set(ValueLayout.JAVA_INT, at + SQE_FD, targetFd);
        sqes.set(ValueLayout.JAVA_LONG, at + SQE_OFF, offset);
        sqes.set(ValueLayout.JAVA_LONG, at + SQE_ADDR, addr);
        sqes.set(ValueLayout.JAVA_INT, at + SQE_LEN, len);
        sqes.set(ValueLayout.JAVA_INT, at + SQE_RW_FLAGS, opFlags);
        sqes.set(ValueLayout.JAVA_LONG, at + SQE_USER_DATA, userData);
        sqes.set(ValueLayout.JAVA_LONG, at + SQE_BUF_INDEX, 0L);   // buf_index, personality, splice_fd_in
        sqes.set(ValueLayout.JAVA_LONG, at + SQE_ADDR3, 0L);
        sqes.set(ValueLayout.JAVA_LONG, at + SQE_PAD, 0L);
        sqTailLocal++;
        unsubmitted++;
        return true;
    }

    /** SQEs prepared and not yet accepted by the kernel. */
    public int unsubmitted() { return unsubmitted; }

    /**
     * Publishes the prepared SQEs and enters the kernel to issue them (inline where it can: such completions
     * are already in the CQ when this returns). Returns the number the kernel accepted, or {@code -errno}
     * (EAGAIN/EBUSY: try again after reaping completions).
     */
    public int submit() {
        if (unsubmitted == 0) return 0;
        // the SQE stores above must be visible before the tail that covers them (kernel loads tail with acquire)
        U32.setRelease(sqRing, sqTail, sqTailLocal);
        long r = LibC.syscall(SYS_IO_URING_ENTER, fd.value(), unsubmitted, 0, 0, 0, 0);
        if (r > 0) unsubmitted -= (int) r;
        return (int) r;
    }

    /** Completions posted and not yet consumed. */
    public int ready() {
        // the kernel writes the CQE, then releases cq.tail: acquire before reading CQE contents
        return (int) U32.getAcquire(cqRing, cqTail) - cqHeadLocal;
    }

    /** user_data of the {@code k}-th ready completion (k < {@link #ready()}). */
    public long userData(int k) { return cqRing.get(ValueLayout.JAVA_LONG, cqes + CQE_SIZE * ((cqHeadLocal + k) & cqMask) + CQE_USER_DATA); }

    /** res of the {@code k}-th ready completion: a byte count or {@code -errno}. */
    public int result(int k) { return cqRing.get(ValueLayout.JAVA_INT, cqes + CQE_SIZE * ((cqHeadLocal + k) & cqMask) + CQE_RES); }

    /** Gives {@code n} read completions back to the kernel. */
    public void consume(int n) {
        cqHeadLocal += n;
        // our reads of the CQEs happen before the kernel may overwrite them: release the new head
        U32.setRelease(cqRing, cqHead, cqHeadLocal);
    }

    /** Blocks until at least {@code min} completions are ready (setup and shutdown only). Returns 0 or -errno. */
    public int await(int min) {
        long r = LibC.syscall(SYS_IO_URING_ENTER, fd.value(), 0, min, ENTER_GETEVENTS, 0, 0);
        return r < 0 ? (int) r : 0;
    }

    /** Unmaps the rings and closes the fd; the kernel cancels or finishes requests still in flight. */
    @Override
    public void close() {
        arena.close();
        fd.close();
    }
}
