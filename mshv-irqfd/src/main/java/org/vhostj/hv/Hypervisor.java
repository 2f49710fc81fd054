package org.vhostj.hv;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.vhostj.hv.kvm.Kvm;
import org.vhostj.hv.mshv.Mshv;
import org.vhostj.sys.Errno;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fcntl;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;

/**
 * An open hypervisor device ({@code /dev/kvm} or {@code /dev/mshv}): the owner of its fd, and the factory of
 * {@link VirtualMachine}s. The device fd is needed only to create VMs; a VM outlives it. Used on a control
 * thread; the implementations are thread-safe.
 */
public interface Hypervisor extends AutoCloseable {
    /** The two hypervisors Linux exposes to a VMM, in the order {@link #open()} tries them. */
    enum Kind {
        KVM(Path.of("/dev/kvm")),
        MSHV(Path.of("/dev/mshv"));

        private final Path device;

        Kind(Path device) { this.device = device; }

        public Path device() { return device; }

        /** Whether this hypervisor's device node exists (it may still refuse to open). */
        public boolean present() { return Files.exists(device); }

        /**
         * Opens the device read-write and close-on-exec; the caller owns the fd. A missing node or a refused
         * open becomes a {@link HypervisorUnavailableException} that says which and why.
         */
        public Fd openDevice() {
            int fd;
            try (Arena a = Arena.ofConfined()) {
                fd = LibC.openat(Fcntl.AT_FDCWD, a.allocateFrom(device.toString()), Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
            }
            if (fd >= 0) return Fd.adopt(fd);
            int errno = -fd;
            String why = switch (errno) {
                case Errno.ENOENT -> device + " does not exist";
                case Errno.EACCES, Errno.EPERM -> "no permission to open " + device + " (join its group, e.g. 'kvm')";
                case Errno.ENXIO, Errno.ENODEV -> device + " exists but no driver answers it";
                default -> "cannot open " + device;
            };
            throw new HypervisorUnavailableException(this + " unavailable: " + why,
                    new ErrnoException("open", errno, device.toString()));
        }
    }

    Kind kind();

    Capabilities capabilities();

    /** A new VM (KVM) or partition (MSHV), ready for irqfds, ioeventfds and MSI routes. The caller owns it. */
    VirtualMachine createVm();

    /** Closes the device fd; VMs created from it stay usable. */
    @Override
    void close();

    /** The hypervisor devices that exist here, in {@link Kind} order. */
    static List<Kind> detect() {
        List<Kind> present = new ArrayList<>(2);
        for (Kind k : Kind.values()) if (k.present()) present.add(k);
        return present;
    }

    /** Opens the first hypervisor device present (KVM, then MSHV), or explains why there is none. */
    static Hypervisor open() { return open(List.of(Kind.values())); }

    /**
     * Opens the first of {@code preference} whose device exists. When none exists the exception names every
     * device looked for and how to get one.
     */
    static Hypervisor open(List<Kind> preference) {
        for (Kind k : preference) if (k.present()) return open(k);
        StringBuilder looked = new StringBuilder();
        for (Kind k : preference) looked.append(looked.isEmpty() ? "" : " nor ").append(k.device());
        throw new HypervisorUnavailableException("no hypervisor device: "
                + (preference.isEmpty() ? "none asked for" : "neither " + looked + " exists")
                + " (load kvm_intel or kvm_amd, enable nested virtualization in a VM, or run in an MSHV root partition)");
    }

    /** Opens the given hypervisor's device; {@link HypervisorUnavailableException} says why it cannot. */
    static Hypervisor open(Kind kind) {
        return switch (kind) {
            case KVM -> Kvm.open();
            case MSHV -> Mshv.open();
        };
    }
}
