package org.vhostj.hv;

/**
 * What a hypervisor device offers for the notification path. KVM reports each bit through
 * KVM_CHECK_EXTENSION; the MSHV driver has no such query, so its values are those of the mainline driver
 * (drivers/hv/mshv_eventfd.c) and are documented, not probed.
 *
 * @param irqfd              eventfds can be bound to GSIs (KVM_CAP_IRQFD; always on MSHV)
 * @param irqfdResample      level-triggered irqfds with a resample eventfd (KVM_CAP_IRQFD_RESAMPLE)
 * @param ioeventfd          guest writes can signal eventfds (KVM_CAP_IOEVENTFD; always on MSHV)
 * @param pioIoeventfd       port I/O doorbells (KVM on x86; never on MSHV: EOPNOTSUPP)
 * @param anyWidthIoeventfd  width-0 MMIO doorbells that match any access size (KVM_CAP_IOEVENTFD_ANY_LENGTH)
 * @param msiRouting         GSIs can be routed to MSIs (KVM_CAP_IRQ_ROUTING; MSHV_SET_MSI_ROUTING)
 * @param inKernelIrqchip    KVM can emulate the interrupt controller in the kernel (KVM_CAP_IRQCHIP), which
 *                           x86 KVM requires before it accepts an irqfd or a routing table
 */
public record Capabilities(Hypervisor.Kind kind, boolean irqfd, boolean irqfdResample, boolean ioeventfd,
                           boolean pioIoeventfd, boolean anyWidthIoeventfd, boolean msiRouting,
                           boolean inKernelIrqchip) {
}
