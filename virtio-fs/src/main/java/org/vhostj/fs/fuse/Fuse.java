package org.vhostj.fs.fuse;

/**
 * FUSE wire protocol constants (linux/fuse.h, protocol 7.38), shared by the virtio-fs device (decoding) and
 * the harness's FUSE client (encoding). All structs are little-endian with natural 64-bit alignment.
 * <pre>
 * fuse_in_header  { u32 len @0; u32 opcode @4; u64 unique @8; u64 nodeid @16; u32 uid @24; u32 gid @28;
 *                   u32 pid @32; u16 total_extlen @36; u16 padding @38; }                          40
 * fuse_out_header { u32 len @0; i32 error @4; u64 unique @8; }                                      16
 * fuse_attr       { u64 ino @0, size @8, blocks @16, atime @24, mtime @32, ctime @40;
 *                   u32 atimensec @48, mtimensec @52, ctimensec @56, mode @60, nlink @64, uid @68,
 *                   gid @72, rdev @76, blksize @80, flags @84; }                                     88
 * fuse_entry_out  { u64 nodeid @0, generation @8, entry_valid @16, attr_valid @24;
 *                   u32 entry_valid_nsec @32, attr_valid_nsec @36; fuse_attr attr @40; }           128
 * fuse_attr_out   { u64 attr_valid @0; u32 attr_valid_nsec @8; u32 dummy @12; fuse_attr attr @16; } 104
 * fuse_init_in    { u32 major @0, minor @4, max_readahead @8, flags @12, flags2 @16; u32 unused[11]; } 64
 * fuse_init_out   { u32 major @0, minor @4, max_readahead @8, flags @12; u16 max_background @16,
 *                   congestion_threshold @18; u32 max_write @20, time_gran @24; u16 max_pages @28,
 *                   map_alignment @30; u32 flags2 @32; u32 unused[7]; }                              64
 * fuse_getattr_in { u32 getattr_flags @0; u32 dummy @4; u64 fh @8; }                                16
 * fuse_setattr_in { u32 valid @0; u32 padding @4; u64 fh @8, size @16, lock_owner @24, atime @32,
 *                   mtime @40, ctime @48; u32 atimensec @56, mtimensec @60, ctimensec @64, mode @68,
 *                   unused4 @72, uid @76, gid @80, unused5 @84; }                                    88
 * fuse_mknod_in   { u32 mode @0, rdev @4, umask @8, padding @12; } then name\0                      16
 * fuse_mkdir_in   { u32 mode @0, umask @4; } then name\0                                             8
 * fuse_rename_in  { u64 newdir @0; } then old\0 new\0                                                8
 * fuse_rename2_in { u64 newdir @0; u32 flags @8; u32 padding @12; } then old\0 new\0                16
 * fuse_link_in    { u64 oldnodeid @0; } then newname\0                                               8
 * fuse_open_in    { u32 flags @0; u32 open_flags @4; }                                               8
 * fuse_create_in  { u32 flags @0, mode @4, umask @8, open_flags @12; } then name\0                  16
 * fuse_open_out   { u64 fh @0; u32 open_flags @8; u32 padding @12; }                                16
 * fuse_release_in { u64 fh @0; u32 flags @8, release_flags @12; u64 lock_owner @16; }               24
 * fuse_flush_in   { u64 fh @0; u32 unused @8, padding @12; u64 lock_owner @16; }                    24
 * fuse_read_in    { u64 fh @0, offset @8; u32 size @16, read_flags @20; u64 lock_owner @24;
 *                   u32 flags @32, padding @36; }                                                    40
 * fuse_write_in   (same layout as fuse_read_in, write_flags @20) then data                           40
 * fuse_write_out  { u32 size @0; u32 padding @4; }                                                   8
 * fuse_kstatfs    { u64 blocks @0, bfree @8, bavail @16, files @24, ffree @32; u32 bsize @40,
 *                   namelen @44, frsize @48, padding @52; u32 spare[6]; }                           80
 * fuse_fsync_in   { u64 fh @0; u32 fsync_flags @8; u32 padding @12; }                               16
 * fuse_setxattr_in{ u32 size @0, flags @4, setxattr_flags @8, padding @12; } (8 bytes without
 *                   SETXATTR_EXT) then name\0 value                                                 16
 * fuse_getxattr_in{ u32 size @0; u32 padding @4; } then name\0 (LISTXATTR: no name)                 8
 * fuse_getxattr_out{u32 size @0; u32 padding @4; }                                                   8
 * fuse_access_in  { u32 mask @0; u32 padding @4; }                                                   8
 * fuse_forget_in  { u64 nlookup @0; }                                                                8
 * fuse_batch_forget_in { u32 count @0; u32 dummy @4; } then count x fuse_forget_one
 * fuse_forget_one { u64 nodeid @0; u64 nlookup @8; }                                                16
 * fuse_interrupt_in { u64 unique @0; }                                                               8
 * fuse_fallocate_in { u64 fh @0, offset @8, length @16; u32 mode @24; u32 padding @28; }            32
 * fuse_lseek_in   { u64 fh @0, offset @8; u32 whence @16; u32 padding @20; }                        24
 * fuse_lseek_out  { u64 offset @0; }                                                                  8
 * fuse_copy_file_range_in { u64 fh_in @0, off_in @8, nodeid_out @16, fh_out @24, off_out @32,
 *                   len @40, flags @48; }                                                            56
 * fuse_syncfs_in  { u64 padding @0; }                                                                 8
 * fuse_dirent     { u64 ino @0; u64 off @8; u32 namelen @16; u32 type @20; char name[] @24; }
 *                   padded to a multiple of 8                                                    24+name
 * fuse_direntplus { fuse_entry_out entry_out @0; fuse_dirent dirent @128; }                     152+name
 * </pre>
 */
public final class Fuse {
    private Fuse() {}

    public static final int KERNEL_VERSION = 7, KERNEL_MINOR_VERSION = 38;
    public static final long ROOT_ID = 1;

    // opcodes
    public static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6, MKNOD = 8,
            MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15, WRITE = 16, STATFS = 17,
            RELEASE = 18, FSYNC = 20, SETXATTR = 21, GETXATTR = 22, LISTXATTR = 23, REMOVEXATTR = 24, FLUSH = 25,
            INIT = 26, OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, FSYNCDIR = 30, GETLK = 31, SETLK = 32,
            SETLKW = 33, ACCESS = 34, CREATE = 35, INTERRUPT = 36, BMAP = 37, DESTROY = 38, IOCTL = 39, POLL = 40,
            NOTIFY_REPLY = 41, BATCH_FORGET = 42, FALLOCATE = 43, READDIRPLUS = 44, RENAME2 = 45, LSEEK = 46,
            COPY_FILE_RANGE = 47, SETUPMAPPING = 48, REMOVEMAPPING = 49, SYNCFS = 50, TMPFILE = 51, STATX = 52;

    // INIT flags (fuse_init_in/out.flags; flags2 holds bits 32..63 when INIT_EXT)
    public static final long ASYNC_READ = 1L << 0, POSIX_LOCKS = 1L << 1, FILE_OPS = 1L << 2,
            ATOMIC_O_TRUNC = 1L << 3, EXPORT_SUPPORT = 1L << 4, BIG_WRITES = 1L << 5, DONT_MASK = 1L << 6,
            SPLICE_WRITE = 1L << 7, SPLICE_MOVE = 1L << 8, SPLICE_READ = 1L << 9, FLOCK_LOCKS = 1L << 10,
            HAS_IOCTL_DIR = 1L << 11, AUTO_INVAL_DATA = 1L << 12, DO_READDIRPLUS = 1L << 13,
            READDIRPLUS_AUTO = 1L << 14, ASYNC_DIO = 1L << 15, WRITEBACK_CACHE = 1L << 16,
            NO_OPEN_SUPPORT = 1L << 17, PARALLEL_DIROPS = 1L << 18, HANDLE_KILLPRIV = 1L << 19,
            POSIX_ACL = 1L << 20, ABORT_ERROR = 1L << 21, MAX_PAGES = 1L << 22, CACHE_SYMLINKS = 1L << 23,
            NO_OPENDIR_SUPPORT = 1L << 24, EXPLICIT_INVAL_DATA = 1L << 25, MAP_ALIGNMENT = 1L << 26,
            SUBMOUNTS = 1L << 27, HANDLE_KILLPRIV_V2 = 1L << 28, SETXATTR_EXT = 1L << 29, INIT_EXT = 1L << 30,
            INIT_RESERVED = 1L << 31, SECURITY_CTX = 1L << 32, HAS_INODE_DAX = 1L << 33,
            CREATE_SUPP_GROUP = 1L << 34, HAS_EXPIRE_ONLY = 1L << 35;

    // SETATTR valid bits
    public static final int FATTR_MODE = 1, FATTR_UID = 1 << 1, FATTR_GID = 1 << 2, FATTR_SIZE = 1 << 3,
            FATTR_ATIME = 1 << 4, FATTR_MTIME = 1 << 5, FATTR_FH = 1 << 6, FATTR_ATIME_NOW = 1 << 7,
            FATTR_MTIME_NOW = 1 << 8, FATTR_LOCKOWNER = 1 << 9, FATTR_CTIME = 1 << 10, FATTR_KILL_SUIDGID = 1 << 11;

    // open_out.open_flags
    public static final int FOPEN_DIRECT_IO = 1, FOPEN_KEEP_CACHE = 1 << 1, FOPEN_NONSEEKABLE = 1 << 2,
            FOPEN_CACHE_DIR = 1 << 3, FOPEN_STREAM = 1 << 4, FOPEN_NOFLUSH = 1 << 5,
            FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;

    public static final int GETATTR_FH = 1;
    public static final int WRITE_CACHE = 1, WRITE_LOCKOWNER = 1 << 1, WRITE_KILL_SUIDGID = 1 << 2;
    public static final int READ_LOCKOWNER = 1 << 1;
    public static final int FSYNC_FDATASYNC = 1;
    public static final int RELEASE_FLUSH = 1, RELEASE_FLOCK_UNLOCK = 1 << 1;

    // struct sizes
    public static final int IN_HEADER_SIZE = 40, OUT_HEADER_SIZE = 16, ATTR_SIZE = 88, ENTRY_OUT_SIZE = 128,
            ATTR_OUT_SIZE = 104, INIT_IN_SIZE = 64, INIT_IN_COMPAT_SIZE = 16, INIT_OUT_SIZE = 64,
            GETATTR_IN_SIZE = 16, SETATTR_IN_SIZE = 88, MKNOD_IN_SIZE = 16, MKDIR_IN_SIZE = 8, RENAME_IN_SIZE = 8,
            RENAME2_IN_SIZE = 16, LINK_IN_SIZE = 8, OPEN_IN_SIZE = 8, CREATE_IN_SIZE = 16, OPEN_OUT_SIZE = 16,
            RELEASE_IN_SIZE = 24, FLUSH_IN_SIZE = 24, READ_IN_SIZE = 40, WRITE_IN_SIZE = 40, WRITE_OUT_SIZE = 8,
            KSTATFS_SIZE = 80, STATFS_OUT_SIZE = 80, FSYNC_IN_SIZE = 16, SETXATTR_IN_SIZE = 16,
            SETXATTR_IN_COMPAT_SIZE = 8, GETXATTR_IN_SIZE = 8, GETXATTR_OUT_SIZE = 8, ACCESS_IN_SIZE = 8,
            FORGET_IN_SIZE = 8, BATCH_FORGET_IN_SIZE = 8, FORGET_ONE_SIZE = 16, INTERRUPT_IN_SIZE = 8,
            FALLOCATE_IN_SIZE = 32, LSEEK_IN_SIZE = 24, LSEEK_OUT_SIZE = 8, COPY_FILE_RANGE_IN_SIZE = 56,
            SYNCFS_IN_SIZE = 8, DIRENT_SIZE = 24, DIRENTPLUS_SIZE = 152;

    // fuse_in_header
    public static final int IN_LEN_OFFSET = 0, IN_OPCODE_OFFSET = 4, IN_UNIQUE_OFFSET = 8, IN_NODEID_OFFSET = 16,
            IN_UID_OFFSET = 24, IN_GID_OFFSET = 28, IN_PID_OFFSET = 32, IN_TOTAL_EXTLEN_OFFSET = 36;
    // fuse_out_header
    public static final int OUT_LEN_OFFSET = 0, OUT_ERROR_OFFSET = 4, OUT_UNIQUE_OFFSET = 8;
    // fuse_attr
    public static final int ATTR_INO_OFFSET = 0, ATTR_SIZE_OFFSET = 8, ATTR_BLOCKS_OFFSET = 16, ATTR_ATIME_OFFSET = 24,
            ATTR_MTIME_OFFSET = 32, ATTR_CTIME_OFFSET = 40, ATTR_ATIMENSEC_OFFSET = 48, ATTR_MTIMENSEC_OFFSET = 52,
            ATTR_CTIMENSEC_OFFSET = 56, ATTR_MODE_OFFSET = 60, ATTR_NLINK_OFFSET = 64, ATTR_UID_OFFSET = 68,
            ATTR_GID_OFFSET = 72, ATTR_RDEV_OFFSET = 76, ATTR_BLKSIZE_OFFSET = 80, ATTR_FLAGS_OFFSET = 84;
    // fuse_entry_out
    public static final int ENTRY_NODEID_OFFSET = 0, ENTRY_GENERATION_OFFSET = 8, ENTRY_VALID_OFFSET = 16,
            ENTRY_ATTR_VALID_OFFSET = 24, ENTRY_VALID_NSEC_OFFSET = 32, ENTRY_ATTR_VALID_NSEC_OFFSET = 36,
            ENTRY_ATTR_OFFSET = 40;
    // fuse_attr_out
    public static final int ATTR_OUT_VALID_OFFSET = 0, ATTR_OUT_VALID_NSEC_OFFSET = 8, ATTR_OUT_ATTR_OFFSET = 16;
    // fuse_init_in / fuse_init_out
    public static final int INIT_MAJOR_OFFSET = 0, INIT_MINOR_OFFSET = 4, INIT_MAX_READAHEAD_OFFSET = 8,
            INIT_FLAGS_OFFSET = 12, INIT_IN_FLAGS2_OFFSET = 16, INIT_OUT_MAX_BACKGROUND_OFFSET = 16,
            INIT_OUT_CONGESTION_THRESHOLD_OFFSET = 18, INIT_OUT_MAX_WRITE_OFFSET = 20, INIT_OUT_TIME_GRAN_OFFSET = 24,
            INIT_OUT_MAX_PAGES_OFFSET = 28, INIT_OUT_MAP_ALIGNMENT_OFFSET = 30, INIT_OUT_FLAGS2_OFFSET = 32;
    // fuse_setattr_in
    public static final int SETATTR_VALID_OFFSET = 0, SETATTR_FH_OFFSET = 8, SETATTR_SIZE_OFFSET = 16,
            SETATTR_LOCK_OWNER_OFFSET = 24, SETATTR_ATIME_OFFSET = 32, SETATTR_MTIME_OFFSET = 40,
            SETATTR_CTIME_OFFSET = 48, SETATTR_ATIMENSEC_OFFSET = 56, SETATTR_MTIMENSEC_OFFSET = 60,
            SETATTR_CTIMENSEC_OFFSET = 64, SETATTR_MODE_OFFSET = 68, SETATTR_UID_OFFSET = 76, SETATTR_GID_OFFSET = 80;
    // fuse_read_in / fuse_write_in
    public static final int RW_FH_OFFSET = 0, RW_OFFSET_OFFSET = 8, RW_SIZE_OFFSET = 16, RW_FLAGS_OFFSET = 20,
            RW_LOCK_OWNER_OFFSET = 24, RW_OPEN_FLAGS_OFFSET = 32;
    // fuse_dirent
    public static final int DIRENT_INO_OFFSET = 0, DIRENT_OFF_OFFSET = 8, DIRENT_NAMELEN_OFFSET = 16,
            DIRENT_TYPE_OFFSET = 20, DIRENT_NAME_OFFSET = 24;
    // fuse_kstatfs
    public static final int STATFS_BLOCKS_OFFSET = 0, STATFS_BFREE_OFFSET = 8, STATFS_BAVAIL_OFFSET = 16,
            STATFS_FILES_OFFSET = 24, STATFS_FFREE_OFFSET = 32, STATFS_BSIZE_OFFSET = 40, STATFS_NAMELEN_OFFSET = 44,
            STATFS_FRSIZE_OFFSET = 48;

    /** Largest name a FUSE request may carry (NAME_MAX) and largest symlink target (PATH_MAX - 1). */
    public static final int NAME_MAX = 255, PATH_MAX = 4096;

    /** Rounds a dirent length up to the 8-byte alignment FUSE requires. */
    public static int direntAlign(int len) { return (len + 7) & ~7; }
}
