package org.vhostj.vhost.daemon;

import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestPackedDriver;
import org.vhostj.vhost.testing.TestSplitDriver;

/** One front-end session against a test daemon: a client, guest memory, and ring 0 (split or packed) started. */
final class DaemonSession implements AutoCloseable {
    static final int SIZE = 64;
    final RawFrontendClient fe;
    final TestGuest guest = new TestGuest(4 << 20);
    final EventFd kick = EventFd.create(), call = EventFd.create();
    final boolean packed;
    TestSplitDriver split;
    TestPackedDriver packedDrv;
    final long data;

    DaemonSession(Path socket, boolean packed, boolean eventIdx) {
        this.packed = packed;
        fe = new RawFrontendClient(socket);
        long want = VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)
                | VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) | (eventIdx ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0)
                | (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
        fe.handshake(want, ~0L & ~ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS));
        fe.setMemTable(guest);
        data = guest.alloc(1 << 20, 4096);
        startRing(0, 0);
    }

    void startRing(int index, int base) {
        if (packed) {
            packedDrv = new TestPackedDriver(guest, SIZE);
            fe.startRing(index, SIZE, base == 0 ? 0x8000 : base, packedDrv.ringGpa, packedDrv.driverEventGpa, packedDrv.deviceEventGpa, kick.fd(), call.fd());
        } else {
            split = new TestSplitDriver(guest, SIZE);
            fe.startRing(index, SIZE, base, split.descGpa, split.availGpa, split.usedGpa, kick.fd(), call.fd());
        }
    }

    /** Posts one echo request (readable {@code len} bytes of {@code fill}, writable {@code len}) with id/head {@code id}. */
    void postEcho(int id, int len, byte fill) {
        long in = data + 8192L * id, out = in + 4096;
        guest.at(in, len).fill(fill);
        guest.at(out, len).fill((byte) 0);
        if (packed) {
            packedDrv.post(id, new long[] {in, out}, new long[] {len, len}, new int[] {0, DESC_F_WRITE});
        } else {
            split.desc(2 * id, in, len, DESC_F_NEXT, 2 * id + 1);
            split.desc(2 * id + 1, out, len, DESC_F_WRITE, 0);
            split.publish(2 * id);
        }
        kick.signal();
    }

    MemorySegment echoOut(int id, int len) { return guest.at(data + 8192L * id + 4096, len); }

    /** Waits for one used element: {id (split: head/2), len}. */
    int[] awaitUsed() throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < end) {
            if (packed) {
                int[] u = packedDrv.takeUsed();
                if (u != null) return u;
            } else if (split.pendingUsed() > 0) {
                int[] u = split.takeUsed();
                return new int[] {u[0] / 2, u[1]};
            }
            Thread.sleep(1);
        }
        throw new AssertionError("no used element within 10 s");
    }

    int readEcho(int id, int len) { return echoOut(id, len).get(ValueLayout.JAVA_BYTE, len - 1); }

    @Override
    public void close() {
        fe.close();
        kick.close();
        call.close();
        guest.close();
    }
}
