package org.vhostj.net.backend;

/**
 * The network on the other side of a virtio-net device: a tap device, a userspace switch, a UDP tunnel, or
 * a test backend. Created and closed by the daemon on the main thread; {@link #port} hands out one
 * {@link NetPort} per queue pair, which that pair's worker thread then uses alone.
 */
public interface NetBackend extends AutoCloseable {
    /** For logs: "tap:vhostj0 (2 queues)". */
    String describe();

    /**
     * virtio-net offload feature bits this backend can carry (CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6).
     * Only a backend that passes the virtio-net header on ({@link #carriesHeader()}) can offer any.
     */
    default long offloadFeatures() { return 0; }

    /**
     * Whether frames go to and come from the backend with the virtio-net header in front (tap with
     * IFF_VNET_HDR); otherwise the backend sees bare Ethernet frames.
     */
    default boolean carriesHeader() { return false; }

    /** The most queue pairs the backend can serve (a tap: its queue count). */
    int maxPairs();

    /** The port of queue pair {@code pair}; the same object for every call with that pair. */
    NetPort port(int pair);

    /**
     * The driver acknowledged {@code features}; the virtio-net header is {@code headerBytes} long. Called on
     * the control thread before any ring of the session starts (a tap sets its header size and offloads).
     */
    default void featuresAcked(long features, int headerBytes) {}

    /**
     * The session ended (the front-end reset the device or disconnected); every ring is stopped, so no worker
     * uses a port now. Drop frames held for the old session (a test backend's FIFO). Control thread.
     */
    default void reset() {}

    @Override
    void close();
}
