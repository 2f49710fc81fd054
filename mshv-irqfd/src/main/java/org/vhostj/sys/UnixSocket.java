package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Owner of one AF_UNIX stream socket: a listener, or a connection that carries bytes together with
 * SCM_RIGHTS descriptors (a vhost-user message is header + payload + up to 8 fds in one sendmsg).
 *
 * <p>Threads: at most one thread receives and one thread sends at a time (each direction has its own
 * scratch). {@link #shutdown()} may be called from any thread to wake a blocked receive or accept; the
 * owner then closes.
 *
 * <pre>
 * struct msghdr  { void *name @0; u32 namelen @8; struct iovec *iov @16; size_t iovlen @24;
 *                  void *control @32; size_t controllen @40; int flags @48; }              // 56 bytes
 * struct cmsghdr { size_t len @0; int level @8; int type @12; u8 data[] @16; }
 * </pre>
 */
public final class UnixSocket implements AutoCloseable {
    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5,
            SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
    public static final int SOL_SOCKET = 1, SCM_RIGHTS = 1, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21,
            SO_ACCEPTCONN = 30, SO_TYPE = 3, SO_DOMAIN = 39, SO_PEERCRED = 17;
    public static final int MSG_CTRUNC = 0x8, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
    private static final long SUN_PATH_MAX = 107;          // 108 bytes including the NUL
    private static final long MSGHDR_SIZE = 56, CMSG_HDR = 16;
    private static final long CONTROL_SIZE = CMSG_HDR + 4L * ReceivedFds.CAPACITY;

    private final Fd fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rxMsg, rxIov, rxControl, txMsg, txIov, txControl;

    private UnixSocket(Fd fd) {
        this.fd = fd;
        rxMsg = arena.allocate(MSGHDR_SIZE, 8);
        rxIov = arena.allocate(16, 8);
        rxControl = arena.allocate(CONTROL_SIZE, 8);
        txMsg = arena.allocate(MSGHDR_SIZE, 8);
        txIov = arena.allocate(16, 8);
        txControl = arena.allocate(CONTROL_SIZE, 8);
    }

    /** Takes ownership of a socket descriptor (an inherited LISTEN_FDS listener, one end of a pair). */
    public static UnixSocket adopt(Fd fd) { return new UnixSocket(fd); }

    /**
     * Creates, binds and listens on {@code path}; the caller removes a stale file first if it wants to. The
     * socket is bound under a temporary name and renamed to {@code path} once it listens, so a client that
     * waits for the file to appear (as VMMs do) never finds it refusing connections.
     */
    public static UnixSocket listen(Path path, int backlog) {
        Fd fd = Fd.adopt(ErrnoException.check("socket", LibC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)));
        Path staging = path.resolveSibling("." + ProcessHandle.current().pid() + ".listening");
        try (Arena a = Arena.ofConfined()) {
            sockaddr(a, path);   // the final name must fit too
            boolean staged = staging.toString().getBytes(StandardCharsets.UTF_8).length <= SUN_PATH_MAX;   // else bind in place
            MemorySegment addr = sockaddr(a, staged ? staging : path);
            if (staged) java.nio.file.Files.deleteIfExists(staging);
            int r = LibC.bind(fd.value(), addr, (int) addr.byteSize());
            if (r < 0) throw new ErrnoException("bind", -r, path.toString());
            ErrnoException.check("listen", LibC.listen(fd.value(), backlog));
            if (staged) {
                try {
                    java.nio.file.Files.move(staging, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } catch (java.io.IOException e) {
                    java.nio.file.Files.deleteIfExists(staging);
                    throw new ErrnoException("rename", Errno.EEXIST, staging + " -> " + path + ": " + e.getMessage());
                }
            }
            return new UnixSocket(fd);
        } catch (java.io.IOException e) {
            fd.close();
            throw new ErrnoException("unlink", Errno.EACCES, staging + ": " + e.getMessage());
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** Connects to a listening socket at {@code path}. */
    public static UnixSocket connect(Path path) {
        Fd fd = Fd.adopt(ErrnoException.check("socket", LibC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = sockaddr(a, path);
            int r = LibC.connect(fd.value(), addr, (int) addr.byteSize());
            if (r < 0) throw new ErrnoException("connect", -r, path.toString());
            return new UnixSocket(fd);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** A connected pair (socketpair), both ends owned by the caller. */
    public static UnixSocket[] pair() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8, 4);
            ErrnoException.check("socketpair", LibC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
            return new UnixSocket[] {
                new UnixSocket(Fd.adopt(fds.get(ValueLayout.JAVA_INT, 0))),
                new UnixSocket(Fd.adopt(fds.get(ValueLayout.JAVA_INT, 4)))
            };
        }
    }

    private static MemorySegment sockaddr(Arena a, Path path) {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length == 0 || p.length > SUN_PATH_MAX) {
            throw new ErrnoException("sockaddr_un", Errno.ENAMETOOLONG,
                    "socket path must be 1.." + SUN_PATH_MAX + " bytes, got " + p.length + ": " + path);
        }
        MemorySegment addr = a.allocate(2 + p.length + 1, 2);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(p, 0, addr, ValueLayout.JAVA_BYTE, 2, p.length);
        return addr;
    }

    public int fd() { return fd.value(); }

    public Fd owner() { return fd; }

    /** True if this socket is a listening stream socket (SO_ACCEPTCONN): checks an inherited LISTEN_FDS descriptor. */
    public boolean isListening() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(4, 4), len = a.allocate(4, 4);
            len.set(ValueLayout.JAVA_INT, 0, 4);
            return LibC.getsockopt(fd.value(), SOL_SOCKET, SO_ACCEPTCONN, v, len) == 0 && v.get(ValueLayout.JAVA_INT, 0) != 0;
        }
    }

    /** Blocks for the next connection. Returns null once the listener was shut down. */
    public UnixSocket accept() {
        while (true) {
            int r = LibC.accept4(fd.value(), SOCK_CLOEXEC);
            if (r >= 0) return new UnixSocket(Fd.adopt(r));
            if (r == -Errno.EINTR || r == -Errno.ECONNABORTED) continue;
            if (r == -Errno.EINVAL || r == -Errno.EBADF) return null;       // shut down or closed
            throw new ErrnoException("accept4", -r);
        }
    }

    /** Receive timeout for blocking receives (0: none). A timed-out receive returns {@code -EAGAIN}. */
    public void setReceiveTimeout(long millis) { setTimeout(SO_RCVTIMEO, millis); }

    public void setSendTimeout(long millis) { setTimeout(SO_SNDTIMEO, millis); }

    private void setTimeout(int option, long millis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16, 8);
            tv.set(ValueLayout.JAVA_LONG, 0, millis / 1000);
            tv.set(ValueLayout.JAVA_LONG, 8, (millis % 1000) * 1000);
            ErrnoException.check("setsockopt", LibC.setsockopt(fd.value(), SOL_SOCKET, option, tv, 16));
        }
    }

    /**
     * Sends {@code lengthBytes} of {@code data} with {@code fds} attached to the first byte, looping over
     * partial writes. Returns 0, or {@code -errno} (EPIPE/ECONNRESET when the peer went away).
     */
    public int send(MemorySegment data, long lengthBytes, int... fds) {
        if (fds.length > ReceivedFds.CAPACITY) throw new IllegalArgumentException("too many fds: " + fds.length);
        long sent = 0;
        boolean first = true;
        while (sent < lengthBytes || (first && lengthBytes == 0 && fds.length > 0)) {
            txIov.set(ValueLayout.ADDRESS, 0, data.asSlice(sent));
            txIov.set(ValueLayout.JAVA_LONG, 8, lengthBytes - sent);
            txMsg.fill((byte) 0);
            txMsg.set(ValueLayout.ADDRESS, 16, txIov);
            txMsg.set(ValueLayout.JAVA_LONG, 24, 1L);
            if (first && fds.length > 0) {
                long cmsgLen = CMSG_HDR + 4L * fds.length;
                txControl.set(ValueLayout.JAVA_LONG, 0, cmsgLen);
                txControl.set(ValueLayout.JAVA_INT, 8, SOL_SOCKET);
                txControl.set(ValueLayout.JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) txControl.set(ValueLayout.JAVA_INT, CMSG_HDR + 4L * i, fds[i]);
                txMsg.set(ValueLayout.ADDRESS, 32, txControl);
                txMsg.set(ValueLayout.JAVA_LONG, 40, align8(cmsgLen));
            }
            long r = LibC.sendmsg(fd.value(), txMsg, MSG_NOSIGNAL);
            if (r == -Errno.EINTR) continue;
            if (r < 0) return (int) r;
            sent += r;
            first = false;
            if (lengthBytes == 0) break;
        }
        return 0;
    }

    /**
     * One recvmsg of at most {@code lengthBytes} into {@code buf}; descriptors that came with these bytes are
     * added to {@code fds}. Returns the byte count (0: the peer closed), or {@code -errno}.
     */
    public long receive(MemorySegment buf, long lengthBytes, ReceivedFds fds, int flags) {
        rxIov.set(ValueLayout.ADDRESS, 0, buf);
        rxIov.set(ValueLayout.JAVA_LONG, 8, lengthBytes);
        rxMsg.fill((byte) 0);
        rxMsg.set(ValueLayout.ADDRESS, 16, rxIov);
        rxMsg.set(ValueLayout.JAVA_LONG, 24, 1L);
        rxMsg.set(ValueLayout.ADDRESS, 32, rxControl);
        rxMsg.set(ValueLayout.JAVA_LONG, 40, CONTROL_SIZE);
        long r;
        do { r = LibC.recvmsg(fd.value(), rxMsg, flags | MSG_CMSG_CLOEXEC); } while (r == -Errno.EINTR);
        if (r < 0) return r;
        long controlLen = rxMsg.get(ValueLayout.JAVA_LONG, 40);
        for (long off = 0; off + CMSG_HDR <= controlLen; ) {
            long cmsgLen = rxControl.get(ValueLayout.JAVA_LONG, off);
            if (cmsgLen < CMSG_HDR || off + cmsgLen > controlLen) break;
            if (rxControl.get(ValueLayout.JAVA_INT, off + 8) == SOL_SOCKET && rxControl.get(ValueLayout.JAVA_INT, off + 12) == SCM_RIGHTS) {
                for (long i = 0; i < (cmsgLen - CMSG_HDR) / 4; i++) fds.add(rxControl.get(ValueLayout.JAVA_INT, off + CMSG_HDR + 4 * i));
            }
            off += align8(cmsgLen);
        }
        if ((rxMsg.get(ValueLayout.JAVA_INT, 48) & MSG_CTRUNC) != 0) fds.markTruncated();
        return r;
    }

    /**
     * Receives exactly {@code lengthBytes} (looping over short reads, never reading past them, so the next
     * message's fds stay queued). Returns {@code lengthBytes}, fewer if the peer closed first, or {@code -errno}.
     */
    public long receiveExact(MemorySegment buf, long lengthBytes, ReceivedFds fds) {
        long got = 0;
        while (got < lengthBytes) {
            long r = receive(buf.asSlice(got), lengthBytes - got, fds, 0);
            if (r < 0) return r;
            if (r == 0) return got;
            got += r;
        }
        return got;
    }

    /** Wakes a thread blocked in accept or receive on this socket; safe from any thread. */
    public void shutdown() {
        if (fd.isOpen()) LibC.shutdown(fd.value(), SHUT_RDWR);
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        fd.close();
        arena.close();
    }

    private static long align8(long n) { return (n + 7) & ~7L; }
}
