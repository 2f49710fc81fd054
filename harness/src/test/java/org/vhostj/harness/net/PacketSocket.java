package org.vhostj.harness.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Predicate;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;
import org.vhostj.sys.NetCalls;

/**
 * The host side of a tap device in tests: an AF_PACKET raw socket bound to the interface. What it writes is
 * transmitted by the interface (so the tap's reader, our daemon, gets it); what it reads is every frame the
 * interface saw, including the ones our daemon wrote into the tap.
 * <pre>struct sockaddr_ll { u16 family @0; be16 protocol @2; int ifindex @4; u16 hatype @8; u8 pkttype @10; u8 halen @11; u8 addr[8] @12; } // 20</pre>
 */
final class PacketSocket implements AutoCloseable {
    private static final int AF_PACKET = 17, SOCK_RAW = 3;
    private static final short ETH_P_ALL_BE = 0x0300;
    private final Arena arena = Arena.ofConfined();
    private final Fd fd;
    private final MemorySegment buf = arena.allocate(65536, 64), pfd = arena.allocate(8, 4);

    PacketSocket(String ifname) {
        int index = NetCalls.ifNameToIndex(ifname);
        if (index < 0) throw new IllegalStateException("no interface " + ifname + ": errno " + -index);
        fd = Fd.adopt(ErrnoException.check("socket(AF_PACKET)", LibC.socket(AF_PACKET, SOCK_RAW | NetCalls.SOCK_NONBLOCK | NetCalls.SOCK_CLOEXEC, ETH_P_ALL_BE)));
        MemorySegment sll = arena.allocate(20, 4);
        sll.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
        sll.set(ValueLayout.JAVA_SHORT, 2, ETH_P_ALL_BE);
        sll.set(ValueLayout.JAVA_INT, 4, index);
        ErrnoException.check("bind(AF_PACKET " + ifname + ")", LibC.bind(fd.value(), sll, 20));
    }

    void send(byte[] frame) {
        MemorySegment.copy(frame, 0, buf, ValueLayout.JAVA_BYTE, 0, frame.length);
        ErrnoException.check("write(AF_PACKET)", LibC.write(fd.value(), buf, frame.length));
    }

    /** The next frame matching {@code wanted} within {@code timeoutMillis}, or null. */
    byte[] receive(long timeoutMillis, Predicate<byte[]> wanted) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            long n = LibC.read(fd.value(), buf, buf.byteSize());
            if (n > 0) {
                byte[] f = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                if (wanted.test(f)) return f;
                continue;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) return null;
            pfd.set(ValueLayout.JAVA_INT, 0, fd.value());
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1);
            LibC.poll(pfd, 1, (int) Math.min(left, 100));
        }
    }

    @Override
    public void close() {
        fd.close();
        arena.close();
    }
}
