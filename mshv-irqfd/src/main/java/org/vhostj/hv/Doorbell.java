package org.vhostj.hv;

import java.util.OptionalLong;

/**
 * A guest write that an ioeventfd turns into an eventfd signal without leaving the kernel: the address space,
 * the guest address (a guest physical address for {@link IoSpace#MMIO}, a port for {@link IoSpace#PIO}),
 * the access width, and optionally the one value that must be written ({@code datamatch}).
 *
 * <p>Checked here, once, by the rules KVM and MSHV share: width 0 (any width, MMIO and KVM only in practice),
 * 1, 2, 4 or 8 bytes; the range must not wrap; a datamatch needs a width and must fit in it. The kernel
 * matches a deassign against all four fields, so deassign with an equal {@code Doorbell}.
 */
public record Doorbell(IoSpace space, long guestAddress, int lengthBytes, OptionalLong datamatch) {
    public Doorbell {
        if (space == null || datamatch == null) throw new NullPointerException("space and datamatch are required");
        if (lengthBytes != 0 && lengthBytes != 1 && lengthBytes != 2 && lengthBytes != 4 && lengthBytes != 8) {
            throw new IllegalArgumentException("doorbell width must be 0 (any), 1, 2, 4 or 8 bytes, not " + lengthBytes);
        }
        if (space == IoSpace.PIO && (guestAddress < 0 || guestAddress + lengthBytes > 0x10000)) {
            throw new IllegalArgumentException("PIO doorbell outside the 64 KiB port space: port 0x"
                    + Long.toHexString(guestAddress) + ", " + lengthBytes + " bytes");
        }
        if (Long.compareUnsigned(guestAddress + lengthBytes, guestAddress) < 0) {
            throw new IllegalArgumentException("MMIO doorbell range wraps: gpa 0x" + Long.toHexString(guestAddress)
                    + ", " + lengthBytes + " bytes");
        }
        if (datamatch.isPresent()) {
            if (lengthBytes == 0) throw new IllegalArgumentException("a datamatch doorbell needs a width (1, 2, 4 or 8 bytes)");
            long value = datamatch.getAsLong();
            if (lengthBytes < 8 && (value >>> (8 * lengthBytes)) != 0) {
                throw new IllegalArgumentException("datamatch 0x" + Long.toHexString(value) + " does not fit in "
                        + lengthBytes + " bytes");
            }
        }
    }

    /** Any write of {@code lengthBytes} (0: of any width) to guest physical address {@code gpa}. */
    public static Doorbell mmio(long gpa, int lengthBytes) {
        return new Doorbell(IoSpace.MMIO, gpa, lengthBytes, OptionalLong.empty());
    }

    /** Any OUT of {@code lengthBytes} to {@code port}. */
    public static Doorbell pio(int port, int lengthBytes) {
        return new Doorbell(IoSpace.PIO, port, lengthBytes, OptionalLong.empty());
    }

    /** The same doorbell, signalled only when the guest writes exactly {@code value}. */
    public Doorbell matching(long value) {
        return new Doorbell(space, guestAddress, lengthBytes, OptionalLong.of(value));
    }

    @Override
    public String toString() {
        return space + (space == IoSpace.PIO ? " port 0x" : " gpa 0x") + Long.toHexString(guestAddress) + "/" + lengthBytes
                + (datamatch.isPresent() ? " == 0x" + Long.toHexString(datamatch.getAsLong()) : " (any value)");
    }
}
