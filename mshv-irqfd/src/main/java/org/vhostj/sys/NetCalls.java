package org.vhostj.sys;

import static org.vhostj.sys.Downcalls.*;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * Network calls for the virtio-net backends (tap devices, datagram sockets), in the pattern of {@link LibC}:
 * one static downcall handle per call, errno captured, {@code -errno} returned on failure. Generic calls
 * (ioctl, socket, bind, sendmsg, recvmsg, readv, writev) stay in {@link LibC}; this class adds the calls
 * and the uapi constants only the net backends use, and small setup helpers that throw
 * {@link ErrnoException}.
 *
 * <pre>
 * struct ifreq { char ifr_name[16] @0; union { short ifr_flags; ... } @16; }          // 40 bytes
 * struct sockaddr_un { sa_family_t sun_family @0; char sun_path[108] @2; }          // 110 bytes
 * struct msghdr { void *msg_name @0; socklen_t msg_namelen @8; struct iovec *msg_iov @16;
 *                 size_t msg_iovlen @24; void *msg_control @32; size_t msg_controllen @40; int msg_flags @48; } // 56
 * </pre>
 */
public final class NetCalls {
    private NetCalls() {}

    // linux/if_tun.h, linux/if.h
    public static final long TUNSETIFF = 0x400454caL, TUNSETPERSIST = 0x400454cbL, TUNSETOFFLOAD = 0x400454d0L,
            TUNGETIFF = 0x800454d2L, TUNSETVNETHDRSZ = 0x400454d8L, TUNSETQUEUE = 0x400454d9L;
    public static final int IFF_TAP = 0x0002, IFF_NO_PI = 0x1000, IFF_VNET_HDR = 0x4000, IFF_MULTI_QUEUE = 0x0100,
            IFF_ATTACH_QUEUE = 0x0200, IFF_DETACH_QUEUE = 0x0400;
    public static final int TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04, TUN_F_TSO_ECN = 0x08, TUN_F_UFO = 0x10;
    public static final int IFNAMSIZ = 16, IFREQ_SIZE = 40, IFREQ_FLAGS_OFFSET = 16;

    // sys/socket.h
    public static final int AF_UNIX = 1, AF_INET = 2, SOCK_DGRAM = 2, SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
    public static final int SOL_SOCKET = 1, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33;
    public static final int MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
    public static final int SOCKADDR_UN_SIZE = 110, SUN_PATH_OFFSET = 2, SUN_PATH_MAX = 108;
    public static final int MSGHDR_SIZE = 56, MSG_NAME_OFFSET = 0, MSG_NAMELEN_OFFSET = 8, MSG_IOV_OFFSET = 16,
            MSG_IOVLEN_OFFSET = 24, MSG_CONTROL_OFFSET = 32, MSG_CONTROLLEN_OFFSET = 40, MSG_FLAGS_OFFSET = 48;

    private static final class IfNametoindex { static final MethodHandle H = fn("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    /** int sendmmsg(int fd, struct mmsghdr *msgvec, unsigned vlen, int flags): several datagrams per call. */
    private static final class Sendmmsg { static final MethodHandle H = fn("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)); }

    /** Index of network interface {@code name}, or {@code -errno} (-ENODEV when there is none). */
    public static int ifNameToIndex(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state();
            int r = (int) IfNametoindex.H.invokeExact(st, a.allocateFrom(name));
            return r == 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** sendmmsg(2): returns the datagrams sent or {@code -errno}. {@code msgvec} holds {@code struct mmsghdr} (64 bytes each). */
    public static int sendmmsg(int fd, MemorySegment msgvec, int vlen, int flags) {
        try {
            MemorySegment st = state();
            return result((int) Sendmmsg.H.invokeExact(st, fd, msgvec, vlen, flags), st);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    // ---- tap -----------------------------------------------------------------------------------------

    /**
     * Opens one queue of tap device {@code name} (created if absent) with {@code flags} (IFF_TAP | IFF_NO_PI |
     * IFF_VNET_HDR | IFF_MULTI_QUEUE...), non-blocking and close-on-exec. Returns the owner of the queue fd.
     */
    public static Fd openTapQueue(String name, int flags) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length == 0 || n.length >= IFNAMSIZ) throw new IllegalArgumentException("interface name must be 1.." + (IFNAMSIZ - 1) + " bytes: " + name);
        try (Arena a = Arena.ofConfined()) {
            Fd fd = Fd.adopt(ErrnoException.check("open(/dev/net/tun)",
                    LibC.openat(Fcntl.AT_FDCWD, a.allocateFrom("/dev/net/tun"), Fcntl.O_RDWR | Fcntl.O_NONBLOCK | Fcntl.O_CLOEXEC, 0)));
            try {
                MemorySegment ifr = a.allocate(IFREQ_SIZE, 8);
                MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
                ifr.set(ValueLayout.JAVA_SHORT, IFREQ_FLAGS_OFFSET, (short) flags);
                ErrnoException.check("ioctl(TUNSETIFF " + name + ")", LibC.ioctl(fd.value(), TUNSETIFF, ifr));
                return fd;
            } catch (RuntimeException e) {
                fd.close();
                throw e;
            }
        }
    }

    /** TUNSETVNETHDRSZ: the virtio-net header length the tap reads and writes before each frame (10 or 12). */
    public static int setVnetHeaderSize(int tapFd, int bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, bytes);
            return LibC.ioctl(tapFd, TUNSETVNETHDRSZ, v);
        }
    }

    /** TUNSETOFFLOAD: which offloads (TUN_F_*) the tap may hand us in frames it sends our way. */
    public static int setOffload(int tapFd, int tunFlags) { return LibC.ioctl(tapFd, TUNSETOFFLOAD, tunFlags); }

    /** TUNSETQUEUE: attaches (or detaches) this queue fd of a multiqueue tap. */
    public static int setQueueAttached(int tapFd, boolean attached) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = a.allocate(IFREQ_SIZE, 8);
            ifr.set(ValueLayout.JAVA_SHORT, IFREQ_FLAGS_OFFSET, (short) (attached ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE));
            return LibC.ioctl(tapFd, TUNSETQUEUE, ifr);
        }
    }

    // ---- unix datagram sockets ---------------------------------------------------------------------

    /** Writes an abstract-namespace {@code sockaddr_un} for {@code name} (no leading NUL) into {@code addr}; returns its length. */
    public static int abstractAddress(MemorySegment addr, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length + 1 > SUN_PATH_MAX) throw new IllegalArgumentException("abstract socket name too long: " + name);
        addr.asSlice(0, SOCKADDR_UN_SIZE).fill((byte) 0);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(n, 0, addr, ValueLayout.JAVA_BYTE, SUN_PATH_OFFSET + 1, n.length);
        return SUN_PATH_OFFSET + 1 + n.length;
    }

    /** A non-blocking AF_UNIX datagram socket bound to abstract name {@code name}, with buffers of {@code bufferBytes}. */
    public static Fd bindAbstractDatagram(String name, int bufferBytes) {
        Fd fd = Fd.adopt(ErrnoException.check("socket(AF_UNIX, SOCK_DGRAM)", LibC.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(SOCKADDR_UN_SIZE, 8);
            int len = abstractAddress(addr, name);
            ErrnoException.check("bind(@" + name + ")", LibC.bind(fd.value(), addr, len));
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, bufferBytes);
            // FORCE needs CAP_NET_ADMIN; without it the plain option (capped by net.core.*mem_max) is used
            if (LibC.setsockopt(fd.value(), SOL_SOCKET, SO_SNDBUFFORCE, v, 4) < 0) LibC.setsockopt(fd.value(), SOL_SOCKET, SO_SNDBUF, v, 4);
            if (LibC.setsockopt(fd.value(), SOL_SOCKET, SO_RCVBUFFORCE, v, 4) < 0) LibC.setsockopt(fd.value(), SOL_SOCKET, SO_RCVBUF, v, 4);
            return fd;
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    static { if (JAVA_LONG.byteSize() != 8) throw new ExceptionInInitializerError("64-bit only"); }
}
