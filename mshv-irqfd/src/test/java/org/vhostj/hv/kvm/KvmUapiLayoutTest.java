package org.vhostj.hv.kvm;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.hv.LayoutAssertions.assertOffset;
import static org.vhostj.hv.LayoutAssertions.assertSize;
import static org.vhostj.hv.kvm.KvmUapi.*;

import org.junit.jupiter.api.Test;
import org.vhostj.hv.AbstractVirtualMachine;

/**
 * The layouts against include/uapi/linux/kvm.h and arch/x86/include/uapi/asm/kvm.h: the expected sizes and
 * offsets are the C compiler's for those structs on x86_64, and each expected request is the header's
 * {@code _IO/_IOR/_IOW(KVMIO, nr, struct)} evaluated with that size.
 */
class KvmUapiLayoutTest {
    @Test
    void userspaceMemoryRegionIs32Bytes() {
        assertSize(UserspaceMemoryRegion.LAYOUT, 32);
        assertEquals(32, UserspaceMemoryRegion.SIZE);
        assertOffset(UserspaceMemoryRegion.LAYOUT, "slot", UserspaceMemoryRegion.SLOT_OFFSET);
        assertOffset(UserspaceMemoryRegion.LAYOUT, "flags", UserspaceMemoryRegion.FLAGS_OFFSET);
        assertOffset(UserspaceMemoryRegion.LAYOUT, "guest_phys_addr", 8);
        assertOffset(UserspaceMemoryRegion.LAYOUT, "memory_size", 16);
        assertOffset(UserspaceMemoryRegion.LAYOUT, "userspace_addr", 24);
        assertEquals(8, UserspaceMemoryRegion.GUEST_PHYS_ADDR_OFFSET);
        assertEquals(16, UserspaceMemoryRegion.MEMORY_SIZE_OFFSET);
        assertEquals(24, UserspaceMemoryRegion.USERSPACE_ADDR_OFFSET);
    }

    @Test
    void irqfdIs32BytesWithFdGsiFlagsResamplefd() {
        assertSize(Irqfd.LAYOUT, 32);
        assertEquals(32, Irqfd.SIZE);
        assertOffset(Irqfd.LAYOUT, "fd", 0);
        assertOffset(Irqfd.LAYOUT, "gsi", 4);
        assertOffset(Irqfd.LAYOUT, "flags", 8);
        assertOffset(Irqfd.LAYOUT, "resamplefd", 12);
        assertEquals(0, Irqfd.FD_OFFSET);
        assertEquals(4, Irqfd.GSI_OFFSET);
        assertEquals(8, Irqfd.FLAGS_OFFSET);
        assertEquals(12, Irqfd.RESAMPLEFD_OFFSET);
    }

    @Test
    void ioeventfdIs64BytesAndStartsWithTheSharedPrefix() {
        assertSize(Ioeventfd.LAYOUT, 64);
        assertEquals(64, Ioeventfd.SIZE);
        assertOffset(Ioeventfd.LAYOUT, "datamatch", AbstractVirtualMachine.IOEVENTFD_DATAMATCH_OFFSET);
        assertOffset(Ioeventfd.LAYOUT, "addr", AbstractVirtualMachine.IOEVENTFD_ADDR_OFFSET);
        assertOffset(Ioeventfd.LAYOUT, "len", AbstractVirtualMachine.IOEVENTFD_LEN_OFFSET);
        assertOffset(Ioeventfd.LAYOUT, "fd", AbstractVirtualMachine.IOEVENTFD_FD_OFFSET);
        assertOffset(Ioeventfd.LAYOUT, "flags", AbstractVirtualMachine.IOEVENTFD_FLAGS_OFFSET);
        assertEquals(0, Ioeventfd.DATAMATCH_OFFSET);
        assertEquals(8, Ioeventfd.ADDR_OFFSET);
        assertEquals(16, Ioeventfd.LEN_OFFSET);
        assertEquals(20, Ioeventfd.FD_OFFSET);
        assertEquals(24, Ioeventfd.FLAGS_OFFSET);
    }

    @Test
    void irqRoutingIsAn8ByteHeaderOf48ByteEntries() {
        assertSize(IrqRouting.LAYOUT, 8);
        assertEquals(8, IrqRouting.ENTRIES_OFFSET);
        assertOffset(IrqRouting.LAYOUT, "nr", IrqRouting.NR_OFFSET);
        assertOffset(IrqRouting.LAYOUT, "flags", IrqRouting.FLAGS_OFFSET);
        assertSize(IrqRoutingEntry.LAYOUT, 48);
        assertEquals(48, IrqRoutingEntry.SIZE);
        assertOffset(IrqRoutingEntry.LAYOUT, "gsi", 0);
        assertOffset(IrqRoutingEntry.LAYOUT, "type", 4);
        assertOffset(IrqRoutingEntry.LAYOUT, "flags", 8);
        assertOffset(IrqRoutingEntry.LAYOUT, "msi.address_lo", 16);
        assertOffset(IrqRoutingEntry.LAYOUT, "msi.address_hi", 20);
        assertOffset(IrqRoutingEntry.LAYOUT, "msi.data", 24);
        assertEquals(16, IrqRoutingEntry.MSI_ADDRESS_LO_OFFSET);
        assertEquals(20, IrqRoutingEntry.MSI_ADDRESS_HI_OFFSET);
        assertEquals(24, IrqRoutingEntry.MSI_DATA_OFFSET);
    }

    @Test
    void x86RegistersAndSegmentsMatchAsmKvmH() {
        assertSize(Regs.LAYOUT, 144);
        assertOffset(Regs.LAYOUT, "rip", Regs.RIP_OFFSET);
        assertOffset(Regs.LAYOUT, "rflags", Regs.RFLAGS_OFFSET);
        assertEquals(128, Regs.RIP_OFFSET);
        assertSize(Segment.LAYOUT, 24);
        assertOffset(Segment.LAYOUT, "limit", 8);
        assertOffset(Segment.LAYOUT, "selector", 12);
        assertOffset(Segment.LAYOUT, "type", 14);
        assertOffset(Segment.LAYOUT, "present", Segment.PRESENT_OFFSET);
        assertOffset(Segment.LAYOUT, "db", Segment.DB_OFFSET);
        assertOffset(Segment.LAYOUT, "g", Segment.G_OFFSET);
        assertOffset(Segment.LAYOUT, "unusable", 22);
        assertEquals(22, Segment.UNUSABLE_OFFSET);
        assertSize(Sregs.LAYOUT, 312);
        assertEquals(312, Sregs.SIZE);
        assertOffset(Sregs.LAYOUT, "ds", 24);
        assertOffset(Sregs.LAYOUT, "ss", 120);
        assertOffset(Sregs.LAYOUT, "tr", 144);
        assertOffset(Sregs.LAYOUT, "gdt", 192);
        assertOffset(Sregs.LAYOUT, "cr0", 224);
        assertOffset(Sregs.LAYOUT, "efer", 264);
        assertOffset(Sregs.LAYOUT, "interrupt_bitmap", 280);
        assertEquals(Sregs.DS_OFFSET, 24);
        assertEquals(Sregs.SS_OFFSET, 120);
        assertEquals(Sregs.CR0_OFFSET, 224);
    }

    @Test
    void mpStateIsOneU32() {
        assertSize(MpState.LAYOUT, 4);
        assertOffset(MpState.LAYOUT, "mp_state", MpState.MP_STATE_OFFSET);
    }

    @Test
    void kvmRunHeadAndTheIoAndMmioArms() {
        assertSize(Run.HEAD, 32);
        assertOffset(Run.HEAD, "immediate_exit", 1);
        assertOffset(Run.HEAD, "exit_reason", 8);
        assertEquals(1, Run.IMMEDIATE_EXIT_OFFSET);
        assertEquals(8, Run.EXIT_REASON_OFFSET);
        assertEquals(32, Run.UNION_OFFSET);
        assertSize(Run.IO, 16);
        assertOffset(Run.IO, "port", Run.IO_PORT_OFFSET - Run.UNION_OFFSET);
        assertOffset(Run.IO, "count", Run.IO_COUNT_OFFSET - Run.UNION_OFFSET);
        assertOffset(Run.IO, "data_offset", Run.IO_DATA_OFFSET_OFFSET - Run.UNION_OFFSET);
        assertEquals(34, Run.IO_PORT_OFFSET);
        assertEquals(40, Run.IO_DATA_OFFSET_OFFSET);
        assertOffset(Run.MMIO, "data", Run.MMIO_DATA_OFFSET - Run.UNION_OFFSET);
        assertOffset(Run.MMIO, "len", Run.MMIO_LEN_OFFSET - Run.UNION_OFFSET);
        assertOffset(Run.MMIO, "is_write", Run.MMIO_IS_WRITE_OFFSET - Run.UNION_OFFSET);
        assertEquals(52, Run.MMIO_IS_WRITE_OFFSET);
    }

    @Test
    void requestNumbersAreTheHeaders() {
        assertEquals(0xAE00L, KVM_GET_API_VERSION, "_IO(KVMIO, 0x00)");
        assertEquals(0xAE01L, KVM_CREATE_VM, "_IO(KVMIO, 0x01)");
        assertEquals(0xAE03L, KVM_CHECK_EXTENSION, "_IO(KVMIO, 0x03)");
        assertEquals(0xAE04L, KVM_GET_VCPU_MMAP_SIZE, "_IO(KVMIO, 0x04)");
        assertEquals(0xAE41L, KVM_CREATE_VCPU, "_IO(KVMIO, 0x41)");
        assertEquals(0x4020AE46L, KVM_SET_USER_MEMORY_REGION, "_IOW(KVMIO, 0x46, struct kvm_userspace_memory_region)");
        assertEquals(0xAE60L, KVM_CREATE_IRQCHIP, "_IO(KVMIO, 0x60)");
        assertEquals(0x4008AE6AL, KVM_SET_GSI_ROUTING, "_IOW(KVMIO, 0x6a, struct kvm_irq_routing)");
        assertEquals(0x4020AE76L, KVM_IRQFD, "_IOW(KVMIO, 0x76, struct kvm_irqfd)");
        assertEquals(0x4040AE79L, KVM_IOEVENTFD, "_IOW(KVMIO, 0x79, struct kvm_ioeventfd)");
        assertEquals(0xAE80L, KVM_RUN, "_IO(KVMIO, 0x80)");
        assertEquals(0x8090AE81L, KVM_GET_REGS, "_IOR(KVMIO, 0x81, struct kvm_regs)");
        assertEquals(0x4090AE82L, KVM_SET_REGS, "_IOW(KVMIO, 0x82, struct kvm_regs)");
        assertEquals(0x8138AE83L, KVM_GET_SREGS, "_IOR(KVMIO, 0x83, struct kvm_sregs)");
        assertEquals(0x4138AE84L, KVM_SET_SREGS, "_IOW(KVMIO, 0x84, struct kvm_sregs)");
        assertEquals(0x4004AE99L, KVM_SET_MP_STATE, "_IOW(KVMIO, 0x99, struct kvm_mp_state)");
    }

    @Test
    void flagBitsAgreeWithTheSharedWiring() {
        assertEquals(KVM_IRQFD_FLAG_DEASSIGN, AbstractVirtualMachine.IRQFD_FLAG_DEASSIGN);
        assertEquals(KVM_IRQFD_FLAG_RESAMPLE, AbstractVirtualMachine.IRQFD_FLAG_RESAMPLE);
        assertEquals(KVM_IOEVENTFD_FLAG_DATAMATCH, AbstractVirtualMachine.IOEVENTFD_FLAG_DATAMATCH);
        assertEquals(KVM_IOEVENTFD_FLAG_PIO, AbstractVirtualMachine.IOEVENTFD_FLAG_PIO);
        assertEquals(KVM_IOEVENTFD_FLAG_DEASSIGN, AbstractVirtualMachine.IOEVENTFD_FLAG_DEASSIGN);
    }
}
