package org.vhostj.vhost.device;

import org.vhostj.vhost.ring.DescriptorChain;

/**
 * Serves one started ring. Every call is on that ring's worker thread, so a handler needs no locks for its
 * own state. Guest faults never throw: a bad request completes with an error status (or length 0) and
 * processing goes on; a {@link RuntimeException} escaping a handler stops only this queue.
 */
public interface QueueHandler {
    /** Returned by {@link #onChain} when the request completes later through {@link QueueContext#complete}. */
    int DEFERRED = -1;

    /**
     * One available chain. Returns the bytes written into its device-writable part (the used length), or
     * {@link #DEFERRED}. The chain object is reused after this returns.
     */
    int onChain(DescriptorChain chain);

    /**
     * Whether a kick makes the core pop every available chain and pass each to {@link #onChain} (true: the
     * usual request/response device), or only calls {@link #onKick} and lets the handler pull chains with
     * {@link QueueContext#pollChain} when it has data for them (false: a receive queue).
     */
    default boolean consumesOnKick() { return true; }

    /** The driver made buffers available (only called when {@link #consumesOnKick} is false). */
    default void onKick() {}

    /**
     * A batch of {@link #onChain} calls ended (the ring is drained or the batch limit reached), before the
     * used ring is flushed and the guest signalled: a handler that queues I/O while it parses chains submits
     * it here, with one system call per batch. Called on the worker thread, only after at least one chain.
     */
    default void endBatch() {}

    /** A descriptor this handler watches with {@link QueueContext#watch} is ready. */
    default void onFdReady(int token, int readyEvents) {}

    /**
     * The ring is stopping (GET_VRING_BASE, reset, disconnect, shutdown). Called after every deferred
     * request completed or the stop timeout passed; release what the handler holds.
     */
    default void stop() {}
}
