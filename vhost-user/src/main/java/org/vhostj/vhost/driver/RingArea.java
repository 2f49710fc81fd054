package org.vhostj.vhost.driver;

import java.lang.foreign.MemorySegment;

/**
 * One area of a virtqueue as the driver sees it: the memory it writes through and the guest-physical
 * address the device is told. The owner of the guest memory hands these out; the ring never frees them.
 *
 * @param memory the area, at least as large as the ring needs, aligned as the layout requires
 * @param gpa    the guest-physical address of {@code memory}'s first byte
 */
public record RingArea(MemorySegment memory, long gpa) {
    public RingArea {
        if (memory == null) throw new IllegalArgumentException("ring area memory is null");
    }

    /** Checks size and alignment of the host mapping and of the GPA (virtio 1.2 2.7 / 2.8 alignment rules). */
    void require(String what, long bytes, long alignment) {
        if (memory.byteSize() < bytes) {
            throw new IllegalArgumentException(what + " needs " + bytes + " bytes, got " + memory.byteSize());
        }
        if (memory.address() % alignment != 0 || gpa % alignment != 0) {
            throw new IllegalArgumentException(what + " must be " + alignment + "-byte aligned: host 0x"
                    + Long.toHexString(memory.address()) + ", gpa 0x" + Long.toHexString(gpa));
        }
    }
}
