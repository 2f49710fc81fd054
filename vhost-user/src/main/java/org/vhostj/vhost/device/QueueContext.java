package org.vhostj.vhost.device;

import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * What the core offers a {@link QueueHandler}: the ring's completion and pull operations, fd watching on
 * the worker's epoll, and counters. Every method must be called on the queue's worker thread, except
 * {@link #queueIndex()} and {@link #negotiatedFeatures()}.
 */
public interface QueueContext {
    int queueIndex();

    /** Features the driver acknowledged for this session. */
    long negotiatedFeatures();

    /** The guest memory snapshot this worker uses now (it may change between batches, never within one). */
    GuestMemory memory();

    /**
     * Completes a {@link QueueHandler#DEFERRED} (or pulled) request: puts {@code head} in the used ring with
     * {@code bytesWritten}. The guest is signalled once per batch, after the current callback returns.
     */
    void complete(int head, int bytesWritten);

    /**
     * The next available chain, walked and validated, or null if the driver has none. Chains that fail
     * validation are completed with length 0 and skipped. The returned object is reused by the next call.
     */
    DescriptorChain pollChain();

    /** Puts the last chain from {@link #pollChain} back (nothing was written to the used ring for it). */
    void unpollChain();

    /**
     * Whether the last {@link #pollChain} that returned null left the ring in busy polling rather than asking
     * the driver for a kick: with a poll period ({@code --poll-us} > 0), a pulled queue that runs dry keeps
     * kicks off and the worker polls the ring, calling {@link QueueHandler#onKick} when buffers come, for up to
     * the poll period; only then is the kick re-armed, and the next empty {@link #pollChain} returns null with
     * this false. A handler that stops its input while the driver has no buffers keeps it going while this is
     * true. Always false without a poll period.
     */
    default boolean pollingForChains() { return false; }

    /** Whether the ring is enabled (SET_VRING_ENABLE); a disabled ring must not produce side effects. */
    boolean enabled();

    /**
     * Adds {@code fd} to this worker's epoll for {@code epollEvents}; readiness comes back through
     * {@link QueueHandler#onFdReady} with {@code token} (0..65535). The handler keeps owning the fd and must
     * {@link #unwatch} it before closing it.
     */
    void watch(int fd, int epollEvents, int token);

    /** Changes the events watched for {@code fd}. */
    void rewatch(int fd, int epollEvents, int token);

    void unwatch(int fd);

    /** Counts a request that failed for a reason the core cannot see (a bad header, an I/O error). */
    void countError();

    /** Adds bytes the device moved for a request (for the bytes-per-queue metrics). */
    void countBytes(long bytes);
}
