package org.vhostj.sys;

import static org.vhostj.sys.Downcalls.*;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Thin wrappers over libc, one per call; with {@link FsCalls} and {@link NetCalls} (device-specific calls)
 * the only holders of downcall handles in the project, all linked through {@link Downcalls}.
 *
 * <p>Each handle sits in its own holder class, so it is linked the first time it is called: linking all
 * of them at once cost a daemon most of its startup (each downcall handle spins its own lambda forms).
 *
 * <p>Convention: every wrapper returns the call's result, or {@code -errno} when the call failed (errno is
 * captured with {@code Linker.Option.captureCallState}, so it is exact even across JVM activity). The data
 * path checks the sign; setup code wraps the result in {@link ErrnoException#check}. Wrappers may be called
 * from any thread; each thread has its own errno capture buffer.
 */
public final class LibC {
    private LibC() {}

    // ---- descriptors ----------------------------------------------------------------------------------
    private static final class Close { static final MethodHandle H = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Read { static final MethodHandle H = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Write { static final MethodHandle H = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Pread { static final MethodHandle H = fn("pread64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG)); }
    private static final class Pwrite { static final MethodHandle H = fn("pwrite64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG)); }
    private static final class Readv { static final MethodHandle H = fn("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Writev { static final MethodHandle H = fn("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Preadv2 { static final MethodHandle H = fn("preadv2", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT)); }
    private static final class Pwritev2 { static final MethodHandle H = fn("pwritev2", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT)); }
    private static final class Lseek { static final MethodHandle H = fn("lseek64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT)); }
    private static final class Ftruncate { static final MethodHandle H = fn("ftruncate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG)); }
    private static final class Fsync { static final MethodHandle H = fn("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Fdatasync { static final MethodHandle H = fn("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Syncfs { static final MethodHandle H = fn("syncfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Fallocate { static final MethodHandle H = fn("fallocate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG)); }
    private static final class Fcntl { static final MethodHandle H = variadic("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), 2); }
    private static final class Dup3 { static final MethodHandle H = fn("dup3", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Pipe2 { static final MethodHandle H = fn("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Poll { static final MethodHandle H = fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT)); }

    public static int close(int fd) {
        MemorySegment st = state();
        try { return result((int) Close.H.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long read(int fd, MemorySegment buf, long count) {
        MemorySegment st = state();
        try { return result((long) Read.H.invokeExact(st, fd, buf, count), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long write(int fd, MemorySegment buf, long count) {
        MemorySegment st = state();
        try { return result((long) Write.H.invokeExact(st, fd, buf, count), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long pread(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment st = state();
        try { return result((long) Pread.H.invokeExact(st, fd, buf, count, offset), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long pwrite(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment st = state();
        try { return result((long) Pwrite.H.invokeExact(st, fd, buf, count, offset), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code iov} points at {@code iovcnt} {@code struct iovec {void *base; size_t len;}} (16 bytes each). */
    public static long readv(int fd, MemorySegment iov, int iovcnt) {
        MemorySegment st = state();
        try { return result((long) Readv.H.invokeExact(st, fd, iov, iovcnt), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long writev(int fd, MemorySegment iov, int iovcnt) {
        MemorySegment st = state();
        try { return result((long) Writev.H.invokeExact(st, fd, iov, iovcnt), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long preadv2(int fd, MemorySegment iov, int iovcnt, long offset, int flags) {
        MemorySegment st = state();
        try { return result((long) Preadv2.H.invokeExact(st, fd, iov, iovcnt, offset, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long pwritev2(int fd, MemorySegment iov, int iovcnt, long offset, int flags) {
        MemorySegment st = state();
        try { return result((long) Pwritev2.H.invokeExact(st, fd, iov, iovcnt, offset, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long lseek(int fd, long offset, int whence) {
        MemorySegment st = state();
        try { return result((long) Lseek.H.invokeExact(st, fd, offset, whence), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int ftruncate(int fd, long length) {
        MemorySegment st = state();
        try { return result((int) Ftruncate.H.invokeExact(st, fd, length), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fsync(int fd) {
        MemorySegment st = state();
        try { return result((int) Fsync.H.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fdatasync(int fd) {
        MemorySegment st = state();
        try { return result((int) Fdatasync.H.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int syncfs(int fd) {
        MemorySegment st = state();
        try { return result((int) Syncfs.H.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fallocate(int fd, int mode, long offset, long length) {
        MemorySegment st = state();
        try { return result((int) Fallocate.H.invokeExact(st, fd, mode, offset, length), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fcntl(int fd, int cmd, long arg) {
        MemorySegment st = state();
        try { return result((int) Fcntl.H.invokeExact(st, fd, cmd, arg), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int dup3(int oldFd, int newFd, int flags) {
        MemorySegment st = state();
        try { return result((int) Dup3.H.invokeExact(st, oldFd, newFd, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code fds} receives two ints: read end, write end. */
    public static int pipe2(MemorySegment fds, int flags) {
        MemorySegment st = state();
        try { return result((int) Pipe2.H.invokeExact(st, fds, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code fds} holds {@code nfds} {@code struct pollfd {int fd; short events; short revents;}}. */
    public static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        MemorySegment st = state();
        try { return result((int) Poll.H.invokeExact(st, fds, nfds, timeoutMillis), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- memory --------------------------------------------------------------------------------------
    private static final class MemfdCreate { static final MethodHandle H = fn("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Mmap { static final MethodHandle H = fn("mmap64", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG)); }
    private static final class Munmap { static final MethodHandle H = fn("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG)); }
    private static final class Madvise { static final MethodHandle H = fn("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT)); }

    public static int memfdCreate(MemorySegment name, int flags) {
        MemorySegment st = state();
        try { return result((int) MemfdCreate.H.invokeExact(st, name, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** Returns the mapping's host address, or {@code -errno} (MAP_FAILED is -1, never a valid address here). */
    public static long mmap(long hostAddressHint, long length, int prot, int flags, int fd, long offset) {
        MemorySegment st = state();
        try {
            long r = (long) Mmap.H.invokeExact(st, hostAddressHint, length, prot, flags, fd, offset);
            return r == -1L ? -errno(st) : r;
        } catch (Throwable t) { throw fatal(t); }
    }

    public static int munmap(long hostAddress, long length) {
        MemorySegment st = state();
        try { return result((int) Munmap.H.invokeExact(st, hostAddress, length), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int madvise(long hostAddress, long length, int advice) {
        MemorySegment st = state();
        try { return result((int) Madvise.H.invokeExact(st, hostAddress, length, advice), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- eventfd, epoll, ioctl -----------------------------------------------------------------------
    private static final class Eventfd { static final MethodHandle H = fn("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class EpollCreate1 { static final MethodHandle H = fn("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class EpollCtl { static final MethodHandle H = fn("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class EpollWait { static final MethodHandle H = fn("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)); }
    private static final class IoctlLong { static final MethodHandle H = variadic("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2); }
    private static final class IoctlPtr { static final MethodHandle H = variadic("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2); }

    public static int eventfd(int initialValue, int flags) {
        MemorySegment st = state();
        try { return result((int) Eventfd.H.invokeExact(st, initialValue, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int epollCreate1(int flags) {
        MemorySegment st = state();
        try { return result((int) EpollCreate1.H.invokeExact(st, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        MemorySegment st = state();
        try { return result((int) EpollCtl.H.invokeExact(st, epfd, op, fd, event), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        MemorySegment st = state();
        try { return result((int) EpollWait.H.invokeExact(st, epfd, events, maxEvents, timeoutMillis), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** ioctl whose argument is an integer (or unused: pass 0). */
    public static int ioctl(int fd, long request, long arg) {
        MemorySegment st = state();
        try { return result((int) IoctlLong.H.invokeExact(st, fd, request, arg), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** ioctl whose argument points at a struct. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        MemorySegment st = state();
        try { return result((int) IoctlPtr.H.invokeExact(st, fd, request, arg), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- sockets -------------------------------------------------------------------------------------
    private static final class Socket { static final MethodHandle H = fn("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Socketpair { static final MethodHandle H = fn("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Bind { static final MethodHandle H = fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Listen { static final MethodHandle H = fn("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Accept4 { static final MethodHandle H = fn("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT)); }
    private static final class Connect { static final MethodHandle H = fn("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Recvmsg { static final MethodHandle H = fn("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Sendmsg { static final MethodHandle H = fn("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Sendto { static final MethodHandle H = fn("sendto", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Shutdown { static final MethodHandle H = fn("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Getsockopt { static final MethodHandle H = fn("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS)); }
    private static final class Setsockopt { static final MethodHandle H = fn("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Getsockname { static final MethodHandle H = fn("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS)); }

    public static int socket(int domain, int type, int protocol) {
        MemorySegment st = state();
        try { return result((int) Socket.H.invokeExact(st, domain, type, protocol), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int socketpair(int domain, int type, int protocol, MemorySegment fds) {
        MemorySegment st = state();
        try { return result((int) Socketpair.H.invokeExact(st, domain, type, protocol, fds), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int bind(int fd, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try { return result((int) Bind.H.invokeExact(st, fd, addr, addrLen), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int listen(int fd, int backlog) {
        MemorySegment st = state();
        try { return result((int) Listen.H.invokeExact(st, fd, backlog), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int accept4(int fd, int flags) {
        MemorySegment st = state();
        try { return result((int) Accept4.H.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int connect(int fd, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try { return result((int) Connect.H.invokeExact(st, fd, addr, addrLen), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment st = state();
        try { return result((long) Recvmsg.H.invokeExact(st, fd, msghdr, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment st = state();
        try { return result((long) Sendmsg.H.invokeExact(st, fd, msghdr, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long sendto(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try { return result((long) Sendto.H.invokeExact(st, fd, buf, len, flags, addr, addrLen), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int shutdown(int fd, int how) {
        MemorySegment st = state();
        try { return result((int) Shutdown.H.invokeExact(st, fd, how), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment lenInOut) {
        MemorySegment st = state();
        try { return result((int) Getsockopt.H.invokeExact(st, fd, level, name, value, lenInOut), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int setsockopt(int fd, int level, int name, MemorySegment value, int len) {
        MemorySegment st = state();
        try { return result((int) Setsockopt.H.invokeExact(st, fd, level, name, value, len), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getsockname(int fd, MemorySegment addr, MemorySegment lenInOut) {
        MemorySegment st = state();
        try { return result((int) Getsockname.H.invokeExact(st, fd, addr, lenInOut), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- files by path, relative to a directory fd ---------------------------------------------------
    private static final class Openat { static final MethodHandle H = variadic("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3); }
    private static final class Statx { static final MethodHandle H = fn("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Mkdirat { static final MethodHandle H = fn("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Mknodat { static final MethodHandle H = fn("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG)); }
    private static final class Unlinkat { static final MethodHandle H = fn("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Renameat2 { static final MethodHandle H = fn("renameat2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Linkat { static final MethodHandle H = fn("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Symlinkat { static final MethodHandle H = fn("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS)); }
    private static final class Readlinkat { static final MethodHandle H = fn("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG)); }
    private static final class Fchownat { static final MethodHandle H = fn("fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Fchmodat { static final MethodHandle H = fn("fchmodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)); }
    private static final class Fchmod { static final MethodHandle H = fn("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Fchown { static final MethodHandle H = fn("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Utimensat { static final MethodHandle H = fn("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT)); }
    private static final class Futimens { static final MethodHandle H = fn("futimens", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Getdents64 { static final MethodHandle H = fn("getdents64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Fstatvfs { static final MethodHandle H = fn("fstatvfs64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class CopyFileRange { static final MethodHandle H = fn("copy_file_range", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT)); }
    private static final class Fgetxattr { static final MethodHandle H = fn("fgetxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG)); }
    private static final class Fsetxattr { static final MethodHandle H = fn("fsetxattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT)); }
    private static final class Flistxattr { static final MethodHandle H = fn("flistxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Fremovexattr { static final MethodHandle H = fn("fremovexattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Lgetxattr { static final MethodHandle H = fn("lgetxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG)); }
    private static final class Lsetxattr { static final MethodHandle H = fn("lsetxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT)); }
    private static final class Llistxattr { static final MethodHandle H = fn("llistxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG)); }
    private static final class Lremovexattr { static final MethodHandle H = fn("lremovexattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)); }
    private static final class Fchdir { static final MethodHandle H = fn("fchdir", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Chroot { static final MethodHandle H = fn("chroot", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class Umask { static final MethodHandle H = plain("umask", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Unshare { static final MethodHandle H = fn("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }

    public static int openat(int dirfd, MemorySegment path, int flags, int mode) {
        MemorySegment st = state();
        try { return result((int) Openat.H.invokeExact(st, dirfd, path, flags, mode), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code buf} is a 256-byte {@code struct statx} (see {@link Statx}). */
    public static int statx(int dirfd, MemorySegment path, int flags, int mask, MemorySegment buf) {
        MemorySegment st = state();
        try { return result((int) Statx.H.invokeExact(st, dirfd, path, flags, mask, buf), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int mkdirat(int dirfd, MemorySegment path, int mode) {
        MemorySegment st = state();
        try { return result((int) Mkdirat.H.invokeExact(st, dirfd, path, mode), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int mknodat(int dirfd, MemorySegment path, int mode, long dev) {
        MemorySegment st = state();
        try { return result((int) Mknodat.H.invokeExact(st, dirfd, path, mode, dev), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int unlinkat(int dirfd, MemorySegment path, int flags) {
        MemorySegment st = state();
        try { return result((int) Unlinkat.H.invokeExact(st, dirfd, path, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int renameat2(int oldDirfd, MemorySegment oldPath, int newDirfd, MemorySegment newPath, int flags) {
        MemorySegment st = state();
        try { return result((int) Renameat2.H.invokeExact(st, oldDirfd, oldPath, newDirfd, newPath, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int linkat(int oldDirfd, MemorySegment oldPath, int newDirfd, MemorySegment newPath, int flags) {
        MemorySegment st = state();
        try { return result((int) Linkat.H.invokeExact(st, oldDirfd, oldPath, newDirfd, newPath, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int symlinkat(MemorySegment target, int newDirfd, MemorySegment linkPath) {
        MemorySegment st = state();
        try { return result((int) Symlinkat.H.invokeExact(st, target, newDirfd, linkPath), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long readlinkat(int dirfd, MemorySegment path, MemorySegment buf, long size) {
        MemorySegment st = state();
        try { return result((long) Readlinkat.H.invokeExact(st, dirfd, path, buf, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchownat(int dirfd, MemorySegment path, int uid, int gid, int flags) {
        MemorySegment st = state();
        try { return result((int) Fchownat.H.invokeExact(st, dirfd, path, uid, gid, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchmodat(int dirfd, MemorySegment path, int mode, int flags) {
        MemorySegment st = state();
        try { return result((int) Fchmodat.H.invokeExact(st, dirfd, path, mode, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchmod(int fd, int mode) {
        MemorySegment st = state();
        try { return result((int) Fchmod.H.invokeExact(st, fd, mode), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchown(int fd, int uid, int gid) {
        MemorySegment st = state();
        try { return result((int) Fchown.H.invokeExact(st, fd, uid, gid), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code times} holds two {@code struct timespec} (atime, mtime), 16 bytes each. */
    public static int utimensat(int dirfd, MemorySegment path, MemorySegment times, int flags) {
        MemorySegment st = state();
        try { return result((int) Utimensat.H.invokeExact(st, dirfd, path, times, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int futimens(int fd, MemorySegment times) {
        MemorySegment st = state();
        try { return result((int) Futimens.H.invokeExact(st, fd, times), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long getdents64(int fd, MemorySegment buf, long size) {
        MemorySegment st = state();
        try { return result((long) Getdents64.H.invokeExact(st, fd, buf, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code buf} is a 112-byte {@code struct statvfs} (LP64: eleven u64 fields, then spare ints). */
    public static int fstatvfs(int fd, MemorySegment buf) {
        MemorySegment st = state();
        try { return result((int) Fstatvfs.H.invokeExact(st, fd, buf), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long copyFileRange(int fdIn, MemorySegment offIn, int fdOut, MemorySegment offOut, long len, int flags) {
        MemorySegment st = state();
        try { return result((long) CopyFileRange.H.invokeExact(st, fdIn, offIn, fdOut, offOut, len, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long fgetxattr(int fd, MemorySegment name, MemorySegment value, long size) {
        MemorySegment st = state();
        try { return result((long) Fgetxattr.H.invokeExact(st, fd, name, value, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fsetxattr(int fd, MemorySegment name, MemorySegment value, long size, int flags) {
        MemorySegment st = state();
        try { return result((int) Fsetxattr.H.invokeExact(st, fd, name, value, size, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long flistxattr(int fd, MemorySegment list, long size) {
        MemorySegment st = state();
        try { return result((long) Flistxattr.H.invokeExact(st, fd, list, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fremovexattr(int fd, MemorySegment name) {
        MemorySegment st = state();
        try { return result((int) Fremovexattr.H.invokeExact(st, fd, name), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long lgetxattr(MemorySegment path, MemorySegment name, MemorySegment value, long size) {
        MemorySegment st = state();
        try { return result((long) Lgetxattr.H.invokeExact(st, path, name, value, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int lsetxattr(MemorySegment path, MemorySegment name, MemorySegment value, long size, int flags) {
        MemorySegment st = state();
        try { return result((int) Lsetxattr.H.invokeExact(st, path, name, value, size, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long llistxattr(MemorySegment path, MemorySegment list, long size) {
        MemorySegment st = state();
        try { return result((long) Llistxattr.H.invokeExact(st, path, list, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int lremovexattr(MemorySegment path, MemorySegment name) {
        MemorySegment st = state();
        try { return result((int) Lremovexattr.H.invokeExact(st, path, name), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchdir(int fd) {
        MemorySegment st = state();
        try { return result((int) Fchdir.H.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int chroot(MemorySegment path) {
        MemorySegment st = state();
        try { return result((int) Chroot.H.invokeExact(st, path), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** umask cannot fail; returns the previous mask. */
    public static int umask(int mask) {
        try { return (int) Umask.H.invokeExact(mask); } catch (Throwable t) { throw fatal(t); }
    }

    public static int unshare(int flags) {
        MemorySegment st = state();
        try { return result((int) Unshare.H.invokeExact(st, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- processes and raw syscalls ------------------------------------------------------------------
    private static final class Syscall6 { static final MethodHandle H = variadic("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1); }
    private static final class Getpid { static final MethodHandle H = plain("getpid", FunctionDescriptor.of(JAVA_INT)); }
    private static final class Gettid { static final MethodHandle H = plain("gettid", FunctionDescriptor.of(JAVA_INT)); }
    private static final class Geteuid { static final MethodHandle H = plain("geteuid", FunctionDescriptor.of(JAVA_INT)); }
    private static final class Getegid { static final MethodHandle H = plain("getegid", FunctionDescriptor.of(JAVA_INT)); }
    private static final class Kill { static final MethodHandle H = fn("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Tgkill { static final MethodHandle H = fn("tgkill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Getrlimit { static final MethodHandle H = fn("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Setrlimit { static final MethodHandle H = fn("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Prctl { static final MethodHandle H = variadic("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1); }
    private static final class Strerror { static final MethodHandle H = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT)); }

    /**
     * A raw system call (for calls glibc does not wrap, such as openat2 or io_uring_enter, and for per-thread
     * credentials, which glibc's wrappers would apply to every thread). Pointer arguments are passed as
     * {@code segment.address()}, taken just before the call while the segment is alive.
     */
    public static long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
        MemorySegment st = state();
        try { return result((long) Syscall6.H.invokeExact(st, number, a1, a2, a3, a4, a5, a6), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getpid() {
        try { return (int) Getpid.H.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int gettid() {
        try { return (int) Gettid.H.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int geteuid() {
        try { return (int) Geteuid.H.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getegid() {
        try { return (int) Getegid.H.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int kill(int pid, int signal) {
        MemorySegment st = state();
        try { return result((int) Kill.H.invokeExact(st, pid, signal), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** Sends {@code signal} to one thread ({@code tid} from {@link #gettid()}) of process {@code tgid}. */
    public static int tgkill(int tgid, int tid, int signal) {
        MemorySegment st = state();
        try { return result((int) Tgkill.H.invokeExact(st, tgid, tid, signal), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code rlim} is a {@code struct rlimit {u64 cur; u64 max;}}. */
    public static int getrlimit(int resource, MemorySegment rlim) {
        MemorySegment st = state();
        try { return result((int) Getrlimit.H.invokeExact(st, resource, rlim), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int setrlimit(int resource, MemorySegment rlim) {
        MemorySegment st = state();
        try { return result((int) Setrlimit.H.invokeExact(st, resource, rlim), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int prctl(int option, long a2, long a3, long a4, long a5) {
        MemorySegment st = state();
        try { return result((int) Prctl.H.invokeExact(st, option, a2, a3, a4, a5), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Strerror.H.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) { throw fatal(t); }
    }
}
