package org.vhostj.harness.load;

/**
 * What the TX and RX engines of one queue pair share: sequence numbers, send times, and whether sending is
 * over. Both engines run on the same worker thread, so nothing here is synchronized.
 */
final class NetFlow {
    /** Send times of the last 2^16 frames, for round-trip latency. */
    static final int TIME_WINDOW = 1 << 16;

    final int pair;
    final int frameBytes;
    long nextSeq;
    long txCompleted;
    long rxReceived;
    long lastRxSeq = -1;
    long outOfOrder, macsSwapped, macsRewritten, misrouted;
    final long[] sentAt = new long[TIME_WINDOW];
    boolean txFinished;
    long txFinishedAt;

    NetFlow(int pair, int frameBytes) {
        this.pair = pair;
        this.frameBytes = frameBytes;
    }
}
