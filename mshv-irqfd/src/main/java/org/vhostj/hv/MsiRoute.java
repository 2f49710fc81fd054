package org.vhostj.hv;

/**
 * One GSI routed to a message-signalled interrupt: the MSI address (low and high 32 bits) and data a device
 * would write. This is the whole of {@code struct mshv_user_irq_entry} and the MSI arm of KVM's
 * {@code struct kvm_irq_routing_entry}. Every field is a u32 in the uapi; ints carry the bits.
 */
public record MsiRoute(int gsi, int addressLo, int addressHi, int data) {
    public MsiRoute {
        if (gsi < 0) throw new IllegalArgumentException("gsi must be below 2^31: " + Integer.toUnsignedString(gsi));
    }
}
