package org.vhostj.vhost.device;

import java.lang.foreign.MemorySegment;

/**
 * A virtio device served over vhost-user: the one interface a device type implements. The daemon owns the
 * socket, the protocol, guest memory, the rings and the worker threads; the device declares what it offers
 * and handles the chains of its queues.
 *
 * <p>Called on the connection's control thread unless noted. Everything the front-end sends has been
 * validated against what the device declared before a method here sees it.
 */
public interface VirtioDevice {
    /** Virtio device ID: 1 net, 2 block, 4 entropy, 26 fs. */
    int deviceType();

    /** A short name for logs and metric labels ("blk", "net", "fs"). */
    default String name() { return "virtio-" + deviceType(); }

    /** Number of virtqueues the device supports (GET_QUEUE_NUM). */
    int queueCount();

    /** Largest ring size a front-end may set (SET_VRING_NUM is refused above it). */
    default int maxQueueSize() { return 1024; }

    /** Device feature bits; the core adds the transport bits it implements (VERSION_1, rings, EVENT_IDX...). */
    long offeredFeatures();

    /**
     * The protocol features to offer, given those the core implements ({@code coreSupported}); a device may
     * remove some (virtio-fs hides CONFIG from QEMU 7.2) or add device-specific ones (NET_MTU).
     */
    default long protocolFeatures(long coreSupported) { return coreSupported; }

    /** The features the driver acknowledged (the core has already rejected bits never offered). */
    default void featuresAcked(long acked) {}

    /**
     * The device configuration space as the driver would read it now, or {@link MemorySegment#NULL} if the
     * device has none (then CONFIG is not offered). The core bounds-checks GET_CONFIG against its size.
     */
    default MemorySegment configSpace() { return MemorySegment.NULL; }

    /**
     * SET_CONFIG of {@code data} at {@code offset} (already bounds-checked). {@code migration}: the front-end
     * restores state and may write read-only fields. Returns false to refuse the write.
     */
    default boolean writeConfig(int offset, MemorySegment data, boolean migration) { return false; }

    /** Which worker thread serves queue {@code queueIndex}; workers are numbered from 0. Default: one worker. */
    default int workerOf(int queueIndex) { return 0; }

    /**
     * A ring was started (it has memory, addresses and a kick fd): return the handler that serves it on its
     * worker thread. Called on the control thread; the handler is then used only on the worker.
     */
    QueueHandler startQueue(int queueIndex, QueueContext ctx);

    /**
     * All rings are stopped and the front-end reset the device (RESET_DEVICE, RESET_OWNER, or it
     * disconnected): drop per-session state, ready for a new session.
     */
    default void reset() {}

    /** The daemon is shutting down: every ring is stopped and its requests completed; flush and release. */
    default void close() {}
}
