package org.vhostj.blk;

/**
 * virtio-blk wire constants (virtio 1.2 section 5.2; linux/virtio_blk.h), shared by the device and by the
 * harness's driver. Little-endian.
 * <pre>
 * struct virtio_blk_outhdr { le32 type @0; le32 ioprio @4; le64 sector @8; }            // 16 bytes
 * ...data...; u8 status (last device-writable byte)
 * struct virtio_blk_discard_write_zeroes { le64 sector @0; le32 num_sectors @8; le32 flags @12; } // 16
 * struct virtio_blk_config {
 *   le64 capacity @0; le32 size_max @8; le32 seg_max @12; geometry {le16 cyl; u8 heads; u8 sectors} @16;
 *   le32 blk_size @20; u8 physical_block_exp @24; u8 alignment_offset @25; le16 min_io_size @26;
 *   le32 opt_io_size @28; u8 wce @32; u8 unused @33; le16 num_queues @34;
 *   le32 max_discard_sectors @36; le32 max_discard_seg @40; le32 discard_sector_alignment @44;
 *   le32 max_write_zeroes_sectors @48; le32 max_write_zeroes_seg @52; u8 write_zeroes_may_unmap @56;
 *   u8 unused1[3] @57; le32 max_secure_erase_sectors @60; le32 max_secure_erase_seg @64;
 *   le32 secure_erase_sector_alignment @68; }                                            // 72 bytes
 * </pre>
 */
public final class VirtioBlk {
    private VirtioBlk() {}

    public static final int DEVICE_TYPE = 2;
    public static final int SECTOR_SIZE = 512, SECTOR_SHIFT = 9;
    /** GET_ID answers with up to 20 bytes of serial. */
    public static final int ID_BYTES = 20;

    // feature bits
    public static final int F_SIZE_MAX = 1, F_SEG_MAX = 2, F_GEOMETRY = 4, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9,
            F_TOPOLOGY = 10, F_CONFIG_WCE = 11, F_MQ = 12, F_DISCARD = 13, F_WRITE_ZEROES = 14, F_SECURE_ERASE = 16;

    // request types
    public static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_GET_LIFETIME = 10, T_DISCARD = 11,
            T_WRITE_ZEROES = 13, T_SECURE_ERASE = 14;

    // status
    public static final byte S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;

    public static final int OUTHDR_SIZE = 16, OUTHDR_TYPE_OFFSET = 0, OUTHDR_IOPRIO_OFFSET = 4, OUTHDR_SECTOR_OFFSET = 8;

    public static final int DISCARD_SEGMENT_SIZE = 16, DISCARD_SECTOR_OFFSET = 0, DISCARD_NUM_SECTORS_OFFSET = 8,
            DISCARD_FLAGS_OFFSET = 12;
    /** write-zeroes segment flag: the device may deallocate (unmap) the range. */
    public static final int WRITE_ZEROES_FLAG_UNMAP = 1;

    public static final int CONFIG_SIZE = 72, CONFIG_CAPACITY_OFFSET = 0, CONFIG_SIZE_MAX_OFFSET = 8,
            CONFIG_SEG_MAX_OFFSET = 12, CONFIG_GEOMETRY_OFFSET = 16, CONFIG_BLK_SIZE_OFFSET = 20,
            CONFIG_PHYSICAL_BLOCK_EXP_OFFSET = 24, CONFIG_ALIGNMENT_OFFSET_OFFSET = 25, CONFIG_MIN_IO_SIZE_OFFSET = 26,
            CONFIG_OPT_IO_SIZE_OFFSET = 28, CONFIG_WCE_OFFSET = 32, CONFIG_NUM_QUEUES_OFFSET = 34,
            CONFIG_MAX_DISCARD_SECTORS_OFFSET = 36, CONFIG_MAX_DISCARD_SEG_OFFSET = 40,
            CONFIG_DISCARD_SECTOR_ALIGNMENT_OFFSET = 44, CONFIG_MAX_WRITE_ZEROES_SECTORS_OFFSET = 48,
            CONFIG_MAX_WRITE_ZEROES_SEG_OFFSET = 52, CONFIG_WRITE_ZEROES_MAY_UNMAP_OFFSET = 56,
            CONFIG_MAX_SECURE_ERASE_SECTORS_OFFSET = 60, CONFIG_MAX_SECURE_ERASE_SEG_OFFSET = 64,
            CONFIG_SECURE_ERASE_SECTOR_ALIGNMENT_OFFSET = 68;
}
