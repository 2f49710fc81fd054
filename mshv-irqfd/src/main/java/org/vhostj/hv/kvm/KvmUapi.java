package org.vhostj.hv.kvm;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;

import org.vhostj.hv.Ioctl;

/**
 * The parts of {@code include/uapi/linux/kvm.h} and x86's {@code asm/kvm.h} this package uses: ioctl
 * requests (computed from the struct sizes, checked against the header's values in KvmUapiLayoutTest),
 * capabilities, exit reasons, and one layout per C struct with the C text beside it.
 */
public final class KvmUapi {
    private KvmUapi() {}

    public static final int KVMIO = 0xAE;
    /** KVM_GET_API_VERSION has returned 12 since Linux 2.6.22; anything else is not the API described here. */
    public static final int API_VERSION = 12;

    // ---- capabilities (KVM_CHECK_EXTENSION) -----------------------------------------------------------
    public static final int KVM_CAP_IRQCHIP = 0, KVM_CAP_USER_MEMORY = 3, KVM_CAP_IRQ_ROUTING = 25,
            KVM_CAP_IRQFD = 32, KVM_CAP_IOEVENTFD = 36, KVM_CAP_IRQFD_RESAMPLE = 82,
            KVM_CAP_IOEVENTFD_ANY_LENGTH = 122, KVM_CAP_IMMEDIATE_EXIT = 136;

    // ---- exit reasons (kvm_run.exit_reason) ----------------------------------------------------------
    public static final int KVM_EXIT_UNKNOWN = 0, KVM_EXIT_EXCEPTION = 1, KVM_EXIT_IO = 2, KVM_EXIT_HLT = 5,
            KVM_EXIT_MMIO = 6, KVM_EXIT_SHUTDOWN = 8, KVM_EXIT_FAIL_ENTRY = 9, KVM_EXIT_INTR = 10,
            KVM_EXIT_INTERNAL_ERROR = 17;
    public static final int KVM_EXIT_IO_IN = 0, KVM_EXIT_IO_OUT = 1;

    /** kvm_mp_state.mp_state: RUNNABLE; a non-boot vcpu of a VM with an in-kernel LAPIC starts UNINITIALIZED. */
    public static final int KVM_MP_STATE_RUNNABLE = 0, KVM_MP_STATE_UNINITIALIZED = 1;

    public static final int KVM_IRQ_ROUTING_IRQCHIP = 1, KVM_IRQ_ROUTING_MSI = 2;
    public static final int KVM_IRQFD_FLAG_DEASSIGN = 1 << 0, KVM_IRQFD_FLAG_RESAMPLE = 1 << 1;
    /** enum { kvm_ioeventfd_flag_nr_datamatch, _pio, _deassign, _virtio_ccw_notify, ... } as bits. */
    public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1 << 0, KVM_IOEVENTFD_FLAG_PIO = 1 << 1,
            KVM_IOEVENTFD_FLAG_DEASSIGN = 1 << 2;

    /**
     * <pre>
     * struct kvm_userspace_memory_region {
     *     __u32 slot;
     *     __u32 flags;
     *     __u64 guest_phys_addr;
     *     __u64 memory_size;     // bytes
     *     __u64 userspace_addr;  // start of the userspace allocated memory
     * };
     * </pre>
     */
    public static final class UserspaceMemoryRegion {
        private UserspaceMemoryRegion() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("slot"), JAVA_INT.withName("flags"),
                JAVA_LONG.withName("guest_phys_addr"), JAVA_LONG.withName("memory_size"), JAVA_LONG.withName("userspace_addr"));
        public static final long SIZE = 32, SLOT_OFFSET = 0, FLAGS_OFFSET = 4, GUEST_PHYS_ADDR_OFFSET = 8,
                MEMORY_SIZE_OFFSET = 16, USERSPACE_ADDR_OFFSET = 24;
    }

    /**
     * <pre>
     * struct kvm_irqfd {
     *     __u32 fd;
     *     __u32 gsi;
     *     __u32 flags;
     *     __u32 resamplefd;
     *     __u8  pad[16];
     * };
     * </pre>
     */
    public static final class Irqfd {
        private Irqfd() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("fd"), JAVA_INT.withName("gsi"),
                JAVA_INT.withName("flags"), JAVA_INT.withName("resamplefd"), paddingLayout(16));
        public static final long SIZE = 32, FD_OFFSET = 0, GSI_OFFSET = 4, FLAGS_OFFSET = 8, RESAMPLEFD_OFFSET = 12;
    }

    /**
     * <pre>
     * struct kvm_ioeventfd {
     *     __u64 datamatch;
     *     __u64 addr;        // legal pio/mmio address
     *     __u32 len;         // 1, 2, 4, or 8 bytes; or 0 to ignore length
     *     __s32 fd;
     *     __u32 flags;
     *     __u8  pad[36];
     * };
     * </pre>
     */
    public static final class Ioeventfd {
        private Ioeventfd() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_LONG.withName("datamatch"), JAVA_LONG.withName("addr"),
                JAVA_INT.withName("len"), JAVA_INT.withName("fd"), JAVA_INT.withName("flags"), paddingLayout(36));
        public static final long SIZE = 64, DATAMATCH_OFFSET = 0, ADDR_OFFSET = 8, LEN_OFFSET = 16, FD_OFFSET = 20,
                FLAGS_OFFSET = 24;
    }

    /**
     * <pre>
     * struct kvm_irq_routing_msi {          // the MSI arm of the entry's union
     *     __u32 address_lo;
     *     __u32 address_hi;
     *     __u32 data;
     *     union { __u32 pad; __u32 devid; };
     * };
     * struct kvm_irq_routing_entry {
     *     __u32 gsi;
     *     __u32 type;                       // KVM_IRQ_ROUTING_MSI = 2
     *     __u32 flags;
     *     __u32 pad;
     *     union { ...; struct kvm_irq_routing_msi msi; ...; __u32 pad[8]; } u;
     * };
     * </pre>
     */
    public static final class IrqRoutingEntry {
        private IrqRoutingEntry() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("gsi"), JAVA_INT.withName("type"),
                JAVA_INT.withName("flags"), JAVA_INT.withName("pad"),
                structLayout(JAVA_INT.withName("address_lo"), JAVA_INT.withName("address_hi"), JAVA_INT.withName("data"),
                        JAVA_INT.withName("devid"), paddingLayout(16)).withName("msi"));
        public static final long SIZE = 48, GSI_OFFSET = 0, TYPE_OFFSET = 4, FLAGS_OFFSET = 8,
                MSI_ADDRESS_LO_OFFSET = 16, MSI_ADDRESS_HI_OFFSET = 20, MSI_DATA_OFFSET = 24;
    }

    /**
     * <pre>
     * struct kvm_irq_routing {
     *     __u32 nr;
     *     __u32 flags;
     *     struct kvm_irq_routing_entry entries[];
     * };
     * </pre>
     */
    public static final class IrqRouting {
        private IrqRouting() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("nr"), JAVA_INT.withName("flags"));
        public static final long SIZE = 8, NR_OFFSET = 0, FLAGS_OFFSET = 4, ENTRIES_OFFSET = 8;
    }

    /**
     * <pre>
     * struct kvm_regs {                    // x86
     *     __u64 rax, rbx, rcx, rdx;
     *     __u64 rsi, rdi, rsp, rbp;
     *     __u64 r8,  r9,  r10, r11;
     *     __u64 r12, r13, r14, r15;
     *     __u64 rip, rflags;
     * };
     * </pre>
     */
    public static final class Regs {
        private Regs() {}
        public static final StructLayout LAYOUT = structLayout(sequenceLayout(16, JAVA_LONG).withName("gprs"),
                JAVA_LONG.withName("rip"), JAVA_LONG.withName("rflags"));
        public static final long SIZE = 144, RAX_OFFSET = 0, RCX_OFFSET = 16, RDX_OFFSET = 24, RIP_OFFSET = 128,
                RFLAGS_OFFSET = 136;
    }

    /**
     * <pre>
     * struct kvm_segment {                 // x86
     *     __u64 base;
     *     __u32 limit;
     *     __u16 selector;
     *     __u8  type;
     *     __u8  present, dpl, db, s, l, g, avl;
     *     __u8  unusable;
     *     __u8  padding;
     * };
     * </pre>
     */
    public static final class Segment {
        private Segment() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_LONG.withName("base"), JAVA_INT.withName("limit"),
                JAVA_SHORT.withName("selector"), JAVA_BYTE.withName("type"), JAVA_BYTE.withName("present"),
                JAVA_BYTE.withName("dpl"), JAVA_BYTE.withName("db"), JAVA_BYTE.withName("s"), JAVA_BYTE.withName("l"),
                JAVA_BYTE.withName("g"), JAVA_BYTE.withName("avl"), JAVA_BYTE.withName("unusable"), paddingLayout(1));
        public static final long SIZE = 24, BASE_OFFSET = 0, LIMIT_OFFSET = 8, SELECTOR_OFFSET = 12, TYPE_OFFSET = 14,
                PRESENT_OFFSET = 15, DPL_OFFSET = 16, DB_OFFSET = 17, S_OFFSET = 18, L_OFFSET = 19, G_OFFSET = 20,
                AVL_OFFSET = 21, UNUSABLE_OFFSET = 22;
    }

    /**
     * <pre>
     * struct kvm_dtable { __u64 base; __u16 limit; __u16 padding[3]; };
     * struct kvm_sregs {                   // x86
     *     struct kvm_segment cs, ds, es, fs, gs, ss;
     *     struct kvm_segment tr, ldt;
     *     struct kvm_dtable gdt, idt;
     *     __u64 cr0, cr2, cr3, cr4, cr8;
     *     __u64 efer;
     *     __u64 apic_base;
     *     __u64 interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64];   // KVM_NR_INTERRUPTS = 256
     * };
     * </pre>
     */
    public static final class Sregs {
        private Sregs() {}
        private static final StructLayout DTABLE = structLayout(JAVA_LONG.withName("base"), JAVA_SHORT.withName("limit"),
                paddingLayout(6));
        public static final StructLayout LAYOUT = structLayout(
                Segment.LAYOUT.withName("cs"), Segment.LAYOUT.withName("ds"), Segment.LAYOUT.withName("es"),
                Segment.LAYOUT.withName("fs"), Segment.LAYOUT.withName("gs"), Segment.LAYOUT.withName("ss"),
                Segment.LAYOUT.withName("tr"), Segment.LAYOUT.withName("ldt"),
                DTABLE.withName("gdt"), DTABLE.withName("idt"),
                JAVA_LONG.withName("cr0"), JAVA_LONG.withName("cr2"), JAVA_LONG.withName("cr3"), JAVA_LONG.withName("cr4"),
                JAVA_LONG.withName("cr8"), JAVA_LONG.withName("efer"), JAVA_LONG.withName("apic_base"),
                sequenceLayout(4, JAVA_LONG).withName("interrupt_bitmap"));
        public static final long SIZE = 312, CS_OFFSET = 0, DS_OFFSET = 24, ES_OFFSET = 48, FS_OFFSET = 72,
                GS_OFFSET = 96, SS_OFFSET = 120, TR_OFFSET = 144, LDT_OFFSET = 168, GDT_OFFSET = 192, IDT_OFFSET = 208,
                CR0_OFFSET = 224, CR4_OFFSET = 248, EFER_OFFSET = 264;
    }

    /**
     * <pre>
     * struct kvm_mp_state {
     *     __u32 mp_state;
     * };
     * </pre>
     */
    public static final class MpState {
        private MpState() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("mp_state"));
        public static final long SIZE = 4, MP_STATE_OFFSET = 0;
    }

    /**
     * The head of the mmapped {@code struct kvm_run} and the union arms this package reads. The mapping is
     * KVM_GET_VCPU_MMAP_SIZE bytes; the union starts at 32 on x86 and arm64 (no s390 psw fields).
     * <pre>
     * struct kvm_run {
     *     __u8 request_interrupt_window;   // in
     *     __u8 immediate_exit;             // in: KVM_RUN returns -EINTR at once when set
     *     __u8 padding1[6];
     *     __u32 exit_reason;               // out
     *     __u8 ready_for_interrupt_injection;
     *     __u8 if_flag;
     *     __u16 flags;
     *     __u64 cr8;
     *     __u64 apic_base;
     *     union {
     *         struct { __u64 hardware_exit_reason; } hw;                              // KVM_EXIT_UNKNOWN
     *         struct { __u64 hardware_entry_failure_reason; __u32 cpu; } fail_entry;  // KVM_EXIT_FAIL_ENTRY
     *         struct { __u32 exception; __u32 error_code; } ex;                       // KVM_EXIT_EXCEPTION
     *         struct { __u8 direction; __u8 size; __u16 port; __u32 count;
     *                  __u64 data_offset; } io;            // KVM_EXIT_IO; data at run + data_offset
     *         struct { __u64 phys_addr; __u8 data[8]; __u32 len; __u8 is_write; } mmio;  // KVM_EXIT_MMIO
     *         struct { __u32 suberror; __u32 ndata; __u64 data[16]; } internal;       // KVM_EXIT_INTERNAL_ERROR
     *         ...
     *     };
     *     ...
     * };
     * </pre>
     */
    public static final class Run {
        private Run() {}
        public static final StructLayout HEAD = structLayout(JAVA_BYTE.withName("request_interrupt_window"),
                JAVA_BYTE.withName("immediate_exit"), paddingLayout(6), JAVA_INT.withName("exit_reason"),
                JAVA_BYTE.withName("ready_for_interrupt_injection"), JAVA_BYTE.withName("if_flag"),
                JAVA_SHORT.withName("flags"), JAVA_LONG.withName("cr8"), JAVA_LONG.withName("apic_base"));
        public static final StructLayout IO = structLayout(JAVA_BYTE.withName("direction"), JAVA_BYTE.withName("size"),
                JAVA_SHORT.withName("port"), JAVA_INT.withName("count"), JAVA_LONG.withName("data_offset"));
        public static final StructLayout MMIO = structLayout(JAVA_LONG.withName("phys_addr"),
                sequenceLayout(8, JAVA_BYTE).withName("data"), JAVA_INT.withName("len"), JAVA_BYTE.withName("is_write"),
                paddingLayout(3));
        public static final long HEAD_SIZE = 32, IMMEDIATE_EXIT_OFFSET = 1, EXIT_REASON_OFFSET = 8, UNION_OFFSET = 32;
        public static final long IO_DIRECTION_OFFSET = 32, IO_SIZE_OFFSET = 33, IO_PORT_OFFSET = 34, IO_COUNT_OFFSET = 36,
                IO_DATA_OFFSET_OFFSET = 40;
        public static final long MMIO_PHYS_ADDR_OFFSET = 32, MMIO_DATA_OFFSET = 40, MMIO_LEN_OFFSET = 48,
                MMIO_IS_WRITE_OFFSET = 52;
        public static final long HW_EXIT_REASON_OFFSET = 32, FAIL_ENTRY_REASON_OFFSET = 32, EXCEPTION_OFFSET = 32,
                INTERNAL_SUBERROR_OFFSET = 32;
    }

    // ---- ioctl requests --------------------------------------------------------------------------------
    /** On /dev/kvm. */
    public static final long KVM_GET_API_VERSION = Ioctl.io(KVMIO, 0x00), KVM_CREATE_VM = Ioctl.io(KVMIO, 0x01),
            KVM_CHECK_EXTENSION = Ioctl.io(KVMIO, 0x03), KVM_GET_VCPU_MMAP_SIZE = Ioctl.io(KVMIO, 0x04);
    /** On a VM fd. */
    public static final long KVM_CREATE_VCPU = Ioctl.io(KVMIO, 0x41),
            KVM_SET_USER_MEMORY_REGION = Ioctl.iow(KVMIO, 0x46, UserspaceMemoryRegion.SIZE),
            KVM_CREATE_IRQCHIP = Ioctl.io(KVMIO, 0x60),
            KVM_SET_GSI_ROUTING = Ioctl.iow(KVMIO, 0x6a, IrqRouting.SIZE),
            KVM_IRQFD = Ioctl.iow(KVMIO, 0x76, Irqfd.SIZE),
            KVM_IOEVENTFD = Ioctl.iow(KVMIO, 0x79, Ioeventfd.SIZE);
    /** On a vcpu fd. */
    public static final long KVM_RUN = Ioctl.io(KVMIO, 0x80),
            KVM_GET_REGS = Ioctl.ior(KVMIO, 0x81, Regs.SIZE), KVM_SET_REGS = Ioctl.iow(KVMIO, 0x82, Regs.SIZE),
            KVM_GET_SREGS = Ioctl.ior(KVMIO, 0x83, Sregs.SIZE), KVM_SET_SREGS = Ioctl.iow(KVMIO, 0x84, Sregs.SIZE),
            KVM_SET_MP_STATE = Ioctl.iow(KVMIO, 0x99, MpState.SIZE);

    /** A readable name for an exit reason, for failure messages. */
    public static String exitName(int reason) {
        return switch (reason) {
            case KVM_EXIT_UNKNOWN -> "KVM_EXIT_UNKNOWN"; case KVM_EXIT_EXCEPTION -> "KVM_EXIT_EXCEPTION";
            case KVM_EXIT_IO -> "KVM_EXIT_IO"; case KVM_EXIT_HLT -> "KVM_EXIT_HLT"; case KVM_EXIT_MMIO -> "KVM_EXIT_MMIO";
            case KVM_EXIT_SHUTDOWN -> "KVM_EXIT_SHUTDOWN"; case KVM_EXIT_FAIL_ENTRY -> "KVM_EXIT_FAIL_ENTRY";
            case KVM_EXIT_INTR -> "KVM_EXIT_INTR"; case KVM_EXIT_INTERNAL_ERROR -> "KVM_EXIT_INTERNAL_ERROR";
            default -> "exit reason " + reason;
        };
    }
}
