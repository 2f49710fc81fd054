package org.vhostj.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Layout of {@code struct statx} (linux/stat.h), the same on every architecture, 256 bytes:
 * <pre>
 *   u32 mask @0, u32 blksize @4, u64 attributes @8, u32 nlink @16, u32 uid @20, u32 gid @24, u16 mode @28,
 *   u64 ino @32, u64 size @40, u64 blocks @48, u64 attributes_mask @56,
 *   statx_timestamp {s64 sec; u32 nsec; s32 pad} atime @64, btime @80, ctime @96, mtime @112,
 *   u32 rdev_major @128, rdev_minor @132, dev_major @136, dev_minor @140, u64 mnt_id @144
 * </pre>
 */
public final class Statx {
    private Statx() {}

    public static final long SIZE = 256;
    public static final int STATX_TYPE = 1, STATX_MODE = 2, STATX_NLINK = 4, STATX_UID = 8, STATX_GID = 0x10,
            STATX_ATIME = 0x20, STATX_MTIME = 0x40, STATX_CTIME = 0x80, STATX_INO = 0x100, STATX_SIZE = 0x200,
            STATX_BLOCKS = 0x400, STATX_BASIC_STATS = 0x7ff, STATX_BTIME = 0x800, STATX_MNT_ID = 0x1000;
    public static final long BLKSIZE_OFFSET = 4, NLINK_OFFSET = 16, UID_OFFSET = 20, GID_OFFSET = 24,
            MODE_OFFSET = 28, INO_OFFSET = 32, SIZE_OFFSET = 40, BLOCKS_OFFSET = 48, ATIME_OFFSET = 64,
            BTIME_OFFSET = 80, CTIME_OFFSET = 96, MTIME_OFFSET = 112, RDEV_MAJOR_OFFSET = 128,
            RDEV_MINOR_OFFSET = 132, DEV_MAJOR_OFFSET = 136, DEV_MINOR_OFFSET = 140, MNT_ID_OFFSET = 144;

    public static int mask(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, 0); }
    public static int blksize(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, BLKSIZE_OFFSET); }
    public static int nlink(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, NLINK_OFFSET); }
    public static int uid(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, UID_OFFSET); }
    public static int gid(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, GID_OFFSET); }
    public static int mode(MemorySegment s) { return Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT, MODE_OFFSET)); }
    public static long ino(MemorySegment s) { return s.get(ValueLayout.JAVA_LONG, INO_OFFSET); }
    public static long size(MemorySegment s) { return s.get(ValueLayout.JAVA_LONG, SIZE_OFFSET); }
    public static long blocks(MemorySegment s) { return s.get(ValueLayout.JAVA_LONG, BLOCKS_OFFSET); }
    public static long seconds(MemorySegment s, long timestampOffset) { return s.get(ValueLayout.JAVA_LONG, timestampOffset); }
    public static int nanos(MemorySegment s, long timestampOffset) { return s.get(ValueLayout.JAVA_INT, timestampOffset + 8); }
    public static int rdevMajor(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, RDEV_MAJOR_OFFSET); }
    public static int rdevMinor(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, RDEV_MINOR_OFFSET); }
    public static int devMajor(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, DEV_MAJOR_OFFSET); }
    public static int devMinor(MemorySegment s) { return s.get(ValueLayout.JAVA_INT, DEV_MINOR_OFFSET); }
    public static long mntId(MemorySegment s) { return s.get(ValueLayout.JAVA_LONG, MNT_ID_OFFSET); }
}
