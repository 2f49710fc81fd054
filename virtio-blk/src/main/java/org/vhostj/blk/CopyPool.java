package org.vhostj.blk;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.Errno;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.IovecArray;

/**
 * Helper threads that run one queue's large preadv/pwritev, so the copies of several requests proceed on
 * several cores: the queue's worker queues a batch's large transfers, wakes helpers for all but one of them
 * and copies too ({@link #claimHere}), so the batch runs on helpers + 1 threads. Owned by one
 * {@link BlockQueue}; every method but the constructor is called only on that queue's worker thread.
 *
 * <p>Jobs are the queue's request slots (indices below {@code slots}): the worker fills the slot's iovecs
 * and hands over the index; a helper moves the data with {@link DiskImage#transfer}, stores the result and
 * pushes the index on a completion stack; the first push onto an empty stack signals {@link #doneEvent()},
 * which the worker watches, and the worker completes the request itself (QueueContext is worker-only).
 * Nothing is allocated or locked per job: the submission queue is a single-producer ring of slot indices
 * claimed by CAS, the completion stack is a lock-free list through a preallocated {@code next} array that
 * the worker takes whole with one getAndSet (so no ABA), and idle helpers park. At most {@code slots} jobs
 * exist at once (a slot is reused only after the worker took its completion), so neither structure can
 * overflow.
 */
final class CopyPool {
    private static final Logger log = LoggerFactory.getLogger(CopyPool.class);
    private static final int EMPTY = -1;

    private final DiskImage image;
    private final IovecArray[] iov;
    private final int mask;
    // per-slot job parameters: written by the worker before submit, read by a helper after claiming the slot
    private final long[] offset, result;
    private final boolean[] write;
    private final int[] rwFlags;
    // submission ring: the worker writes jobs[tail], then publishes tail; helpers claim by CAS on head
    private final int[] jobs;
    private final AtomicLong head = new AtomicLong(), tail = new AtomicLong();
    // completion stack: top slot, next[] links
    private final AtomicInteger done = new AtomicInteger(EMPTY);
    private final int[] next;
    private final EventFd doneEvent;
    private final Thread[] threads;
    /** 1 while helper i is about to park (set before its last look at the queue). */
    private final AtomicIntegerArray idle;
    private volatile boolean closing;

    /**
     * @param slotIov the queue's per-slot iovecs (the queue keeps owning them); their count is a power of two
     * @param threads helper threads to start (at least 1)
     */
    CopyPool(DiskImage image, IovecArray[] slotIov, int threads, String name) {
        int slots = slotIov.length;
        if (Integer.bitCount(slots) != 1) throw new IllegalArgumentException("slot count must be a power of two: " + slots);
        this.image = image;
        this.iov = slotIov;
        this.mask = slots - 1;
        offset = new long[slots];
        result = new long[slots];
        write = new boolean[slots];
        rwFlags = new int[slots];
        jobs = new int[slots];
        next = new int[slots];
        idle = new AtomicIntegerArray(threads);
        doneEvent = EventFd.create();
        this.threads = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int me = i;
            this.threads[i] = Thread.ofPlatform().daemon().name(name + "-copy-" + i).unstarted(() -> run(me));
        }
        for (Thread t : this.threads) t.start();
    }

    /** Signalled (readable) when completions wait in {@link #takeDone}. The pool owns it. */
    EventFd doneEvent() { return doneEvent; }

    /** Worker thread: queues slot {@code slot}, whose iovecs are filled, for a transfer at {@code offsetBytes}. */
    void submit(int slot, long offsetBytes, boolean isWrite, int flags) {
        offset[slot] = offsetBytes;
        write[slot] = isWrite;
        rwFlags[slot] = flags;
        long t = tail.get();   // only this thread writes tail
        jobs[(int) t & mask] = slot;
        // volatile store: publishes the slot's parameters and iovecs to the helper that claims it, and orders
        // this store before the volatile reads of idle[] in wake (the helper does the mirror image: sets idle,
        // then reads tail), so a helper is either seen idle and woken or sees the job itself
        tail.set(t + 1);
    }

    /** Jobs submitted and not yet claimed. */
    int queued() { return (int) Math.max(0, tail.get() - head.get()); }

    /** Worker thread: wakes up to {@code n} idle helpers (one futex wake each); call after {@link #submit}. */
    void wake(int n) {
        if (n <= 0) return;
        for (int i = 0; i < threads.length && n > 0; i++) {
            if (idle.get(i) == 1 && idle.compareAndSet(i, 1, 0)) {
                LockSupport.unpark(threads[i]);
                n--;
            }
        }
    }

    /** Worker thread: claims a queued job to run itself with {@link #runHere}, or returns -1. */
    int claimHere() { return claim(); }

    /** Worker thread: runs a job it claimed; returns what {@link #result} would. */
    long runHere(int slot) { return transfer(slot); }

    /** Worker thread: takes every finished slot; walk the list with {@link #nextDone}. Returns -1 if none. */
    int takeDone() {
        // getAndSet is a volatile read: each helper's result[] and guest-memory writes happen-before this
        return done.get() == EMPTY ? EMPTY : done.getAndSet(EMPTY);
    }

    /** The slot after {@code slot} in a list from {@link #takeDone}, or -1. */
    int nextDone(int slot) { return next[slot]; }

    /** Bytes the finished job moved ({@code iov.totalBytes()} when it succeeded) or {@code -errno}. */
    long result(int slot) { return result[slot]; }

    private int claim() {
        while (true) {
            long h = head.get();
            if (h >= tail.get()) return EMPTY;
            // while head is still h, position h is unconsumed and its slot in flight, so the producer cannot
            // have wrapped onto jobs[h & mask] (that needs more than `slots` jobs at once): the CAS validates it
            int slot = jobs[(int) h & mask];
            if (head.compareAndSet(h, h + 1)) return slot;
        }
    }

    private long transfer(int slot) {
        try {
            return image.transfer(iov[slot], offset[slot], write[slot], rwFlags[slot]);
        } catch (RuntimeException e) {   // never expected (transfer returns -errno): the request fails, the thread lives
            log.warn("copy: transfer failed: {}", e.toString());
            return -Errno.EIO;
        }
    }

    private void run(int me) {
        while (true) {
            int slot = claim();
            if (slot == EMPTY) {
                if (closing) return;
                idle.set(me, 1);
                slot = claim();   // the job may have been published just before idle was set
                if (slot == EMPTY) {
                    if (!closing) LockSupport.park(this);
                    idle.set(me, 0);
                    continue;
                }
                idle.set(me, 0);
            }
            result[slot] = transfer(slot);
            int top;
            do {
                top = done.get();
                next[slot] = top;
            } while (!done.compareAndSet(top, slot));   // publishes result[] and the copied data to the worker
            if (top == EMPTY) doneEvent.signal();      // the worker drains the event, then takes the whole stack
        }
    }

    /**
     * Stops the helpers; they finish the job they are running first. Returns whether all of them ended within
     * {@code timeoutMillis} (if not, the caller must keep the slots' iovecs and guest memory alive). Closes
     * the event fd: the worker must have unwatched it.
     */
    boolean close(long timeoutMillis) {
        closing = true;
        for (Thread t : threads) LockSupport.unpark(t);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        boolean ended = true;
        for (Thread t : threads) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) ended = false;
        }
        if (ended) doneEvent.close();
        return ended;
    }
}
