package org.vhostj.hv.mshv;

import static org.vhostj.hv.mshv.MshvUapi.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.vhostj.hv.Capabilities;
import org.vhostj.hv.Hypervisor;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;

/**
 * {@code /dev/mshv} (the Microsoft Hypervisor root-partition driver): the owner of its fd, which creates
 * partitions. Thread-safe. <b>Unverified on real MSHV hardware</b>: written and layout-tested against the
 * mainline uapi header and driver, never run against a live /dev/mshv.
 */
public final class Mshv implements Hypervisor {
    /**
     * The driver has no capability query; these are the mainline driver's fixed answers: irqfd with resample,
     * MMIO ioeventfds of any width (0 = any), MSI routing, and no PIO ioeventfd ("PIO not yet implemented").
     */
    public static final Capabilities CAPABILITIES = new Capabilities(Kind.MSHV, true, true, true, false, true, true, false);

    private final Fd device;

    private Mshv(Fd device) { this.device = device; }

    /** Opens {@code /dev/mshv}; {@link org.vhostj.hv.HypervisorUnavailableException} says why when it cannot. */
    public static Mshv open() { return new Mshv(Kind.MSHV.openDevice()); }

    @Override
    public Kind kind() { return Kind.MSHV; }

    @Override
    public Capabilities capabilities() { return CAPABILITIES; }

    /**
     * MSHV_CREATE_PARTITION with a local APIC (MSI routes target LAPICs) and no isolation, then
     * MSHV_INITIALIZE_PARTITION.
     */
    @Override
    public MshvPartition createVm() {
        Fd partition;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(CreatePartition.LAYOUT);
            args.set(ValueLayout.JAVA_LONG, CreatePartition.PT_FLAGS_OFFSET, 1L << MSHV_PT_BIT_LAPIC);
            args.set(ValueLayout.JAVA_LONG, CreatePartition.PT_ISOLATION_OFFSET, MSHV_PT_ISOLATION_NONE);
            partition = Fd.adopt(ErrnoException.check("MSHV_CREATE_PARTITION", LibC.ioctl(device.value(), MSHV_CREATE_PARTITION, args)));
        }
        int r = LibC.ioctl(partition.value(), MSHV_INITIALIZE_PARTITION, 0);
        if (r < 0) {
            partition.close();
            throw new ErrnoException("MSHV_INITIALIZE_PARTITION", -r);
        }
        return new MshvPartition(partition);
    }

    @Override
    public void close() { device.close(); }

    @Override
    public String toString() { return "Mshv[" + device + "]"; }
}
