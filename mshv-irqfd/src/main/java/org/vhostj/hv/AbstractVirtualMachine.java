package org.vhostj.hv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;

/**
 * The eventfd wiring KVM and MSHV share. Both drivers descend from the same irqfd/ioeventfd code
 * (drivers/hv/mshv_eventfd.c says so), so the flag bits, the checks and the ioeventfd struct prefix are the
 * same; the subclass supplies only what differs: request numbers, the irqfd struct, the routing table.
 *
 * <p>Owns the VM fd ({@link #vmFd}) and closes it in {@link #close()}. Thread-safe: each call uses its own
 * confined arena, and the kernel serializes the ioctls.
 */
public abstract class AbstractVirtualMachine implements VirtualMachine {
    /** irqfd flag bits: KVM_IRQFD_FLAG_DEASSIGN / BIT(MSHV_IRQFD_BIT_DEASSIGN), and RESAMPLE. */
    public static final int IRQFD_FLAG_DEASSIGN = 1 << 0, IRQFD_FLAG_RESAMPLE = 1 << 1;
    /** ioeventfd flag bits: KVM_IOEVENTFD_FLAG_* and BIT(MSHV_IOEVENTFD_BIT_*) agree. */
    public static final int IOEVENTFD_FLAG_DATAMATCH = 1 << 0, IOEVENTFD_FLAG_PIO = 1 << 1, IOEVENTFD_FLAG_DEASSIGN = 1 << 2;

    /**
     * The prefix {@code struct kvm_ioeventfd} (64 bytes) and {@code struct mshv_user_ioeventfd} (32 bytes)
     * share; the rest is padding that must be zero in both:
     * <pre>
     *   __u64 datamatch;  // 0
     *   __u64 addr;       // 8: legal pio/mmio address
     *   __u32 len;        // 16: 1, 2, 4 or 8 bytes; or 0 to ignore length
     *   __s32 fd;         // 20
     *   __u32 flags;      // 24
     * </pre>
     */
    public static final long IOEVENTFD_DATAMATCH_OFFSET = 0, IOEVENTFD_ADDR_OFFSET = 8, IOEVENTFD_LEN_OFFSET = 16,
            IOEVENTFD_FD_OFFSET = 20, IOEVENTFD_FLAGS_OFFSET = 24;

    /** A sane bound on one routing table: KVM_MAX_IRQ_ROUTES on x86 and MSHV_MAX_GUEST_IRQS are both 4096. */
    public static final int MAX_ROUTES = 4096;

    protected final Fd vmFd;
    private final Hypervisor.Kind kind;

    protected AbstractVirtualMachine(Hypervisor.Kind kind, Fd vmFd) {
        this.kind = kind;
        this.vmFd = vmFd;
    }

    @Override
    public final Hypervisor.Kind kind() { return kind; }

    // ---- what differs ---------------------------------------------------------------------------------
    /** "KVM_IRQFD" or "MSHV_IRQFD", for error messages. */
    protected abstract String irqfdName();

    protected abstract long irqfdRequest();

    /** Fills a zeroed irqfd struct. {@code resampleFd} is meaningful only with {@link #IRQFD_FLAG_RESAMPLE}. */
    protected abstract MemorySegment encodeIrqfd(Arena arena, int fd, int gsi, int flags, int resampleFd);

    protected abstract String ioeventfdName();

    protected abstract long ioeventfdRequest();

    /** Size of the whole ioeventfd struct; the bytes past the shared prefix stay zero. */
    protected abstract long ioeventfdSizeBytes();

    /** Refuses a doorbell this hypervisor cannot register, before the ioctl, with a message that says why. */
    protected void checkSupported(Doorbell doorbell) {}

    protected abstract String routingName();

    protected abstract long routingRequest();

    protected abstract MemorySegment encodeMsiRouting(Arena arena, List<MsiRoute> routes);

    // ---- what is shared --------------------------------------------------------------------------------
    @Override
    public final void assignIrqfd(EventFd trigger, int gsi) { irqfd(trigger, gsi, 0, 0, "assign"); }

    @Override
    public final void assignIrqfd(EventFd trigger, int gsi, EventFd resample) {
        irqfd(trigger, gsi, IRQFD_FLAG_RESAMPLE, resample.fd(), "assign resampling");
    }

    @Override
    public final void deassignIrqfd(EventFd trigger, int gsi) { irqfd(trigger, gsi, IRQFD_FLAG_DEASSIGN, 0, "deassign"); }

    private void irqfd(EventFd trigger, int gsi, int flags, int resampleFd, String what) {
        if (gsi < 0) throw new IllegalArgumentException("gsi must be below 2^31: " + Integer.toUnsignedString(gsi));
        int fd = trigger.fd();
        try (Arena a = Arena.ofConfined()) {
            int r = LibC.ioctl(vmFd.value(), irqfdRequest(), encodeIrqfd(a, fd, gsi, flags, resampleFd));
            if (r < 0) throw new ErrnoException(irqfdName(), -r, what + " eventfd " + fd + " to gsi " + gsi + " on " + this);
        }
    }

    @Override
    public final void assignIoeventfd(EventFd eventFd, Doorbell doorbell) { ioeventfd(eventFd, doorbell, 0, "assign"); }

    @Override
    public final void deassignIoeventfd(EventFd eventFd, Doorbell doorbell) {
        ioeventfd(eventFd, doorbell, IOEVENTFD_FLAG_DEASSIGN, "deassign");
    }

    private void ioeventfd(EventFd eventFd, Doorbell doorbell, int flags, String what) {
        checkSupported(doorbell);
        if (doorbell.space() == IoSpace.PIO) flags |= IOEVENTFD_FLAG_PIO;
        if (doorbell.datamatch().isPresent()) flags |= IOEVENTFD_FLAG_DATAMATCH;
        int fd = eventFd.fd();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(ioeventfdSizeBytes(), 8); // zeroed: padding and rsvd must be 0
            s.set(ValueLayout.JAVA_LONG, IOEVENTFD_DATAMATCH_OFFSET, doorbell.datamatch().orElse(0));
            s.set(ValueLayout.JAVA_LONG, IOEVENTFD_ADDR_OFFSET, doorbell.guestAddress());
            s.set(ValueLayout.JAVA_INT, IOEVENTFD_LEN_OFFSET, doorbell.lengthBytes());
            s.set(ValueLayout.JAVA_INT, IOEVENTFD_FD_OFFSET, fd);
            s.set(ValueLayout.JAVA_INT, IOEVENTFD_FLAGS_OFFSET, flags);
            int r = LibC.ioctl(vmFd.value(), ioeventfdRequest(), s);
            if (r < 0) throw new ErrnoException(ioeventfdName(), -r, what + " eventfd " + fd + " at " + doorbell + " on " + this);
        }
    }

    @Override
    public final void setMsiRouting(List<MsiRoute> routes) {
        if (routes.size() > MAX_ROUTES) throw new IllegalArgumentException(routes.size() + " routes, more than " + MAX_ROUTES);
        try (Arena a = Arena.ofConfined()) {
            int r = LibC.ioctl(vmFd.value(), routingRequest(), encodeMsiRouting(a, routes));
            if (r < 0) throw new ErrnoException(routingName(), -r, routes.size() + " MSI routes on " + this);
        }
    }

    /** Whether {@link #close()} has not been called yet. */
    public final boolean isOpen() { return vmFd.isOpen(); }

    @Override
    public void close() { vmFd.close(); }
}
