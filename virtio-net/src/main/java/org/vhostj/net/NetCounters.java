package org.vhostj.net;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Frame counters of one net device, one row per queue pair (plus one for the control queue). Each row has a
 * single writer, the pair's worker thread, which increments with a plain read and a release store (no
 * atomic read-modify-write on the data path); any thread may read.
 */
public final class NetCounters {
    /** What is counted. The DROP_* counters are frames the daemon refused or could not deliver. */
    public enum Counter {
        TX_FRAMES, TX_BYTES, RX_FRAMES, RX_BYTES,
        /** TX frames the guest handed over for segmentation (GSO: HOST_TSO4/6). */
        TX_GSO_FRAMES,
        /** RX frames spread over more than one buffer (MRG_RXBUF, num_buffers > 1). */
        RX_MERGED_FRAMES,
        /** A TX chain shorter than the virtio-net header plus an Ethernet header. */
        TX_DROP_SHORT,
        /** A TX frame above MTU + 18 (no GSO) or above 65550 bytes (GSO). */
        TX_DROP_OVERSIZE,
        /** A TX header the negotiated features do not allow (gso type, checksum offsets, flags, writable buffers). */
        TX_DROP_BAD_HEADER,
        /** The backend could not take the frame (full queue, no route, error). */
        TX_DROP_BACKEND,
        /** A received frame shorter than an Ethernet header. */
        RX_DROP_SHORT,
        /** A received frame larger than the driver's buffers (without MRG_RXBUF, or too few buffers posted). */
        RX_DROP_OVERSIZE,
        /** A received frame the driver's receive filter (CTRL_RX: promiscuous off, MAC table) rejects. */
        RX_DROP_FILTERED,
        /** Receive errors from the backend, and RX chains too small for any frame. */
        RX_ERRORS,
        /** Control queue commands answered VIRTIO_NET_ERR. */
        CTRL_ERRORS
    }

    private static final int N = Counter.values().length;
    private final AtomicLongArray values;
    private final int rows;

    public NetCounters(int rows) {
        this.rows = rows;
        values = new AtomicLongArray(rows * N);
    }

    /** Adds {@code delta} to row {@code row}'s counter: called only by that row's worker thread. */
    public void add(int row, Counter c, long delta) {
        int i = row * N + c.ordinal();
        values.setRelease(i, values.getPlain(i) + delta);
    }

    public void increment(int row, Counter c) { add(row, c, 1); }

    /** Sum over all rows. */
    public long get(Counter c) {
        long s = 0;
        for (int r = 0; r < rows; r++) s += values.getAcquire(r * N + c.ordinal());
        return s;
    }

    public long get(int row, Counter c) { return values.getAcquire(row * N + c.ordinal()); }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (Counter c : Counter.values()) {
            long v = get(c);
            if (v != 0) b.append(b.isEmpty() ? "" : " ").append(c.name().toLowerCase()).append('=').append(v);
        }
        return b.toString();
    }
}
