package org.vhostj.net.backend;

import org.vhostj.net.FrameBuffers;

/**
 * One queue pair's connection to the backend. Used only by that pair's worker thread (its RX and TX handlers
 * run on the same worker); no method allocates, locks or throws for a bad frame. Results are byte counts, or
 * {@code -errno} ({@code -EAGAIN}: nothing to receive now, or no room to send).
 */
public interface NetPort {
    /** Descriptor that becomes readable (EPOLLIN) when {@link #receive} has a frame; -1 if this port never receives. */
    int rxFd();

    /**
     * Receives one frame into {@code into} (the guest's receive buffers, then an overflow area). Returns its
     * length in bytes (with the virtio-net header when the backend {@link NetBackend#carriesHeader carries
     * it}) or {@code -errno}. A frame longer than {@code into} is cut: the caller sees the full length.
     */
    long receive(FrameBuffers into);

    /**
     * Sends one frame from {@code frame} (guest memory). {@code dstMac}/{@code srcMac} are the frame's
     * Ethernet addresses, for backends that switch by them. Returns the bytes sent or {@code -errno}.
     */
    long send(FrameBuffers frame, long dstMac, long srcMac);

    /** Whether {@link #received} wants the source MAC of each received frame (a learning switch). */
    default boolean learns() { return false; }

    /** The frame just received came from {@code srcMac} (only called when {@link #learns()}). */
    default void received(long srcMac) {}

    /** The pair's receive queue started taking frames (a tap attaches its queue). Worker thread. */
    default void rxStarted() {}

    /** The pair's receive queue stopped taking frames (a tap detaches its queue, so the kernel uses the others). */
    default void rxStopped() {}
}
