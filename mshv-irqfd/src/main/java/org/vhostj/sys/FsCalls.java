package org.vhostj.sys;

import static org.vhostj.sys.Downcalls.*;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Downcalls the virtio-fs passthrough server needs that {@link LibC} does not have (LibC already holds
 * openat, statx, mkdirat, mknodat, unlinkat, renameat2, linkat, symlinkat, readlinkat, fchownat, fchmodat,
 * utimensat, getdents64, fstatvfs, copy_file_range, fallocate, lseek, preadv2/pwritev2, fsync, syncfs, the
 * f*xattr calls, fchdir, chroot, umask and unshare).
 *
 * <p>Same convention as LibC: each wrapper returns the result or {@code -errno}, captured with
 * {@code captureCallState}; no wrapper allocates, so they are fit for the data path.
 */
public final class FsCalls {
    private FsCalls() {}

    /** Raw syscall numbers (x86_64 / aarch64 generic). */
    public static final long SYS_OPENAT2 = 437;
    private static final boolean ARM = System.getProperty("os.arch").contains("aarch64");
    public static final long SYS_SETFSUID = ARM ? 151 : 122, SYS_SETFSGID = ARM ? 152 : 123;
    public static final long SYS_PIVOT_ROOT = ARM ? 41 : 155;

    /** struct open_how { u64 flags @0; u64 mode @8; u64 resolve @16; }  24 bytes. */
    public static final long OPEN_HOW_SIZE = 24;

    /** mount(2) flags. */
    public static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32,
            MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18;
    public static final int MNT_DETACH = 2;
    public static final int XATTR_CREATE = 1, XATTR_REPLACE = 2;
    /** faccessat flags and modes. */
    public static final int F_OK = 0, X_OK = 1, W_OK = 2, R_OK = 4, AT_EACCESS = 0x200;

    private static final class SyscallOpenat2 { static final MethodHandle H = variadic("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), 1); }
    private static final class Syscall1 { static final MethodHandle H = variadic("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), 1); }
    private static final class SyscallPp { static final MethodHandle H = variadic("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS), 1); }
    private static final class Getxattr { static final MethodHandle H = fn("getxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG)); }
    private static final class Setxattr { static final MethodHandle H = fn("setxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT)); }
    private static final class Listxattr { static final MethodHandle H = fn("listxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG)); }
    private static final class Removexattr { static final MethodHandle H = fn("removexattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)); }
    private static final class Faccessat { static final MethodHandle H = fn("faccessat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)); }
    private static final class Fstatfs { static final MethodHandle H = fn("fstatfs64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Mount { static final MethodHandle H = fn("mount", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)); }
    private static final class Umount2 { static final MethodHandle H = fn("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Chdir { static final MethodHandle H = fn("chdir", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class Setgroups { static final MethodHandle H = fn("setgroups", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS)); }
    private static final class Execve { static final MethodHandle H = fn("execve", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)); }

    /**
     * openat2(2): opens {@code path} relative to {@code dirfd} with {@code how} (a 24-byte {@code struct
     * open_how}, see {@link #openHow}). Returns the fd or -errno.
     */
    public static int openat2(int dirfd, MemorySegment path, MemorySegment how) {
        MemorySegment st = state();
        try { return (int) result((long) SyscallOpenat2.H.invokeExact(st, SYS_OPENAT2, dirfd, path, how, OPEN_HOW_SIZE), st); }
        catch (Throwable t) { throw fatal(t); }
    }

    /** Fills a {@code struct open_how} at offset 0 of {@code how}. */
    public static void openHow(MemorySegment how, long flags, long mode, long resolve) {
        how.set(JAVA_LONG, 0, flags);
        how.set(JAVA_LONG, 8, mode);
        how.set(JAVA_LONG, 16, resolve);
    }

    /**
     * setfsuid(2) as a raw syscall, so it changes only the calling thread (glibc's wrapper would too, but
     * the raw call makes that explicit). Returns the previous fsuid; it cannot report failure.
     */
    public static int setfsuid(int uid) {
        MemorySegment st = state();
        try { return (int) (long) Syscall1.H.invokeExact(st, SYS_SETFSUID, Integer.toUnsignedLong(uid)); } catch (Throwable t) { throw fatal(t); }
    }

    public static int setfsgid(int gid) {
        MemorySegment st = state();
        try { return (int) (long) Syscall1.H.invokeExact(st, SYS_SETFSGID, Integer.toUnsignedLong(gid)); } catch (Throwable t) { throw fatal(t); }
    }

    /** Path-following xattr calls, for {@code fchdir(/proc/self/fd)} + {@code "N"} access to O_PATH inodes. */
    public static long getxattr(MemorySegment path, MemorySegment name, MemorySegment value, long size) {
        MemorySegment st = state();
        try { return result((long) Getxattr.H.invokeExact(st, path, name, value, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int setxattr(MemorySegment path, MemorySegment name, MemorySegment value, long size, int flags) {
        MemorySegment st = state();
        try { return result((int) Setxattr.H.invokeExact(st, path, name, value, size, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long listxattr(MemorySegment path, MemorySegment list, long size) {
        MemorySegment st = state();
        try { return result((long) Listxattr.H.invokeExact(st, path, list, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int removexattr(MemorySegment path, MemorySegment name) {
        MemorySegment st = state();
        try { return result((int) Removexattr.H.invokeExact(st, path, name), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int faccessat(int dirfd, MemorySegment path, int mode, int flags) {
        MemorySegment st = state();
        try { return result((int) Faccessat.H.invokeExact(st, dirfd, path, mode, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /**
     * fstatfs(2) (works on O_PATH fds). {@code buf} is a 120-byte {@code struct statfs} (64-bit):
     * f_type @0, f_bsize @8, f_blocks @16, f_bfree @24, f_bavail @32, f_files @40, f_ffree @48, f_fsid @56,
     * f_namelen @64, f_frsize @72, f_flags @80.
     */
    public static int fstatfs(int fd, MemorySegment buf) {
        MemorySegment st = state();
        try { return result((int) Fstatfs.H.invokeExact(st, fd, buf), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static final long STATFS_SIZE = 120, STATFS_BSIZE_OFFSET = 8, STATFS_BLOCKS_OFFSET = 16,
            STATFS_BFREE_OFFSET = 24, STATFS_BAVAIL_OFFSET = 32, STATFS_FILES_OFFSET = 40, STATFS_FFREE_OFFSET = 48,
            STATFS_NAMELEN_OFFSET = 64, STATFS_FRSIZE_OFFSET = 72;

    // ---- sandbox (setup only) ------------------------------------------------------------------------

    public static int mount(MemorySegment source, MemorySegment target, MemorySegment fstype, long flags, MemorySegment data) {
        MemorySegment st = state();
        try { return result((int) Mount.H.invokeExact(st, source, target, fstype, flags, data), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int umount2(MemorySegment target, int flags) {
        MemorySegment st = state();
        try { return result((int) Umount2.H.invokeExact(st, target, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** pivot_root(2) has no glibc wrapper. */
    public static int pivotRoot(MemorySegment newRoot, MemorySegment putOld) {
        MemorySegment st = state();
        try { return (int) result((long) SyscallPp.H.invokeExact(st, SYS_PIVOT_ROOT, newRoot, putOld), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int chdir(MemorySegment path) {
        MemorySegment st = state();
        try { return result((int) Chdir.H.invokeExact(st, path), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** setgroups(2) through glibc, which applies it to every thread of the process. */
    public static int setgroups(long size, MemorySegment list) {
        MemorySegment st = state();
        try { return result((int) Setgroups.H.invokeExact(st, size, list), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** execve(2): returns only on failure (-errno). {@code argv} and {@code envp} are NULL-terminated pointer arrays. */
    public static int execve(MemorySegment path, MemorySegment argv, MemorySegment envp) {
        MemorySegment st = state();
        try { return result((int) Execve.H.invokeExact(st, path, argv, envp), st); } catch (Throwable t) { throw fatal(t); }
    }
}
