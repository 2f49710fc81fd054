package org.vhostj.sys;

/** open(2), fcntl(2) and *at(2) flag values (x86_64 and aarch64 generic values where they agree). */
public final class Fcntl {
    private Fcntl() {}

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
    public static final int O_CREAT = 0100, O_EXCL = 0200, O_NOCTTY = 0400, O_TRUNC = 01000, O_APPEND = 02000,
            O_NONBLOCK = 04000, O_DSYNC = 010000, O_SYNC = 04010000, O_CLOEXEC = 02000000, O_NOATIME = 01000000,
            O_PATH = 010000000, O_TMPFILE_DIR = 020000000;
    /** These differ on aarch64 (O_DIRECTORY 040000, O_NOFOLLOW 0100000, O_DIRECT 0200000, O_LARGEFILE 0400000). */
    public static final int O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE;
    static {
        boolean arm = System.getProperty("os.arch").contains("aarch64");
        O_DIRECTORY = arm ? 040000 : 0200000;
        O_NOFOLLOW = arm ? 0100000 : 0400000;
        O_DIRECT = arm ? 0200000 : 040000;
        O_LARGEFILE = arm ? 0400000 : 0;
    }
    public static final int O_TMPFILE = O_TMPFILE_DIR | (System.getProperty("os.arch").contains("aarch64") ? 040000 : 0200000);

    public static final int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_SETLK = 6,
            F_DUPFD_CLOEXEC = 1030, F_ADD_SEALS = 1033, F_GET_SEALS = 1034, F_OFD_GETLK = 36, F_OFD_SETLK = 37,
            F_OFD_SETLKW = 38;
    public static final int FD_CLOEXEC = 1;

    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200,
            AT_SYMLINK_FOLLOW = 0x400, AT_NO_AUTOMOUNT = 0x800, AT_EMPTY_PATH = 0x1000,
            AT_STATX_SYNC_AS_STAT = 0;
    public static final int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

    public static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;

    /** S_IF* file types and permission masks (stat.h). */
    public static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000,
            S_IFBLK = 060000, S_IFDIR = 040000, S_IFCHR = 020000, S_IFIFO = 010000,
            S_ISUID = 04000, S_ISGID = 02000, S_ISVTX = 01000;

    /** openat2 resolve flags and the raw syscall number (no glibc wrapper in 2.36). */
    public static final int RESOLVE_NO_XDEV = 1, RESOLVE_NO_MAGICLINKS = 2, RESOLVE_NO_SYMLINKS = 4,
            RESOLVE_BENEATH = 8, RESOLVE_IN_ROOT = 0x10;
    public static final long SYS_OPENAT2 = 437;
}
