package org.vhostj.vhost.protocol;

/**
 * Payload layouts of vhost-user.rst (native byte order, offsets from the payload start).
 * <pre>
 * u64                        8
 * vring state    { u32 index; u32 num; }                                              8
 * vring addr     { u32 index; u32 flags; u64 desc; u64 used; u64 avail; u64 log; }   40
 * memory region  { u64 guest_addr; u64 size; u64 user_addr; u64 mmap_offset; }        32
 * memory table   { u32 nregions; u32 padding; region[nregions] }                   8+32n
 * single region  { u64 padding; region }                                             40
 * log            { u64 size; u64 offset; }                                           16
 * config         { u32 offset; u32 size; u32 flags; u8 payload[size] }            12+size
 * inflight       { u64 mmap_size; u64 mmap_offset; u16 num_queues; u16 queue_size; } 24 (20 packed)
 * vring area     { u64 index_and_flags; u64 size; u64 offset; }                      24
 * </pre>
 */
public final class Payloads {
    private Payloads() {}

    public static final int U64_SIZE = 8;

    public static final int VRING_STATE_SIZE = 8, VRING_STATE_INDEX_OFFSET = 0, VRING_STATE_NUM_OFFSET = 4;

    public static final int VRING_ADDR_SIZE = 40, VRING_ADDR_INDEX_OFFSET = 0, VRING_ADDR_FLAGS_OFFSET = 4,
            VRING_ADDR_DESC_OFFSET = 8, VRING_ADDR_USED_OFFSET = 16, VRING_ADDR_AVAIL_OFFSET = 24,
            VRING_ADDR_LOG_OFFSET = 32;
    /** vring addr flag: log writes to the used ring at log_guest_addr. */
    public static final int VRING_F_LOG = 1;

    public static final int REGION_SIZE = 32, REGION_GPA_OFFSET = 0, REGION_SIZE_OFFSET = 8,
            REGION_FRONTEND_VA_OFFSET = 16, REGION_MMAP_OFFSET_OFFSET = 24;
    public static final int MEM_TABLE_HEADER_SIZE = 8, MAX_MEM_TABLE_REGIONS = 8;
    public static final int SINGLE_REGION_SIZE = 40, SINGLE_REGION_OFFSET = 8;

    public static final int LOG_SIZE = 16, LOG_SIZE_OFFSET = 0, LOG_OFFSET_OFFSET = 8;

    public static final int CONFIG_HEADER_SIZE = 12, CONFIG_OFFSET_OFFSET = 0, CONFIG_SIZE_OFFSET = 4,
            CONFIG_FLAGS_OFFSET = 8, CONFIG_MAX_SIZE = 256;
    /** config flags: 0 a writable field from the driver, 1 live migration (may write read-only fields). */
    public static final int CONFIG_FLAG_MIGRATION = 1;

    public static final int INFLIGHT_SIZE = 24, INFLIGHT_PACKED_SIZE = 20, INFLIGHT_MMAP_SIZE_OFFSET = 0,
            INFLIGHT_MMAP_OFFSET_OFFSET = 8, INFLIGHT_NUM_QUEUES_OFFSET = 16, INFLIGHT_QUEUE_SIZE_OFFSET = 18;

    public static final int VRING_AREA_SIZE = 24;

    /** SET_VRING_KICK/CALL/ERR u64: bits 0-7 ring index, bit 8 "no fd: poll instead". */
    public static final long VRING_INDEX_MASK = 0xff, VRING_NOFD_MASK = 0x100;
}
