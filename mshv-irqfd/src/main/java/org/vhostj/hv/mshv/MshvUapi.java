package org.vhostj.hv.mshv;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.StructLayout;

import org.vhostj.hv.Ioctl;

/**
 * The parts of {@code include/uapi/linux/mshv.h} (Linux mainline, the root-partition driver
 * drivers/hv/mshv_root*.c) used here, exactly as the header defines them: the flag bit enums, one layout per
 * C struct with the C text beside it, and the ioctl requests computed from the struct sizes (checked against
 * the header's values in MshvUapiLayoutTest).
 */
public final class MshvUapi {
    private MshvUapi() {}

    public static final int MSHV_IOCTL = 0xB8;

    /** enum { MSHV_PT_BIT_LAPIC, MSHV_PT_BIT_X2APIC, MSHV_PT_BIT_GPA_SUPER_PAGES, MSHV_PT_BIT_COUNT }. */
    public static final int MSHV_PT_BIT_LAPIC = 0, MSHV_PT_BIT_X2APIC = 1, MSHV_PT_BIT_GPA_SUPER_PAGES = 2;
    /** enum { MSHV_PT_ISOLATION_NONE, MSHV_PT_ISOLATION_COUNT }. */
    public static final int MSHV_PT_ISOLATION_NONE = 0;
    /** enum { MSHV_IRQFD_BIT_DEASSIGN, MSHV_IRQFD_BIT_RESAMPLE, MSHV_IRQFD_BIT_COUNT }. */
    public static final int MSHV_IRQFD_BIT_DEASSIGN = 0, MSHV_IRQFD_BIT_RESAMPLE = 1;
    /** enum { MSHV_IOEVENTFD_BIT_DATAMATCH, MSHV_IOEVENTFD_BIT_PIO, MSHV_IOEVENTFD_BIT_DEASSIGN, ..._COUNT }. */
    public static final int MSHV_IOEVENTFD_BIT_DATAMATCH = 0, MSHV_IOEVENTFD_BIT_PIO = 1, MSHV_IOEVENTFD_BIT_DEASSIGN = 2;

    /**
     * <pre>
     * struct mshv_create_partition {
     *     __u64 pt_flags;       // bitmask of 1 << MSHV_PT_BIT_*
     *     __u64 pt_isolation;   // MSHV_PT_ISOLATION_*
     * };
     * </pre>
     */
    public static final class CreatePartition {
        private CreatePartition() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_LONG.withName("pt_flags"), JAVA_LONG.withName("pt_isolation"));
        public static final long SIZE = 16, PT_FLAGS_OFFSET = 0, PT_ISOLATION_OFFSET = 8;
    }

    /**
     * <pre>
     * struct mshv_user_irqfd {
     *     __s32 fd;
     *     __s32 resamplefd;
     *     __u32 gsi;
     *     __u32 flags;          // bitmask of 1 << MSHV_IRQFD_BIT_*
     * };
     * </pre>
     */
    public static final class UserIrqfd {
        private UserIrqfd() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("fd"), JAVA_INT.withName("resamplefd"),
                JAVA_INT.withName("gsi"), JAVA_INT.withName("flags"));
        public static final long SIZE = 16, FD_OFFSET = 0, RESAMPLEFD_OFFSET = 4, GSI_OFFSET = 8, FLAGS_OFFSET = 12;
    }

    /**
     * <pre>
     * struct mshv_user_ioeventfd {
     *     __u64 datamatch;
     *     __u64 addr;           // legal pio/mmio address
     *     __u32 len;            // 1, 2, 4, or 8 bytes
     *     __s32 fd;
     *     __u32 flags;          // bitmask of 1 << MSHV_IOEVENTFD_BIT_*
     *     __u8  rsvd[4];        // must be zero (else EINVAL)
     * };
     * </pre>
     */
    public static final class UserIoeventfd {
        private UserIoeventfd() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_LONG.withName("datamatch"), JAVA_LONG.withName("addr"),
                JAVA_INT.withName("len"), JAVA_INT.withName("fd"), JAVA_INT.withName("flags"), paddingLayout(4));
        public static final long SIZE = 32, DATAMATCH_OFFSET = 0, ADDR_OFFSET = 8, LEN_OFFSET = 16, FD_OFFSET = 20,
                FLAGS_OFFSET = 24, RSVD_OFFSET = 28;
    }

    /**
     * <pre>
     * struct mshv_user_irq_entry {
     *     __u32 gsi;
     *     __u32 address_lo;
     *     __u32 address_hi;
     *     __u32 data;
     * };
     * </pre>
     */
    public static final class UserIrqEntry {
        private UserIrqEntry() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("gsi"), JAVA_INT.withName("address_lo"),
                JAVA_INT.withName("address_hi"), JAVA_INT.withName("data"));
        public static final long SIZE = 16, GSI_OFFSET = 0, ADDRESS_LO_OFFSET = 4, ADDRESS_HI_OFFSET = 8, DATA_OFFSET = 12;
    }

    /**
     * <pre>
     * struct mshv_user_irq_table {
     *     __u32 nr;
     *     __u32 rsvd;           // MBZ
     *     struct mshv_user_irq_entry entries[];
     * };
     * </pre>
     */
    public static final class UserIrqTable {
        private UserIrqTable() {}
        public static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("nr"), JAVA_INT.withName("rsvd"));
        public static final long SIZE = 8, NR_OFFSET = 0, RSVD_OFFSET = 4, ENTRIES_OFFSET = 8;
    }

    /** On /dev/mshv: {@code _IOW(MSHV_IOCTL, 0x00, struct mshv_create_partition)}. */
    public static final long MSHV_CREATE_PARTITION = Ioctl.iow(MSHV_IOCTL, 0x00, CreatePartition.SIZE);
    /** On a partition fd. */
    public static final long MSHV_INITIALIZE_PARTITION = Ioctl.io(MSHV_IOCTL, 0x00),
            MSHV_IRQFD = Ioctl.iow(MSHV_IOCTL, 0x03, UserIrqfd.SIZE),
            MSHV_IOEVENTFD = Ioctl.iow(MSHV_IOCTL, 0x04, UserIoeventfd.SIZE),
            MSHV_SET_MSI_ROUTING = Ioctl.iow(MSHV_IOCTL, 0x05, UserIrqTable.SIZE);
}
