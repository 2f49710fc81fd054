package org.vhostj.hv.mshv;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.vhostj.hv.Doorbell;
import org.vhostj.hv.Hypervisor;
import org.vhostj.sys.EventFd;

/** MSHV-specific behaviour. The device tests skip where /dev/mshv is absent: unverified on real hardware. */
class MshvPartitionTest {
    private static void assumeMshv() {
        assumeTrue(Hypervisor.Kind.MSHV.present(),
                "/dev/mshv absent: MSHV device tests skipped (MSHV support is layout-tested only, unverified on real hardware)");
    }

    @Test
    void aPortDoorbellIsRefusedBeforeTheDriverCouldSayEopnotsupp() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> MshvPartition.checkDoorbell(Doorbell.pio(0x10, 1)));
        assertTrue(e.getMessage().contains("use an MMIO doorbell"), e.getMessage());
        MshvPartition.checkDoorbell(Doorbell.mmio(0xD000_0000L, 2)); // MMIO is fine
        assertFalse(Mshv.CAPABILITIES.pioIoeventfd());
        assertTrue(Mshv.CAPABILITIES.ioeventfd() && Mshv.CAPABILITIES.irqfd() && Mshv.CAPABILITIES.msiRouting());
    }

    @Test
    void aPartitionRefusesAPortDoorbellAndTakesAnMmioOne() {
        assumeMshv();
        try (Mshv mshv = Mshv.open(); MshvPartition partition = mshv.createVm(); EventFd kick = EventFd.create()) {
            assertThrows(UnsupportedOperationException.class, () -> partition.assignIoeventfd(kick, Doorbell.pio(0x10, 1)));
            Doorbell bell = Doorbell.mmio(0xD000_0000L, 0);
            partition.assignIoeventfd(kick, bell);
            partition.deassignIoeventfd(kick, bell);
        }
    }
}
