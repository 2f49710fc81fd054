package org.vhostj.hv;

import java.util.List;

import org.vhostj.sys.EventFd;

/**
 * A VM (KVM) or partition (MSHV) seen from the notification path: the owner of its fd, which binds
 * eventfds to guest interrupts (irqfd) and guest writes to eventfds (ioeventfd). Control-path calls: they
 * allocate, and throw {@link org.vhostj.sys.ErrnoException} (naming the ioctl, the errno and the arguments)
 * when the kernel refuses.
 *
 * <p>The VM never owns the {@link EventFd}s passed in; the kernel keeps its own reference to each one while
 * it is bound. {@link #close()} only closes the VM fd: the kernel then drops every irqfd and ioeventfd of the
 * VM (once no vcpu fd keeps the VM alive). Deassign explicitly to rebind an eventfd while the VM lives.
 */
public interface VirtualMachine extends AutoCloseable {
    Hypervisor.Kind kind();

    /**
     * Binds {@code trigger} to {@code gsi}: each signal of the eventfd raises the interrupt the GSI is routed
     * to, and the kernel consumes the eventfd's counter. One eventfd backs at most one irqfd (EBUSY).
     */
    void assignIrqfd(EventFd trigger, int gsi);

    /**
     * A level-triggered irqfd: the interrupt stays asserted until the guest acknowledges it, and the kernel
     * then signals {@code resample} so the device can re-check its state. KVM requires a full in-kernel
     * irqchip and an irqchip route for {@code gsi}; MSHV requires a level-triggered MSI route (else EINVAL).
     */
    void assignIrqfd(EventFd trigger, int gsi, EventFd resample);

    /** Unbinds {@code trigger} from {@code gsi}. When this returns, no further interrupt fires from it. */
    void deassignIrqfd(EventFd trigger, int gsi);

    /**
     * Replaces the whole GSI routing table with these MSI routes. Existing irqfds pick up the new routes.
     * On KVM this also drops the default irqchip (IOAPIC/PIC pin) routes that KVM_CREATE_IRQCHIP installs.
     */
    void setMsiRouting(List<MsiRoute> routes);

    /** Makes guest writes matching {@code doorbell} signal {@code eventFd} inside the kernel, with no VMM exit. */
    void assignIoeventfd(EventFd eventFd, Doorbell doorbell);

    /** Removes the registration made with the same eventfd and an equal doorbell (else ENOENT). */
    void deassignIoeventfd(EventFd eventFd, Doorbell doorbell);

    /** Closes the VM fd. Idempotent. */
    @Override
    void close();
}
