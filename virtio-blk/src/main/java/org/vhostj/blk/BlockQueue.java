package org.vhostj.blk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.IoUring;
import org.vhostj.sys.IovecArray;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * Serves one virtio-blk request queue; every method runs on the queue's worker thread.
 *
 * <p>Each chain is parsed once ({@link #onChain}): header readable and 16 bytes, data direction fitting the
 * type, status = the last device-writable byte, {@code sector + sectors <= capacity} in overflow-safe
 * unsigned math, data a multiple of 512. A request that fails the checks completes at once with IOERR or
 * UNSUPP (used length 1), or with used length 0 when there is no writable byte to hold a status.
 *
 * <p>Data moves between the image and guest memory with preadv/pwritev on iovecs that point straight into
 * the mapped guest buffers. {@code SYNC}: on this thread, completed before onChain returns; with a
 * {@link CopyPool}, transfers of at least {@link #POOL_MIN_BYTES} are queued instead and run at the end of the
 * batch on the pool's helpers and on this thread at once, and the helpers' completions come back through the
 * pool's eventfd ({@link #onFdReady}); a FLUSH then waits for the pooled writes posted before it. {@code URING}:
 * each request takes a preallocated slot (its iovecs and status location), is queued as an SQE, and the
 * batch is submitted in {@link #endBatch}; completions are reaped there and when the ring's eventfd fires
 * ({@link #onFdReady}), on this thread, and handed to {@link QueueContext#complete}. Requests in flight
 * keep the guest memory snapshot they were submitted under mapped until they complete.
 */
final class BlockQueue implements QueueHandler {
    private static final Logger log = LoggerFactory.getLogger(BlockQueue.class);
    private static final int RING_TOKEN = 1, POOL_TOKEN = 2;
    /** SYNC engine: reads and writes at least this large go to the copy pool, smaller ones run inline. */
    static final long POOL_MIN_BYTES = 64 * 1024;
    /** iovecs per request slot: SEG_MAX data segments plus splits at memory region boundaries. */
    static final int SLOT_IOVECS = BlockDevice.SEG_MAX + 2;
    private static final int UNUSED = 0, READ = 1, WRITE = 2, FLUSH = 3;

    private final BlockDevice device;
    private final DiskImage image;
    private final QueueContext ctx;
    private final long capacitySectors;
    private final boolean readOnly;
    private final int imageFd;

    // SYNC engine, and its copy pool for large transfers (null without --copy-threads)
    private final IovecArray syncIov;
    private final CopyPool pool;
    /** Writes handed to the pool and not yet completed; every pooled write's sequence number (slotSeq). */
    private int poolWrites;
    private long writeSeq;
    private final long[] slotSeq;
    /** FLUSH requests waiting for earlier pooled writes (FIFO of slots; slotSeq = the last write they cover). */
    private final int[] flushWaiting;
    private int flushWaitingCount;

    // URING engine: slots, their free stack, the ring and its eventfd
    private final IoUring ring;
    private final EventFd ringEvent;
    private final int slots;
    private final IovecArray[] slotIov;
    private final int[] slotHead, slotKind, free;
    private final long[] slotBytes, slotOffset, slotDone;
    private final int[] slotFirst;
    private final MemorySegment[] statusMemory;
    private final long[] statusOffset;
    private final GuestMemory[] slotMemory;
    private int freeCount, inFlight;
    /** Snapshot whose regions this queue retained for its submissions, and how many in-flight requests use it. */
    private GuestMemory pinned;
    private int pinnedCount;
    /** Older snapshots still used by requests in flight (rare: only after a memory table change). */
    private final IdentityHashMap<GuestMemory, int[]> retiring = new IdentityHashMap<>();
    private boolean stopped;

    BlockQueue(BlockDevice device, QueueContext ctx, DiskImage.IoEngine engine) {
        this.device = device;
        this.image = device.image();
        this.ctx = ctx;
        this.capacitySectors = image.capacitySectors();
        this.readOnly = image.readOnly();
        this.imageFd = image.fd();
        int copyThreads = device.options().copyThreads();
        boolean sync = engine == DiskImage.IoEngine.SYNC;
        syncIov = new IovecArray(IovecArray.IOV_MAX);
        if (sync && copyThreads == 0) {
            ring = null;
            ringEvent = null;
            pool = null;
            slots = 0;
            slotIov = null;
            slotHead = slotKind = free = flushWaiting = null;
            slotBytes = slotOffset = slotDone = statusOffset = slotSeq = null;
            slotFirst = null;
            statusMemory = null;
            slotMemory = null;
            return;
        }
        slots = device.maxQueueSize();
        if (sync) {
            ring = null;
            ringEvent = null;
        } else {
            ring = new IoUring(slots);
            ringEvent = EventFd.create();
            try {
                ring.registerEventFd(ringEvent);
            } catch (RuntimeException e) {
                ring.close();
                ringEvent.close();
                throw e;
            }
        }
        slotIov = new IovecArray[slots];
        for (int i = 0; i < slots; i++) slotIov[i] = new IovecArray(SLOT_IOVECS);
        slotHead = new int[slots];
        slotKind = new int[slots];
        free = new int[slots];
        slotBytes = new long[slots];
        slotOffset = new long[slots];
        slotDone = new long[slots];
        slotFirst = new int[slots];
        statusMemory = new MemorySegment[slots];
        statusOffset = new long[slots];
        slotMemory = new GuestMemory[slots];
        slotSeq = new long[slots];
        flushWaiting = new int[slots];
        for (int i = 0; i < slots; i++) free[i] = slots - 1 - i;
        freeCount = slots;
        if (sync) {
            pool = new CopyPool(image, slotIov, copyThreads, "blk-q" + ctx.queueIndex());
            ctx.watch(pool.doneEvent().fd(), Epoll.EPOLLIN, POOL_TOKEN);
        } else {
            pool = null;
            ctx.watch(ringEvent.fd(), Epoll.EPOLLIN, RING_TOKEN);
        }
    }

    // ---- parsing ------------------------------------------------------------------------------------

    @Override
    public int onChain(DescriptorChain chain) {
        long writable = chain.writableBytes();
        if (writable == 0) {
            // no place for a status byte: the request cannot even be failed; used length 0 (style.md Errors)
            ctx.countError();
            return 0;
        }
        int last = chain.count() - 1;
        MemorySegment statusMem = chain.memory(last);
        long statusAt = chain.offset(last) + chain.length(last) - 1;
        if (!chain.readableHas(VirtioBlk.OUTHDR_SIZE)) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        int type = chain.readInt(VirtioBlk.OUTHDR_TYPE_OFFSET);          // each header field read once
        long sector = chain.readLong(VirtioBlk.OUTHDR_SECTOR_OFFSET);
        long readableData = chain.readableBytes() - VirtioBlk.OUTHDR_SIZE;
        long writableData = writable - 1;
        return switch (type) {
            case VirtioBlk.T_IN -> {
                if (readableData != 0) yield fail(statusMem, statusAt, VirtioBlk.S_IOERR);   // IN data must be device-writable
                if (!inRange(sector, writableData)) yield fail(statusMem, statusAt, VirtioBlk.S_IOERR);
                yield rw(chain, false, sector, writableData, statusMem, statusAt);
            }
            case VirtioBlk.T_OUT -> {
                if (writableData != 0 || readOnly) yield fail(statusMem, statusAt, VirtioBlk.S_IOERR);   // OUT data must be device-readable
                if (!inRange(sector, readableData)) yield fail(statusMem, statusAt, VirtioBlk.S_IOERR);
                yield rw(chain, true, sector, readableData, statusMem, statusAt);
            }
            case VirtioBlk.T_FLUSH -> flush(chain.head(), statusMem, statusAt);
            case VirtioBlk.T_GET_ID -> {
                if (readableData != 0) yield fail(statusMem, statusAt, VirtioBlk.S_IOERR);
                long n = chain.writeTo(0, device.serialId, 0, Math.min(VirtioBlk.ID_BYTES, writableData));
                statusMem.set(ValueLayout.JAVA_BYTE, statusAt, VirtioBlk.S_OK);
                yield (int) n + 1;
            }
            case VirtioBlk.T_DISCARD, VirtioBlk.T_WRITE_ZEROES -> {
                if (writableData != 0 || readOnly) yield fail(statusMem, statusAt, VirtioBlk.S_IOERR);
                yield discardOrZero(chain, type == VirtioBlk.T_WRITE_ZEROES, readableData, statusMem, statusAt);
            }
            default -> fail(statusMem, statusAt, VirtioBlk.S_UNSUPP);
        };
    }

    /** {@code lengthBytes} from {@code sector} lie inside the disk and are whole sectors; overflow-safe. */
    private boolean inRange(long sector, long lengthBytes) {
        if ((lengthBytes & (VirtioBlk.SECTOR_SIZE - 1)) != 0) return false;
        long sectors = lengthBytes >>> VirtioBlk.SECTOR_SHIFT;
        // sector is a guest u64: compare unsigned; capacity - sector cannot underflow once sector <= capacity
        return Long.compareUnsigned(sector, capacitySectors) <= 0 && sectors <= capacitySectors - sector;
    }

    private int fail(MemorySegment statusMem, long statusAt, byte status) {
        ctx.countError();
        statusMem.set(ValueLayout.JAVA_BYTE, statusAt, status);
        return 1;
    }

    // ---- IN / OUT -----------------------------------------------------------------------------------

    private int rw(DescriptorChain chain, boolean write, long sector, long lengthBytes, MemorySegment statusMem, long statusAt) {
        long offsetBytes = sector << VirtioBlk.SECTOR_SHIFT;
        long chainOffset = write ? VirtioBlk.OUTHDR_SIZE : 0;
        int rwFlags = write && !device.writeback() ? IoUring.RWF_DSYNC : 0;
        if (pool != null && lengthBytes >= POOL_MIN_BYTES) return pooled(chain, write, offsetBytes, chainOffset, lengthBytes, rwFlags, statusMem, statusAt);
        if (ring == null || lengthBytes == 0) {
            IovecArray iov = syncIov;
            iov.clear();
            if (chain.fillIovecs(iov, !write, chainOffset, lengthBytes) != lengthBytes) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
            long n = lengthBytes == 0 ? 0 : image.transfer(iov, offsetBytes, write, rwFlags);
            if (n != lengthBytes) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
            ctx.countBytes(lengthBytes);
            statusMem.set(ValueLayout.JAVA_BYTE, statusAt, VirtioBlk.S_OK);
            return write ? 1 : (int) lengthBytes + 1;
        }
        int slot = transferSlot(chain, write, offsetBytes, chainOffset, lengthBytes, statusMem, statusAt);
        if (slot < 0) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        IovecArray iov = slotIov[slot];
        if (!ring.prepare(write ? IoUring.OP_WRITEV : IoUring.OP_READV, imageFd, offsetBytes, iov.segment().address(), iov.count(), rwFlags, slot)) {
            releaseSlot(slot);
            return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        }
        return DEFERRED;
    }

    /** SYNC engine, a large transfer: a helper of the copy pool moves the data; {@link #reapPool} completes it. */
    private int pooled(DescriptorChain chain, boolean write, long offsetBytes, long chainOffset, long lengthBytes, int rwFlags,
                       MemorySegment statusMem, long statusAt) {
        int slot = transferSlot(chain, write, offsetBytes, chainOffset, lengthBytes, statusMem, statusAt);
        if (slot < 0) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        if (write) {
            poolWrites++;
            slotSeq[slot] = ++writeSeq;
        }
        pool.submit(slot, offsetBytes, write, rwFlags);
        return DEFERRED;
    }

    private int flush(int head, MemorySegment statusMem, long statusAt) {
        if (pool != null && poolWrites > 0 && !readOnly) {
            // FLUSH covers every write submitted before it: wait for the pooled ones still running
            int slot = takeSlot();
            if (slot < 0) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
            fillSlot(slot, head, FLUSH, 0, 0, statusMem, statusAt);
            slotSeq[slot] = writeSeq;
            flushWaiting[flushWaitingCount++] = slot;   // at most `slots` requests exist, so it fits
            return DEFERRED;
        }
        if (ring == null || readOnly) {
            if (image.flush() < 0) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
            statusMem.set(ValueLayout.JAVA_BYTE, statusAt, VirtioBlk.S_OK);
            return 1;
        }
        int slot = takeSlot();
        if (slot < 0) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        fillSlot(slot, head, FLUSH, 0, 0, statusMem, statusAt);
        if (!ring.prepare(IoUring.OP_FSYNC, imageFd, 0, 0, 0, IoUring.FSYNC_DATASYNC, slot)) {
            releaseSlot(slot);
            return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        }
        return DEFERRED;
    }

    // ---- DISCARD / WRITE_ZEROES (synchronous fallocate: metadata only) -------------------------------

    private int discardOrZero(DescriptorChain chain, boolean zero, long payloadBytes, MemorySegment statusMem, long statusAt) {
        if (payloadBytes <= 0 || payloadBytes % VirtioBlk.DISCARD_SEGMENT_SIZE != 0
                || payloadBytes / VirtioBlk.DISCARD_SEGMENT_SIZE > BlockDevice.MAX_DISCARD_SEG) {
            return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        }
        int segments = (int) (payloadBytes / VirtioBlk.DISCARD_SEGMENT_SIZE);
        // validate every segment before touching the image: a bad one fails the request with nothing done
        for (int i = 0; i < segments; i++) {
            long at = VirtioBlk.OUTHDR_SIZE + (long) i * VirtioBlk.DISCARD_SEGMENT_SIZE;
            long sector = chain.readLong(at + VirtioBlk.DISCARD_SECTOR_OFFSET);
            long sectors = Integer.toUnsignedLong(chain.readInt(at + VirtioBlk.DISCARD_NUM_SECTORS_OFFSET));
            int flags = chain.readInt(at + VirtioBlk.DISCARD_FLAGS_OFFSET);
            int allowed = zero ? VirtioBlk.WRITE_ZEROES_FLAG_UNMAP : 0;   // 5.2.6.2: discard with unmap set is UNSUPP
            if ((flags & ~allowed) != 0) return fail(statusMem, statusAt, VirtioBlk.S_UNSUPP);
            if (sectors > BlockDevice.MAX_DISCARD_SECTORS || !inRange(sector, sectors << VirtioBlk.SECTOR_SHIFT)) {
                return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
            }
        }
        for (int i = 0; i < segments; i++) {
            long at = VirtioBlk.OUTHDR_SIZE + (long) i * VirtioBlk.DISCARD_SEGMENT_SIZE;
            long sector = chain.readLong(at + VirtioBlk.DISCARD_SECTOR_OFFSET);
            long sectors = Integer.toUnsignedLong(chain.readInt(at + VirtioBlk.DISCARD_NUM_SECTORS_OFFSET));
            int flags = chain.readInt(at + VirtioBlk.DISCARD_FLAGS_OFFSET);
            // the guest may have rewritten the segment since the check: check again, fail rather than trust it
            if (sectors > BlockDevice.MAX_DISCARD_SECTORS || !inRange(sector, sectors << VirtioBlk.SECTOR_SHIFT)) {
                return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
            }
            if (sectors == 0) continue;
            long off = sector << VirtioBlk.SECTOR_SHIFT, len = sectors << VirtioBlk.SECTOR_SHIFT;
            int r = zero ? image.writeZeroes(off, len, (flags & VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0) : image.discard(off, len);
            if (r < 0) return fail(statusMem, statusAt, VirtioBlk.S_IOERR);
        }
        statusMem.set(ValueLayout.JAVA_BYTE, statusAt, VirtioBlk.S_OK);
        return 1;
    }

    // ---- slots and memory pins ----------------------------------------------------------------------

    /**
     * A slot holding a read or write: its iovecs cover the chain's data part. -1 when no slot is free (cannot
     * happen: slots = max ring size) or the data has more segments than seg_max; the caller fails the request.
     */
    private int transferSlot(DescriptorChain chain, boolean write, long offsetBytes, long chainOffset, long lengthBytes,
                             MemorySegment statusMem, long statusAt) {
        int slot = takeSlot();
        if (slot < 0) return -1;
        IovecArray iov = slotIov[slot];
        iov.clear();
        if (chain.fillIovecs(iov, !write, chainOffset, lengthBytes) != lengthBytes) {
            putSlot(slot);
            return -1;
        }
        fillSlot(slot, chain.head(), write ? WRITE : READ, lengthBytes, offsetBytes, statusMem, statusAt);
        return slot;
    }

    private int takeSlot() { return freeCount == 0 ? -1 : free[--freeCount]; }

    private void putSlot(int slot) { free[freeCount++] = slot; }

    private void fillSlot(int slot, int head, int kind, long bytes, long offsetBytes, MemorySegment statusMem, long statusAt) {
        slotHead[slot] = head;
        slotKind[slot] = kind;
        slotBytes[slot] = bytes;
        slotOffset[slot] = offsetBytes;
        slotDone[slot] = 0;
        slotFirst[slot] = 0;
        statusMemory[slot] = statusMem;
        statusOffset[slot] = statusAt;
        pin(slot);
        inFlight++;
    }

    /** Frees a slot whose request finished (or was never submitted). */
    private void releaseSlot(int slot) {
        unpin(slot);
        statusMemory[slot] = null;
        slotKind[slot] = UNUSED;
        inFlight--;
        putSlot(slot);
    }

    /** The kernel may touch a request's buffers until it completes: keep the snapshot's mappings alive until then. */
    private void pin(int slot) {
        GuestMemory m = ctx.memory();
        if (m != pinned) {
            if (pinned != null) {
                if (pinnedCount == 0) pinned.unpin();
                else retiring.put(pinned, new int[] {pinnedCount});   // rare: a new memory table while I/O is in flight
            }
            pinned = m;
            pinnedCount = 0;
            m.pin();
        }
        pinnedCount++;
        slotMemory[slot] = m;
    }

    private void unpin(int slot) {
        GuestMemory m = slotMemory[slot];
        slotMemory[slot] = null;
        if (m == pinned) { pinnedCount--; return; }
        int[] count = retiring.get(m);
        if (count != null && --count[0] == 0) {
            retiring.remove(m);
            m.unpin();
        }
    }

    // ---- submission and completion ------------------------------------------------------------------

    @Override
    public void endBatch() {
        if (pool != null) {
            runPooled();
            return;
        }
        if (ring == null) return;
        submitAndReap();
    }

    @Override
    public void onFdReady(int token, int readyEvents) {
        if (token == POOL_TOKEN && pool != null) {
            pool.doneEvent().drain();   // before taking the stack: a push after the take signals again
            reapPool();
            return;
        }
        if (token != RING_TOKEN || ring == null) return;
        ringEvent.drain();
        submitAndReap();
    }

    private void submitAndReap() {
        // reaping may queue the rest of a short transfer: submit again until nothing is left (bounded)
        for (int round = 0; round < 8; round++) {
            if (ring.unsubmitted() > 0) {
                int r = ring.submit();
                if (r < 0 && r != -Errno.EAGAIN && r != -Errno.EBUSY && r != -Errno.EINTR) {
                    log.warn("queue {}: io_uring_enter failed: {}", ctx.queueIndex(), Errno.name(-r));
                }
                // EAGAIN/EBUSY: the SQEs stay queued; the next completion (eventfd) or batch submits them again
            }
            if (ring.ready() == 0) return;
            reap();
            if (ring.unsubmitted() == 0) return;
        }
    }

    private void reap() {
        int n;
        while ((n = ring.ready()) > 0) {
            for (int k = 0; k < n; k++) finish((int) ring.userData(k), ring.result(k));
            ring.consume(n);
        }
    }

    /**
     * End of a batch: wake helpers for all but one of the queued copies, then copy on this thread too until
     * none is left, so a lone request costs no hand-off and a batch runs on the helpers and the worker at once.
     * What the helpers finished meanwhile is completed with the batch.
     */
    private void runPooled() {
        int queued = pool.queued();
        if (queued == 0) return;
        pool.wake(queued - 1);
        for (int slot; (slot = pool.claimHere()) >= 0; ) finishPooled(slot, pool.runHere(slot));
        reapPool();
    }

    private void reapPool() {
        for (int slot = pool.takeDone(); slot >= 0; ) {
            int next = pool.nextDone(slot);
            finishPooled(slot, pool.result(slot));
            slot = next;
        }
        if (flushWaitingCount > 0) runWaitingFlushes();
    }

    private void finishPooled(int slot, long n) {
        if (slotKind[slot] == WRITE) poolWrites--;
        completeSlot(slot, n == slotBytes[slot]);
    }

    /** Runs (inline, one fdatasync for all) the waiting FLUSHes whose earlier pooled writes all completed. */
    private void runWaitingFlushes() {
        long oldestWrite = Long.MAX_VALUE;   // sequence of the oldest pooled write still running
        if (poolWrites > 0) {
            for (int s = 0; s < slots; s++) if (slotKind[s] == WRITE && slotSeq[s] < oldestWrite) oldestWrite = slotSeq[s];
        }
        int ready = 0;
        while (ready < flushWaitingCount && slotSeq[flushWaiting[ready]] < oldestWrite) ready++;   // FIFO: barriers ascend
        if (ready == 0) return;
        boolean ok = image.flush() >= 0;
        for (int i = 0; i < ready; i++) completeSlot(flushWaiting[i], ok);
        System.arraycopy(flushWaiting, ready, flushWaiting, 0, flushWaitingCount - ready);
        flushWaitingCount -= ready;
    }

    private void finish(int slot, int result) {
        if (slot < 0 || slot >= slots || slotKind[slot] == UNUSED) {
            log.warn("queue {}: completion for unknown slot {}", ctx.queueIndex(), slot);
            return;
        }
        int kind = slotKind[slot];
        if (kind != FLUSH && result > 0) {
            slotDone[slot] += result;
            if (slotDone[slot] < slotBytes[slot] && resubmitRest(slot, result)) return;   // short transfer: the rest is queued
        }
        completeSlot(slot, kind == FLUSH ? result == 0 : result >= 0 && slotDone[slot] == slotBytes[slot]);
    }

    /** Writes the status, frees the slot and completes its request. */
    private void completeSlot(int slot, boolean ok) {
        int kind = slotKind[slot];
        int head = slotHead[slot];
        statusMemory[slot].set(ValueLayout.JAVA_BYTE, statusOffset[slot], ok ? VirtioBlk.S_OK : VirtioBlk.S_IOERR);
        int used = ok && kind == READ ? (int) slotBytes[slot] + 1 : 1;
        if (ok) ctx.countBytes(slotBytes[slot]);
        else ctx.countError();
        releaseSlot(slot);
        if (!stopped) ctx.complete(head, used);
    }

    /** A short read or write (a signal, a page-cache limit): queue the rest. Returns false if it cannot. */
    private boolean resubmitRest(int slot, int justDone) {
        IovecArray iov = slotIov[slot];
        int first = iov.advance(slotFirst[slot], justDone);
        slotFirst[slot] = first;
        if (first >= iov.count()) return false;
        boolean write = slotKind[slot] == WRITE;
        int rwFlags = write && !device.writeback() ? IoUring.RWF_DSYNC : 0;
        return ring.prepare(write ? IoUring.OP_WRITEV : IoUring.OP_READV, imageFd, slotOffset[slot] + slotDone[slot],
                iov.segment().address() + 16L * first, iov.count() - first, rwFlags, slot);
    }

    @Override
    public void stop() {
        if (ring != null) {
            ctx.unwatch(ringEvent.fd());
            if (inFlight > 0) {
                // the core's stop timeout passed with requests still in the kernel: keep their memory mapped
                // (leaked on purpose) so a late completion cannot write into reused address space
                log.warn("queue {}: {} requests still in flight at stop; their guest memory stays mapped", ctx.queueIndex(), inFlight);
                stopped = true;
            } else {
                if (pinned != null) pinned.unpin();
                pinned = null;
            }
            ring.close();
            ringEvent.close();
            for (IovecArray a : slotIov) a.close();
        }
        if (pool != null) {
            ctx.unwatch(pool.doneEvent().fd());
            stopped = true;   // whatever is still in flight is not completed any more
            if (pool.close(1000)) {
                // helpers ended: nothing touches guest memory or the iovecs again
                if (inFlight > 0) log.warn("queue {}: {} requests still in flight at stop are dropped", ctx.queueIndex(), inFlight);
                if (pinned != null) pinned.unpin();
                pinned = null;
                for (GuestMemory m : retiring.keySet()) m.unpin();
                retiring.clear();
                for (IovecArray a : slotIov) a.close();
            } else {
                // a copy is stuck in the kernel: keep its guest memory mapped and its iovecs allocated (leaked on purpose)
                log.warn("queue {}: copy helpers did not stop; guest memory of {} requests stays mapped", ctx.queueIndex(), inFlight);
            }
        }
        syncIov.close();
    }
}
