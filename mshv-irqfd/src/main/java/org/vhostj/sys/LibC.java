package org.vhostj.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The only holder of downcall handles in the project: thin wrappers over libc, one per call.
 *
 * <p>Convention: every wrapper returns the call's result, or {@code -errno} when the call failed (errno is
 * captured with {@code Linker.Option.captureCallState}, so it is exact even across JVM activity). The data
 * path checks the sign; setup code wraps the result in {@link ErrnoException#check}. Wrappers may be called
 * from any thread; each thread has its own errno capture buffer.
 */
public final class LibC {
    private LibC() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup C = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** Per-thread errno capture buffer; threads are few and long-lived, the GC frees a dead thread's buffer. */
    private static final ThreadLocal<MemorySegment> ERRNO_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static MethodHandle fn(String name, FunctionDescriptor desc) {
        return LINKER.downcallHandle(C.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), desc, CAPTURE_ERRNO);
    }

    private static MethodHandle variadic(String name, FunctionDescriptor desc, int firstVariadic) {
        return LINKER.downcallHandle(C.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), desc,
                CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static MethodHandle plain(String name, FunctionDescriptor desc) {
        return LINKER.downcallHandle(C.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), desc);
    }

    private static MemorySegment state() { return ERRNO_STATE.get(); }

    private static int errno(MemorySegment state) { return (int) ERRNO.get(state, 0L); }

    private static long result(long r, MemorySegment state) { return r < 0 ? -errno(state) : r; }

    private static int result(int r, MemorySegment state) { return r < 0 ? -errno(state) : r; }

    private static RuntimeException fatal(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- descriptors ----------------------------------------------------------------------------------
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = fn("pread64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = fn("pwrite64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle READV = fn("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle WRITEV = fn("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PREADV2 = fn("preadv2", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PWRITEV2 = fn("pwritev2", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle LSEEK = fn("lseek64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FTRUNCATE = fn("ftruncate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FSYNC = fn("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FDATASYNC = fn("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SYNCFS = fn("syncfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FALLOCATE = fn("fallocate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FCNTL = variadic("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), 2);
    private static final MethodHandle DUP3 = fn("dup3", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle PIPE2 = fn("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POLL = fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    public static int close(int fd) {
        MemorySegment st = state();
        try { return result((int) CLOSE.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long read(int fd, MemorySegment buf, long count) {
        MemorySegment st = state();
        try { return result((long) READ.invokeExact(st, fd, buf, count), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long write(int fd, MemorySegment buf, long count) {
        MemorySegment st = state();
        try { return result((long) WRITE.invokeExact(st, fd, buf, count), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long pread(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment st = state();
        try { return result((long) PREAD.invokeExact(st, fd, buf, count, offset), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long pwrite(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment st = state();
        try { return result((long) PWRITE.invokeExact(st, fd, buf, count, offset), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code iov} points at {@code iovcnt} {@code struct iovec {void *base; size_t len;}} (16 bytes each). */
    public static long readv(int fd, MemorySegment iov, int iovcnt) {
        MemorySegment st = state();
        try { return result((long) READV.invokeExact(st, fd, iov, iovcnt), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long writev(int fd, MemorySegment iov, int iovcnt) {
        MemorySegment st = state();
        try { return result((long) WRITEV.invokeExact(st, fd, iov, iovcnt), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long preadv2(int fd, MemorySegment iov, int iovcnt, long offset, int flags) {
        MemorySegment st = state();
        try { return result((long) PREADV2.invokeExact(st, fd, iov, iovcnt, offset, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long pwritev2(int fd, MemorySegment iov, int iovcnt, long offset, int flags) {
        MemorySegment st = state();
        try { return result((long) PWRITEV2.invokeExact(st, fd, iov, iovcnt, offset, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long lseek(int fd, long offset, int whence) {
        MemorySegment st = state();
        try { return result((long) LSEEK.invokeExact(st, fd, offset, whence), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int ftruncate(int fd, long length) {
        MemorySegment st = state();
        try { return result((int) FTRUNCATE.invokeExact(st, fd, length), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fsync(int fd) {
        MemorySegment st = state();
        try { return result((int) FSYNC.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fdatasync(int fd) {
        MemorySegment st = state();
        try { return result((int) FDATASYNC.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int syncfs(int fd) {
        MemorySegment st = state();
        try { return result((int) SYNCFS.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fallocate(int fd, int mode, long offset, long length) {
        MemorySegment st = state();
        try { return result((int) FALLOCATE.invokeExact(st, fd, mode, offset, length), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fcntl(int fd, int cmd, long arg) {
        MemorySegment st = state();
        try { return result((int) FCNTL.invokeExact(st, fd, cmd, arg), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int dup3(int oldFd, int newFd, int flags) {
        MemorySegment st = state();
        try { return result((int) DUP3.invokeExact(st, oldFd, newFd, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code fds} receives two ints: read end, write end. */
    public static int pipe2(MemorySegment fds, int flags) {
        MemorySegment st = state();
        try { return result((int) PIPE2.invokeExact(st, fds, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code fds} holds {@code nfds} {@code struct pollfd {int fd; short events; short revents;}}. */
    public static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        MemorySegment st = state();
        try { return result((int) POLL.invokeExact(st, fds, nfds, timeoutMillis), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- memory --------------------------------------------------------------------------------------
    private static final MethodHandle MEMFD_CREATE = fn("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MMAP = fn("mmap64", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MADVISE = fn("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

    public static int memfdCreate(MemorySegment name, int flags) {
        MemorySegment st = state();
        try { return result((int) MEMFD_CREATE.invokeExact(st, name, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** Returns the mapping's host address, or {@code -errno} (MAP_FAILED is -1, never a valid address here). */
    public static long mmap(long hostAddressHint, long length, int prot, int flags, int fd, long offset) {
        MemorySegment st = state();
        try {
            long r = (long) MMAP.invokeExact(st, hostAddressHint, length, prot, flags, fd, offset);
            return r == -1L ? -errno(st) : r;
        } catch (Throwable t) { throw fatal(t); }
    }

    public static int munmap(long hostAddress, long length) {
        MemorySegment st = state();
        try { return result((int) MUNMAP.invokeExact(st, hostAddress, length), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int madvise(long hostAddress, long length, int advice) {
        MemorySegment st = state();
        try { return result((int) MADVISE.invokeExact(st, hostAddress, length, advice), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- eventfd, epoll, ioctl -----------------------------------------------------------------------
    private static final MethodHandle EVENTFD = fn("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = fn("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = fn("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = fn("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL_LONG = variadic("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle IOCTL_PTR = variadic("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);

    public static int eventfd(int initialValue, int flags) {
        MemorySegment st = state();
        try { return result((int) EVENTFD.invokeExact(st, initialValue, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int epollCreate1(int flags) {
        MemorySegment st = state();
        try { return result((int) EPOLL_CREATE1.invokeExact(st, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        MemorySegment st = state();
        try { return result((int) EPOLL_CTL.invokeExact(st, epfd, op, fd, event), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        MemorySegment st = state();
        try { return result((int) EPOLL_WAIT.invokeExact(st, epfd, events, maxEvents, timeoutMillis), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** ioctl whose argument is an integer (or unused: pass 0). */
    public static int ioctl(int fd, long request, long arg) {
        MemorySegment st = state();
        try { return result((int) IOCTL_LONG.invokeExact(st, fd, request, arg), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** ioctl whose argument points at a struct. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        MemorySegment st = state();
        try { return result((int) IOCTL_PTR.invokeExact(st, fd, request, arg), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- sockets -------------------------------------------------------------------------------------
    private static final MethodHandle SOCKET = fn("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = fn("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BIND = fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = fn("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = fn("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = fn("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = fn("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG = fn("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDTO = fn("sendto", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = fn("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = fn("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSOCKOPT = fn("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = fn("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    public static int socket(int domain, int type, int protocol) {
        MemorySegment st = state();
        try { return result((int) SOCKET.invokeExact(st, domain, type, protocol), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int socketpair(int domain, int type, int protocol, MemorySegment fds) {
        MemorySegment st = state();
        try { return result((int) SOCKETPAIR.invokeExact(st, domain, type, protocol, fds), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int bind(int fd, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try { return result((int) BIND.invokeExact(st, fd, addr, addrLen), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int listen(int fd, int backlog) {
        MemorySegment st = state();
        try { return result((int) LISTEN.invokeExact(st, fd, backlog), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int accept4(int fd, int flags) {
        MemorySegment st = state();
        try { return result((int) ACCEPT4.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int connect(int fd, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try { return result((int) CONNECT.invokeExact(st, fd, addr, addrLen), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment st = state();
        try { return result((long) RECVMSG.invokeExact(st, fd, msghdr, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment st = state();
        try { return result((long) SENDMSG.invokeExact(st, fd, msghdr, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long sendto(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try { return result((long) SENDTO.invokeExact(st, fd, buf, len, flags, addr, addrLen), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int shutdown(int fd, int how) {
        MemorySegment st = state();
        try { return result((int) SHUTDOWN.invokeExact(st, fd, how), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment lenInOut) {
        MemorySegment st = state();
        try { return result((int) GETSOCKOPT.invokeExact(st, fd, level, name, value, lenInOut), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int setsockopt(int fd, int level, int name, MemorySegment value, int len) {
        MemorySegment st = state();
        try { return result((int) SETSOCKOPT.invokeExact(st, fd, level, name, value, len), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getsockname(int fd, MemorySegment addr, MemorySegment lenInOut) {
        MemorySegment st = state();
        try { return result((int) GETSOCKNAME.invokeExact(st, fd, addr, lenInOut), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- files by path, relative to a directory fd ---------------------------------------------------
    private static final MethodHandle OPENAT = variadic("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
    private static final MethodHandle STATX = fn("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle MKDIRAT = fn("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MKNODAT = fn("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle UNLINKAT = fn("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RENAMEAT2 = fn("renameat2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LINKAT = fn("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SYMLINKAT = fn("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle READLINKAT = fn("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle FCHOWNAT = fn("fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHMODAT = fn("fchmodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHMOD = fn("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHOWN = fn("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UTIMENSAT = fn("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle FUTIMENS = fn("futimens", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle GETDENTS64 = fn("getdents64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FSTATVFS = fn("fstatvfs64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle COPY_FILE_RANGE = fn("copy_file_range", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FGETXATTR = fn("fgetxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle FSETXATTR = fn("fsetxattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FLISTXATTR = fn("flistxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FREMOVEXATTR = fn("fremovexattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle LGETXATTR = fn("lgetxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LSETXATTR = fn("lsetxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle LLISTXATTR = fn("llistxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LREMOVEXATTR = fn("lremovexattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle FCHDIR = fn("fchdir", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle CHROOT = fn("chroot", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle UMASK = plain("umask", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle UNSHARE = fn("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    public static int openat(int dirfd, MemorySegment path, int flags, int mode) {
        MemorySegment st = state();
        try { return result((int) OPENAT.invokeExact(st, dirfd, path, flags, mode), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code buf} is a 256-byte {@code struct statx} (see {@link Statx}). */
    public static int statx(int dirfd, MemorySegment path, int flags, int mask, MemorySegment buf) {
        MemorySegment st = state();
        try { return result((int) STATX.invokeExact(st, dirfd, path, flags, mask, buf), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int mkdirat(int dirfd, MemorySegment path, int mode) {
        MemorySegment st = state();
        try { return result((int) MKDIRAT.invokeExact(st, dirfd, path, mode), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int mknodat(int dirfd, MemorySegment path, int mode, long dev) {
        MemorySegment st = state();
        try { return result((int) MKNODAT.invokeExact(st, dirfd, path, mode, dev), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int unlinkat(int dirfd, MemorySegment path, int flags) {
        MemorySegment st = state();
        try { return result((int) UNLINKAT.invokeExact(st, dirfd, path, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int renameat2(int oldDirfd, MemorySegment oldPath, int newDirfd, MemorySegment newPath, int flags) {
        MemorySegment st = state();
        try { return result((int) RENAMEAT2.invokeExact(st, oldDirfd, oldPath, newDirfd, newPath, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int linkat(int oldDirfd, MemorySegment oldPath, int newDirfd, MemorySegment newPath, int flags) {
        MemorySegment st = state();
        try { return result((int) LINKAT.invokeExact(st, oldDirfd, oldPath, newDirfd, newPath, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int symlinkat(MemorySegment target, int newDirfd, MemorySegment linkPath) {
        MemorySegment st = state();
        try { return result((int) SYMLINKAT.invokeExact(st, target, newDirfd, linkPath), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long readlinkat(int dirfd, MemorySegment path, MemorySegment buf, long size) {
        MemorySegment st = state();
        try { return result((long) READLINKAT.invokeExact(st, dirfd, path, buf, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchownat(int dirfd, MemorySegment path, int uid, int gid, int flags) {
        MemorySegment st = state();
        try { return result((int) FCHOWNAT.invokeExact(st, dirfd, path, uid, gid, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchmodat(int dirfd, MemorySegment path, int mode, int flags) {
        MemorySegment st = state();
        try { return result((int) FCHMODAT.invokeExact(st, dirfd, path, mode, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchmod(int fd, int mode) {
        MemorySegment st = state();
        try { return result((int) FCHMOD.invokeExact(st, fd, mode), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchown(int fd, int uid, int gid) {
        MemorySegment st = state();
        try { return result((int) FCHOWN.invokeExact(st, fd, uid, gid), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code times} holds two {@code struct timespec} (atime, mtime), 16 bytes each. */
    public static int utimensat(int dirfd, MemorySegment path, MemorySegment times, int flags) {
        MemorySegment st = state();
        try { return result((int) UTIMENSAT.invokeExact(st, dirfd, path, times, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int futimens(int fd, MemorySegment times) {
        MemorySegment st = state();
        try { return result((int) FUTIMENS.invokeExact(st, fd, times), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long getdents64(int fd, MemorySegment buf, long size) {
        MemorySegment st = state();
        try { return result((long) GETDENTS64.invokeExact(st, fd, buf, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code buf} is a 112-byte {@code struct statvfs} (LP64: eleven u64 fields, then spare ints). */
    public static int fstatvfs(int fd, MemorySegment buf) {
        MemorySegment st = state();
        try { return result((int) FSTATVFS.invokeExact(st, fd, buf), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long copyFileRange(int fdIn, MemorySegment offIn, int fdOut, MemorySegment offOut, long len, int flags) {
        MemorySegment st = state();
        try { return result((long) COPY_FILE_RANGE.invokeExact(st, fdIn, offIn, fdOut, offOut, len, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long fgetxattr(int fd, MemorySegment name, MemorySegment value, long size) {
        MemorySegment st = state();
        try { return result((long) FGETXATTR.invokeExact(st, fd, name, value, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fsetxattr(int fd, MemorySegment name, MemorySegment value, long size, int flags) {
        MemorySegment st = state();
        try { return result((int) FSETXATTR.invokeExact(st, fd, name, value, size, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long flistxattr(int fd, MemorySegment list, long size) {
        MemorySegment st = state();
        try { return result((long) FLISTXATTR.invokeExact(st, fd, list, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fremovexattr(int fd, MemorySegment name) {
        MemorySegment st = state();
        try { return result((int) FREMOVEXATTR.invokeExact(st, fd, name), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long lgetxattr(MemorySegment path, MemorySegment name, MemorySegment value, long size) {
        MemorySegment st = state();
        try { return result((long) LGETXATTR.invokeExact(st, path, name, value, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int lsetxattr(MemorySegment path, MemorySegment name, MemorySegment value, long size, int flags) {
        MemorySegment st = state();
        try { return result((int) LSETXATTR.invokeExact(st, path, name, value, size, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static long llistxattr(MemorySegment path, MemorySegment list, long size) {
        MemorySegment st = state();
        try { return result((long) LLISTXATTR.invokeExact(st, path, list, size), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int lremovexattr(MemorySegment path, MemorySegment name) {
        MemorySegment st = state();
        try { return result((int) LREMOVEXATTR.invokeExact(st, path, name), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int fchdir(int fd) {
        MemorySegment st = state();
        try { return result((int) FCHDIR.invokeExact(st, fd), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int chroot(MemorySegment path) {
        MemorySegment st = state();
        try { return result((int) CHROOT.invokeExact(st, path), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** umask cannot fail; returns the previous mask. */
    public static int umask(int mask) {
        try { return (int) UMASK.invokeExact(mask); } catch (Throwable t) { throw fatal(t); }
    }

    public static int unshare(int flags) {
        MemorySegment st = state();
        try { return result((int) UNSHARE.invokeExact(st, flags), st); } catch (Throwable t) { throw fatal(t); }
    }

    // ---- processes and raw syscalls ------------------------------------------------------------------
    private static final MethodHandle SYSCALL6 = variadic("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final MethodHandle GETPID = plain("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETTID = plain("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEUID = plain("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEGID = plain("getegid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle KILL = fn("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle TGKILL = fn("tgkill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETRLIMIT = fn("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SETRLIMIT = fn("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle PRCTL = variadic("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final MethodHandle STRERROR = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /**
     * A raw system call (for calls glibc does not wrap, such as openat2 or io_uring_enter, and for per-thread
     * credentials, which glibc's wrappers would apply to every thread). Pointer arguments are passed as
     * {@code segment.address()}, taken just before the call while the segment is alive.
     */
    public static long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
        MemorySegment st = state();
        try { return result((long) SYSCALL6.invokeExact(st, number, a1, a2, a3, a4, a5, a6), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getpid() {
        try { return (int) GETPID.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int gettid() {
        try { return (int) GETTID.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int geteuid() {
        try { return (int) GETEUID.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getegid() {
        try { return (int) GETEGID.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int kill(int pid, int signal) {
        MemorySegment st = state();
        try { return result((int) KILL.invokeExact(st, pid, signal), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** Sends {@code signal} to one thread ({@code tid} from {@link #gettid()}) of process {@code tgid}. */
    public static int tgkill(int tgid, int tid, int signal) {
        MemorySegment st = state();
        try { return result((int) TGKILL.invokeExact(st, tgid, tid, signal), st); } catch (Throwable t) { throw fatal(t); }
    }

    /** {@code rlim} is a {@code struct rlimit {u64 cur; u64 max;}}. */
    public static int getrlimit(int resource, MemorySegment rlim) {
        MemorySegment st = state();
        try { return result((int) GETRLIMIT.invokeExact(st, resource, rlim), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int setrlimit(int resource, MemorySegment rlim) {
        MemorySegment st = state();
        try { return result((int) SETRLIMIT.invokeExact(st, resource, rlim), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static int prctl(int option, long a2, long a3, long a4, long a5) {
        MemorySegment st = state();
        try { return result((int) PRCTL.invokeExact(st, option, a2, a3, a4, a5), st); } catch (Throwable t) { throw fatal(t); }
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) { throw fatal(t); }
    }
}
