package org.vhostj.hv.mshv;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.hv.LayoutAssertions.assertOffset;
import static org.vhostj.hv.LayoutAssertions.assertSize;
import static org.vhostj.hv.mshv.MshvUapi.*;

import org.junit.jupiter.api.Test;
import org.vhostj.hv.AbstractVirtualMachine;

/**
 * The layouts against include/uapi/linux/mshv.h (Linux mainline): the expected sizes and offsets are the C
 * compiler's for those structs, and each expected request is the header's
 * {@code _IO/_IOW(MSHV_IOCTL = 0xB8, nr, struct)} evaluated with that size. These run everywhere: they need
 * no /dev/mshv.
 */
class MshvUapiLayoutTest {
    @Test
    void createPartitionIsTwoU64s() {
        assertSize(CreatePartition.LAYOUT, 16);
        assertEquals(16, CreatePartition.SIZE);
        assertOffset(CreatePartition.LAYOUT, "pt_flags", CreatePartition.PT_FLAGS_OFFSET);
        assertOffset(CreatePartition.LAYOUT, "pt_isolation", 8);
        assertEquals(8, CreatePartition.PT_ISOLATION_OFFSET);
    }

    @Test
    void userIrqfdIs16BytesWithResamplefdBeforeGsi() {
        assertSize(UserIrqfd.LAYOUT, 16);
        assertEquals(16, UserIrqfd.SIZE);
        assertOffset(UserIrqfd.LAYOUT, "fd", 0);
        assertOffset(UserIrqfd.LAYOUT, "resamplefd", 4);
        assertOffset(UserIrqfd.LAYOUT, "gsi", 8);
        assertOffset(UserIrqfd.LAYOUT, "flags", 12);
        assertEquals(4, UserIrqfd.RESAMPLEFD_OFFSET);
        assertEquals(8, UserIrqfd.GSI_OFFSET);
        assertEquals(12, UserIrqfd.FLAGS_OFFSET);
    }

    @Test
    void userIoeventfdIs32BytesAndSharesKvmsPrefix() {
        assertSize(UserIoeventfd.LAYOUT, 32);
        assertEquals(32, UserIoeventfd.SIZE);
        assertOffset(UserIoeventfd.LAYOUT, "datamatch", AbstractVirtualMachine.IOEVENTFD_DATAMATCH_OFFSET);
        assertOffset(UserIoeventfd.LAYOUT, "addr", AbstractVirtualMachine.IOEVENTFD_ADDR_OFFSET);
        assertOffset(UserIoeventfd.LAYOUT, "len", AbstractVirtualMachine.IOEVENTFD_LEN_OFFSET);
        assertOffset(UserIoeventfd.LAYOUT, "fd", AbstractVirtualMachine.IOEVENTFD_FD_OFFSET);
        assertOffset(UserIoeventfd.LAYOUT, "flags", AbstractVirtualMachine.IOEVENTFD_FLAGS_OFFSET);
        assertEquals(28, UserIoeventfd.RSVD_OFFSET, "rsvd[4] after flags; must stay zero");
        assertEquals(UserIoeventfd.DATAMATCH_OFFSET, AbstractVirtualMachine.IOEVENTFD_DATAMATCH_OFFSET);
        assertEquals(UserIoeventfd.FLAGS_OFFSET, AbstractVirtualMachine.IOEVENTFD_FLAGS_OFFSET);
    }

    @Test
    void irqTableIsAn8ByteHeaderOf16ByteEntries() {
        assertSize(UserIrqTable.LAYOUT, 8);
        assertOffset(UserIrqTable.LAYOUT, "nr", UserIrqTable.NR_OFFSET);
        assertOffset(UserIrqTable.LAYOUT, "rsvd", UserIrqTable.RSVD_OFFSET);
        assertEquals(8, UserIrqTable.ENTRIES_OFFSET);
        assertSize(UserIrqEntry.LAYOUT, 16);
        assertEquals(16, UserIrqEntry.SIZE);
        assertOffset(UserIrqEntry.LAYOUT, "gsi", 0);
        assertOffset(UserIrqEntry.LAYOUT, "address_lo", 4);
        assertOffset(UserIrqEntry.LAYOUT, "address_hi", 8);
        assertOffset(UserIrqEntry.LAYOUT, "data", 12);
        assertEquals(12, UserIrqEntry.DATA_OFFSET);
    }

    @Test
    void requestNumbersAreTheHeaders() {
        assertEquals(0x4010B800L, MSHV_CREATE_PARTITION, "_IOW(MSHV_IOCTL, 0x00, struct mshv_create_partition)");
        assertEquals(0xB800L, MSHV_INITIALIZE_PARTITION, "_IO(MSHV_IOCTL, 0x00)");
        assertEquals(0x4010B803L, MSHV_IRQFD, "_IOW(MSHV_IOCTL, 0x03, struct mshv_user_irqfd)");
        assertEquals(0x4020B804L, MSHV_IOEVENTFD, "_IOW(MSHV_IOCTL, 0x04, struct mshv_user_ioeventfd)");
        assertEquals(0x4008B805L, MSHV_SET_MSI_ROUTING, "_IOW(MSHV_IOCTL, 0x05, struct mshv_user_irq_table): flexible array not counted");
    }

    @Test
    void flagBitsAgreeWithTheSharedWiring() {
        assertEquals(1 << MSHV_IRQFD_BIT_DEASSIGN, AbstractVirtualMachine.IRQFD_FLAG_DEASSIGN);
        assertEquals(1 << MSHV_IRQFD_BIT_RESAMPLE, AbstractVirtualMachine.IRQFD_FLAG_RESAMPLE);
        assertEquals(1 << MSHV_IOEVENTFD_BIT_DATAMATCH, AbstractVirtualMachine.IOEVENTFD_FLAG_DATAMATCH);
        assertEquals(1 << MSHV_IOEVENTFD_BIT_PIO, AbstractVirtualMachine.IOEVENTFD_FLAG_PIO);
        assertEquals(1 << MSHV_IOEVENTFD_BIT_DEASSIGN, AbstractVirtualMachine.IOEVENTFD_FLAG_DEASSIGN);
    }
}
