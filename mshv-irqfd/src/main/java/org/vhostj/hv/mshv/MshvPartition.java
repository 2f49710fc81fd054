package org.vhostj.hv.mshv;

import static org.vhostj.hv.mshv.MshvUapi.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.vhostj.hv.AbstractVirtualMachine;
import org.vhostj.hv.Doorbell;
import org.vhostj.hv.Hypervisor;
import org.vhostj.hv.IoSpace;
import org.vhostj.hv.MsiRoute;
import org.vhostj.sys.Fd;

/**
 * An MSHV partition: the owner of the partition fd, wired through the code paths it shares with KVM
 * ({@link AbstractVirtualMachine}). Differences from KVM, from drivers/hv/mshv_eventfd.c:
 * <ul>
 *   <li>ioeventfds are MMIO only: a PIO doorbell is refused here, before the ioctl, because the driver
 *       answers EOPNOTSUPP ("PIO not yet implemented"). A virtqueue doorbell on MSHV must be MMIO
 *       (virtio-pci modern notify BAR, or virtio-mmio).</li>
 *   <li>a doorbell is registered with the hypervisor itself (mshv_register_doorbell); overlap is EEXIST
 *       only for the same address and width.</li>
 *   <li>a resampling irqfd needs a level-triggered MSI route (else EINVAL).</li>
 * </ul>
 * <b>Unverified on real MSHV hardware</b>: its tests skip where /dev/mshv is absent.
 */
public final class MshvPartition extends AbstractVirtualMachine {
    MshvPartition(Fd partitionFd) { super(Hypervisor.Kind.MSHV, partitionFd); }

    /** Refuses what the driver cannot do, with the reason, instead of a bare EOPNOTSUPP. */
    public static void checkDoorbell(Doorbell doorbell) {
        if (doorbell.space() == IoSpace.PIO) {
            throw new UnsupportedOperationException("MSHV ioeventfd: PIO doorbells are not implemented by the mshv "
                    + "driver (it answers EOPNOTSUPP); use an MMIO doorbell, not " + doorbell);
        }
    }

    @Override
    protected void checkSupported(Doorbell doorbell) { checkDoorbell(doorbell); }

    @Override
    protected String irqfdName() { return "MSHV_IRQFD"; }

    @Override
    protected long irqfdRequest() { return MSHV_IRQFD; }

    @Override
    protected MemorySegment encodeIrqfd(Arena arena, int fd, int gsi, int flags, int resampleFd) {
        MemorySegment s = arena.allocate(UserIrqfd.LAYOUT);
        s.set(ValueLayout.JAVA_INT, UserIrqfd.FD_OFFSET, fd);
        s.set(ValueLayout.JAVA_INT, UserIrqfd.RESAMPLEFD_OFFSET, resampleFd);
        s.set(ValueLayout.JAVA_INT, UserIrqfd.GSI_OFFSET, gsi);
        s.set(ValueLayout.JAVA_INT, UserIrqfd.FLAGS_OFFSET, flags);
        return s;
    }

    @Override
    protected String ioeventfdName() { return "MSHV_IOEVENTFD"; }

    @Override
    protected long ioeventfdRequest() { return MSHV_IOEVENTFD; }

    @Override
    protected long ioeventfdSizeBytes() { return UserIoeventfd.SIZE; }

    @Override
    protected String routingName() { return "MSHV_SET_MSI_ROUTING"; }

    @Override
    protected long routingRequest() { return MSHV_SET_MSI_ROUTING; }

    @Override
    protected MemorySegment encodeMsiRouting(Arena arena, List<MsiRoute> routes) {
        MemorySegment t = arena.allocate(UserIrqTable.SIZE + routes.size() * UserIrqEntry.SIZE, 8); // rsvd stays 0
        t.set(ValueLayout.JAVA_INT, UserIrqTable.NR_OFFSET, routes.size());
        for (int i = 0; i < routes.size(); i++) {
            MsiRoute r = routes.get(i);
            long e = UserIrqTable.ENTRIES_OFFSET + i * UserIrqEntry.SIZE;
            t.set(ValueLayout.JAVA_INT, e + UserIrqEntry.GSI_OFFSET, r.gsi());
            t.set(ValueLayout.JAVA_INT, e + UserIrqEntry.ADDRESS_LO_OFFSET, r.addressLo());
            t.set(ValueLayout.JAVA_INT, e + UserIrqEntry.ADDRESS_HI_OFFSET, r.addressHi());
            t.set(ValueLayout.JAVA_INT, e + UserIrqEntry.DATA_OFFSET, r.data());
        }
        return t;
    }

    @Override
    public String toString() { return "MshvPartition[" + vmFd + "]"; }
}
