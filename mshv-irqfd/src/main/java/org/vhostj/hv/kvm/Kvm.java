package org.vhostj.hv.kvm;

import static org.vhostj.hv.kvm.KvmUapi.*;

import org.vhostj.hv.Capabilities;
import org.vhostj.hv.Hypervisor;
import org.vhostj.hv.HypervisorUnavailableException;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;

/**
 * {@code /dev/kvm}: the owner of its fd, which answers KVM_CHECK_EXTENSION and creates VMs. Thread-safe.
 * Verified on the real /dev/kvm of the project's machines (x86_64).
 */
public final class Kvm implements Hypervisor {
    private final Fd device;
    private final long vcpuMmapSizeBytes;
    private final Capabilities capabilities;

    private Kvm(Fd device, long vcpuMmapSizeBytes, Capabilities capabilities) {
        this.device = device;
        this.vcpuMmapSizeBytes = vcpuMmapSizeBytes;
        this.capabilities = capabilities;
    }

    /** Opens {@code /dev/kvm}; {@link HypervisorUnavailableException} says why when it cannot. */
    public static Kvm open() {
        Fd device = Kind.KVM.openDevice();
        try {
            int fd = device.value();
            int version = LibC.ioctl(fd, KVM_GET_API_VERSION, 0);
            if (version != API_VERSION) {
                throw new HypervisorUnavailableException("KVM API version " + version + ", expected " + API_VERSION);
            }
            long mmapSize = ErrnoException.check("KVM_GET_VCPU_MMAP_SIZE", LibC.ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0));
            boolean ioeventfd = checkExtension(fd, KVM_CAP_IOEVENTFD) > 0;
            Capabilities caps = new Capabilities(Kind.KVM, checkExtension(fd, KVM_CAP_IRQFD) > 0,
                    checkExtension(fd, KVM_CAP_IRQFD_RESAMPLE) > 0, ioeventfd, ioeventfd && isX86(),
                    checkExtension(fd, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0, checkExtension(fd, KVM_CAP_IRQ_ROUTING) > 0,
                    checkExtension(fd, KVM_CAP_IRQCHIP) > 0);
            return new Kvm(device, mmapSize, caps);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }

    static boolean isX86() {
        String arch = System.getProperty("os.arch");
        return arch.equals("amd64") || arch.equals("x86_64");
    }

    @Override
    public Kind kind() { return Kind.KVM; }

    @Override
    public Capabilities capabilities() { return capabilities; }

    /** KVM_CHECK_EXTENSION: 0 when absent, otherwise 1 or a capability-specific value. */
    public int checkExtension(int capability) { return checkExtension(device.value(), capability); }

    private static int checkExtension(int kvmFd, int capability) {
        return ErrnoException.check("KVM_CHECK_EXTENSION", LibC.ioctl(kvmFd, KVM_CHECK_EXTENSION, capability));
    }

    /**
     * A VM with an in-kernel irqchip (KVM_CREATE_IRQCHIP), which x86 KVM needs before it accepts irqfds and
     * routing tables. With it, HLT no longer exits to userspace: the vcpu sleeps in the kernel until an
     * interrupt arrives.
     */
    @Override
    public KvmVm createVm() { return createVm(true); }

    /** A VM, with or without an in-kernel irqchip (x86 only: arm64 needs a vGIC device instead). */
    public KvmVm createVm(boolean inKernelIrqchip) {
        Fd vm = Fd.adopt(ErrnoException.check("KVM_CREATE_VM", LibC.ioctl(device.value(), KVM_CREATE_VM, 0)));
        if (inKernelIrqchip) {
            int r = LibC.ioctl(vm.value(), KVM_CREATE_IRQCHIP, 0);
            if (r < 0) {
                vm.close();
                throw new ErrnoException("KVM_CREATE_IRQCHIP", -r);
            }
        }
        return new KvmVm(vm, inKernelIrqchip, vcpuMmapSizeBytes);
    }

    @Override
    public void close() { device.close(); }

    @Override
    public String toString() { return "Kvm[" + device + "]"; }
}
