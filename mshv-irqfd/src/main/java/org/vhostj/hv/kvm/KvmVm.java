package org.vhostj.hv.kvm;

import static org.vhostj.hv.kvm.KvmUapi.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.vhostj.hv.AbstractVirtualMachine;
import org.vhostj.hv.Hypervisor;
import org.vhostj.hv.MsiRoute;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;

/**
 * A KVM VM: the owner of the VM fd. Besides the shared irqfd/ioeventfd wiring it maps guest RAM
 * (KVM_SET_USER_MEMORY_REGION) and creates vcpus, which is all a {@link TinyGuest} needs. Thread-safe.
 *
 * <p>Lifetime: each {@link KvmVcpu} holds a reference to the VM inside the kernel, so the VM (and its irqfds
 * and ioeventfds) is torn down when this fd and every vcpu fd are closed; irqfds are released already when
 * this fd closes (kvm_vm_release).
 */
public final class KvmVm extends AbstractVirtualMachine {
    private static final long PAGE = 4096;

    private final boolean inKernelIrqchip;
    private final long vcpuMmapSizeBytes;
    private final AtomicInteger nextVcpuId = new AtomicInteger();

    KvmVm(Fd vmFd, boolean inKernelIrqchip, long vcpuMmapSizeBytes) {
        super(Hypervisor.Kind.KVM, vmFd);
        this.inKernelIrqchip = inKernelIrqchip;
        this.vcpuMmapSizeBytes = vcpuMmapSizeBytes;
    }

    public boolean hasInKernelIrqchip() { return inKernelIrqchip; }

    /**
     * Maps {@code hostMemory} (page-aligned, a whole number of pages, e.g. a MAP_SHARED memfd mapping) at guest
     * physical address {@code gpa} as memory slot {@code slot}, replacing what that slot held. The caller
     * keeps the mapping alive until it {@link #unmapMemory unmaps} the slot or closes the VM.
     */
    public void mapMemory(int slot, long gpa, MemorySegment hostMemory) {
        long userspaceAddr = hostMemory.address(), sizeBytes = hostMemory.byteSize();
        if ((userspaceAddr | gpa | sizeBytes) % PAGE != 0 || sizeBytes == 0) {
            throw new IllegalArgumentException("memory slot must be whole pages: gpa 0x" + Long.toHexString(gpa)
                    + ", " + sizeBytes + " bytes at userspace_addr 0x" + Long.toHexString(userspaceAddr));
        }
        setMemoryRegion(slot, gpa, sizeBytes, userspaceAddr);
    }

    /** Deletes memory slot {@code slot} (memory_size 0); afterwards its host memory may be unmapped. */
    public void unmapMemory(int slot) { setMemoryRegion(slot, 0, 0, 0); }

    private void setMemoryRegion(int slot, long gpa, long sizeBytes, long userspaceAddr) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(UserspaceMemoryRegion.LAYOUT);
            r.set(ValueLayout.JAVA_INT, UserspaceMemoryRegion.SLOT_OFFSET, slot);
            r.set(ValueLayout.JAVA_LONG, UserspaceMemoryRegion.GUEST_PHYS_ADDR_OFFSET, gpa);
            r.set(ValueLayout.JAVA_LONG, UserspaceMemoryRegion.MEMORY_SIZE_OFFSET, sizeBytes);
            r.set(ValueLayout.JAVA_LONG, UserspaceMemoryRegion.USERSPACE_ADDR_OFFSET, userspaceAddr);
            int rc = LibC.ioctl(vmFd.value(), KVM_SET_USER_MEMORY_REGION, r);
            if (rc < 0) {
                throw new ErrnoException("KVM_SET_USER_MEMORY_REGION", -rc, "slot " + slot + ", gpa 0x"
                        + Long.toHexString(gpa) + ", " + sizeBytes + " bytes");
            }
        }
    }

    /** A new vcpu with the next free id. With an in-kernel irqchip, create it after the irqchip (as here). */
    public KvmVcpu createVcpu() {
        int id = nextVcpuId.getAndIncrement();
        Fd fd = Fd.adopt(ErrnoException.check("KVM_CREATE_VCPU", LibC.ioctl(vmFd.value(), KVM_CREATE_VCPU, id)));
        return KvmVcpu.map(fd, id, vcpuMmapSizeBytes);
    }

    // ---- the KVM side of the shared wiring ----------------------------------------------------------
    @Override
    protected String irqfdName() { return "KVM_IRQFD"; }

    @Override
    protected long irqfdRequest() { return KVM_IRQFD; }

    @Override
    protected MemorySegment encodeIrqfd(Arena arena, int fd, int gsi, int flags, int resampleFd) {
        MemorySegment s = arena.allocate(Irqfd.LAYOUT);
        s.set(ValueLayout.JAVA_INT, Irqfd.FD_OFFSET, fd);
        s.set(ValueLayout.JAVA_INT, Irqfd.GSI_OFFSET, gsi);
        s.set(ValueLayout.JAVA_INT, Irqfd.FLAGS_OFFSET, flags);
        s.set(ValueLayout.JAVA_INT, Irqfd.RESAMPLEFD_OFFSET, resampleFd);
        return s;
    }

    @Override
    protected String ioeventfdName() { return "KVM_IOEVENTFD"; }

    @Override
    protected long ioeventfdRequest() { return KVM_IOEVENTFD; }

    @Override
    protected long ioeventfdSizeBytes() { return Ioeventfd.SIZE; }

    @Override
    protected String routingName() { return "KVM_SET_GSI_ROUTING"; }

    @Override
    protected long routingRequest() { return KVM_SET_GSI_ROUTING; }

    @Override
    protected MemorySegment encodeMsiRouting(Arena arena, List<MsiRoute> routes) {
        MemorySegment t = arena.allocate(IrqRouting.SIZE + routes.size() * IrqRoutingEntry.SIZE, 8);
        t.set(ValueLayout.JAVA_INT, IrqRouting.NR_OFFSET, routes.size());
        for (int i = 0; i < routes.size(); i++) {
            MsiRoute r = routes.get(i);
            long e = IrqRouting.ENTRIES_OFFSET + i * IrqRoutingEntry.SIZE;
            t.set(ValueLayout.JAVA_INT, e + IrqRoutingEntry.GSI_OFFSET, r.gsi());
            t.set(ValueLayout.JAVA_INT, e + IrqRoutingEntry.TYPE_OFFSET, KVM_IRQ_ROUTING_MSI);
            t.set(ValueLayout.JAVA_INT, e + IrqRoutingEntry.MSI_ADDRESS_LO_OFFSET, r.addressLo());
            t.set(ValueLayout.JAVA_INT, e + IrqRoutingEntry.MSI_ADDRESS_HI_OFFSET, r.addressHi());
            t.set(ValueLayout.JAVA_INT, e + IrqRoutingEntry.MSI_DATA_OFFSET, r.data());
        }
        return t;
    }

    @Override
    public String toString() {
        return "KvmVm[" + vmFd + (inKernelIrqchip ? ", in-kernel irqchip]" : ", no irqchip]");
    }
}
