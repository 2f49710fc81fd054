package org.vhostj.harness.frontend;

/**
 * How the harness lays out its virtqueues.
 *
 * @param queueSize   entries per ring (split: a power of 2)
 * @param packed      packed rings (VIRTIO_F_RING_PACKED) instead of split ones
 * @param maxIndirect entries per indirect table, 0 for no indirect descriptors
 */
public record RingConfig(int queueSize, boolean packed, int maxIndirect) {
    public RingConfig {
        if (queueSize <= 0 || queueSize > 32768) throw new IllegalArgumentException("queue size must be 1..32768: " + queueSize);
        if (!packed && Integer.bitCount(queueSize) != 1) throw new IllegalArgumentException("split queue size must be a power of 2: " + queueSize);
        if (maxIndirect < 0) throw new IllegalArgumentException("indirect table size must be >= 0: " + maxIndirect);
    }

    public boolean indirect() { return maxIndirect > 0; }
}
