package org.vhostj.vhost.ring;

/** Why a descriptor chain (or a ring) was rejected. Codes, not exceptions: the data path does not throw. */
public enum ChainFault {
    OK,
    /** A descriptor index (head or next) is not below the table size. */
    BAD_INDEX,
    /** The walk visited more descriptors than the table holds: a loop. */
    LOOP,
    /** An indirect descriptor inside an indirect table, with NEXT set, or of a bad length. */
    BAD_INDIRECT,
    /** A buffer or an indirect table is not inside guest memory. */
    BAD_ADDRESS,
    /** A device-readable descriptor follows a device-writable one. */
    ORDER,
    /** More buffers than the chain can hold, or a total length beyond 2^32 - 1. */
    TOO_LONG,
    /** (packed) a descriptor in the middle of a chain was not made available. */
    NOT_AVAILABLE
}
