/**
 * The hypervisor side of the notification path, for MSHV and KVM behind one interface.
 *
 * <p>A vhost-user daemon signals the guest by writing a <em>call</em> eventfd that the VMM bound to a guest
 * interrupt (an <b>irqfd</b>), and it is woken by a <em>kick</em> eventfd that the VMM bound to a guest write
 * (an <b>ioeventfd</b>). This package does that binding, for a VMM or a test rig:
 * {@link org.vhostj.hv.Hypervisor#open()} finds {@code /dev/kvm} or {@code /dev/mshv} (or says why neither is
 * usable), {@link org.vhostj.hv.Hypervisor#createVm()} makes a VM or partition, and a
 * {@link org.vhostj.hv.VirtualMachine} assigns and deassigns irqfds, ioeventfds ({@link org.vhostj.hv.Doorbell})
 * and MSI routes. Both drivers descend from the same eventfd code, so the flag bits, the checks and the
 * ioeventfd struct prefix are shared in {@link org.vhostj.hv.AbstractVirtualMachine}; the subclasses supply
 * only request numbers and the structs that differ. The eventfds themselves are {@link org.vhostj.sys.EventFd}.
 *
 * <h2>What is verified where</h2>
 * <ul>
 *   <li><b>KVM</b> ({@code org.vhostj.hv.kvm}): verified on the real {@code /dev/kvm} of the project's
 *       machines (x86_64, Linux 6.18 with the kvm_pvm module, itself nested in a VM). The tests run a
 *       {@link org.vhostj.hv.kvm.TinyGuest} (a few bytes of 32-bit guest code in a memfd memory slot) whose
 *       MMIO and port writes fire ioeventfds with no exit to userspace, with and without datamatch, and check
 *       when KVM consumes an irqfd's eventfd (KvmIrqfdTest lists the conditions from virt/kvm/eventfd.c).
 *       Every KVM_RUN has a deadline enforced by a watchdog (immediate_exit plus a signal), so no guest can
 *       stall a test. The VM setup (in-kernel irqchip) and the tiny guest are x86-only.</li>
 *   <li><b>MSHV</b> ({@code org.vhostj.hv.mshv}): written against Linux mainline
 *       {@code include/uapi/linux/mshv.h} and {@code drivers/hv/mshv_eventfd.c}. The struct layouts and
 *       the request numbers are tested everywhere; the device code is <b>unverified on real MSHV
 *       hardware</b>: its tests skip, saying so, wherever {@code /dev/mshv} is absent, and nobody has run
 *       them where it exists yet.</li>
 * </ul>
 *
 * <h2>Kernel facts the API reflects</h2>
 * <ul>
 *   <li>MSHV ioeventfds are MMIO only (the driver answers EOPNOTSUPP to PIO); a PIO
 *       {@link org.vhostj.hv.Doorbell} is refused before the ioctl with a message that says so, and
 *       {@link org.vhostj.hv.Capabilities#pioIoeventfd()} is false. Virtqueue doorbells that must work on both
 *       hypervisors are MMIO (virtio-pci modern notify BAR, or virtio-mmio).</li>
 *   <li>x86 KVM accepts irqfds and routing tables only with an in-kernel irqchip (EINVAL otherwise), so
 *       {@code createVm()} makes one. Then HLT sleeps in the kernel rather than exiting.</li>
 *   <li>A bound eventfd is read by the kernel on every write (its whole count; one per write for
 *       EFD_SEMAPHORE), and nobody else polling it is woken: a backend cannot watch its own call fd. A count
 *       already pending when the irqfd is assigned is injected but left in the eventfd. One eventfd backs one
 *       irqfd (EBUSY; on this kernel also across VMs).</li>
 *   <li>{@link org.vhostj.hv.VirtualMachine#close()} closes only the VM fd; the kernel drops the VM's irqfds
 *       and ioeventfds. The VM never owns the eventfds passed to it.</li>
 * </ul>
 */
package org.vhostj.hv;
