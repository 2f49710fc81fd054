package org.vhostj.vhost.driver;

/**
 * Malformed descriptor chains a hostile driver can build. A correct device fails only the request that
 * carries one (used length 0, or an error status), keeps its process alive and keeps serving the queue or
 * at least the connection.
 */
public enum ChainCorruption {
    /** (split) The last descriptor has NEXT set and points back at the head: an endless chain. */
    DESCRIPTOR_LOOP(true, false),
    /** (split) The last descriptor has NEXT set and a next index equal to the queue size. */
    NEXT_OUT_OF_RANGE(true, false),
    /** (packed) The last descriptor has NEXT set, but the slot after it was never made available. */
    UNTERMINATED_CHAIN(false, true),
    /** An indirect table whose first entry is itself an indirect descriptor (forbidden by virtio 2.7.5.3.1). */
    NESTED_INDIRECT(true, true),
    /** An indirect descriptor whose length is not a multiple of 16. */
    INDIRECT_BAD_LENGTH(true, true),
    /** An indirect descriptor with length 0. */
    INDIRECT_EMPTY(true, true),
    /** An indirect descriptor that also has NEXT set (virtio 2.7.5.3.1 forbids both). */
    INDIRECT_WITH_NEXT(true, false),
    /** An indirect descriptor pointing outside guest memory. */
    INDIRECT_OUT_OF_RANGE(true, true),
    /** A buffer of length 0xffffffff (the chain's total length overflows anything sane). */
    HUGE_LENGTH(true, true);

    public final boolean split, packed;

    ChainCorruption(boolean split, boolean packed) {
        this.split = split;
        this.packed = packed;
    }

    public boolean appliesTo(boolean packedRing) { return packedRing ? packed : split; }
}
