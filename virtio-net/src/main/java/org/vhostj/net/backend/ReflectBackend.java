package org.vhostj.net.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.vhostj.net.FrameBuffers;
import org.vhostj.net.Macs;
import org.vhostj.sys.Errno;
import org.vhostj.sys.EventFd;

/**
 * Test and benchmark backends that need no network:
 * <ul>
 *   <li>{@code reflect}: every frame the guest sends comes back on the same queue pair with its MAC addresses
 *   swapped (what testpmd's macswap forwarding does), through a per-pair FIFO of {@value #SLOTS} frames in
 *   native memory; a full FIFO drops (counted by the device as a backend drop).</li>
 *   <li>{@code sink}: frames the guest sends are counted and discarded; nothing is received.</li>
 *   <li>{@code source:LEN}: the guest receives LEN-byte frames as fast as it posts buffers; what it sends is
 *   discarded.</li>
 * </ul>
 * A pair's TX and RX handlers run on the same worker thread, so the FIFO needs no synchronization; an
 * eventfd (signalled when the FIFO stops being empty) tells the worker's epoll that the RX side has work.
 */
public final class ReflectBackend implements NetBackend {
    public enum Mode { REFLECT, SINK, SOURCE }

    static final int SLOTS = 256;
    private final Mode mode;
    private final int pairs, slotBytes, sourceBytes;
    private final Arena arena = Arena.ofShared();
    private final Port[] ports;

    /**
     * @param maxFrameBytes largest frame a slot holds (MTU + 18)
     * @param sourceBytes   frame length of {@link Mode#SOURCE}
     */
    public ReflectBackend(Mode mode, int pairs, int maxFrameBytes, int sourceBytes) {
        this.mode = mode;
        this.pairs = pairs;
        this.slotBytes = maxFrameBytes;
        this.sourceBytes = sourceBytes;
        ports = new Port[pairs];
        for (int p = 0; p < pairs; p++) ports[p] = new Port();
    }

    @Override
    public String describe() {
        return switch (mode) { case REFLECT -> "reflect"; case SINK -> "sink"; case SOURCE -> "source:" + sourceBytes; };
    }

    @Override public int maxPairs() { return pairs; }

    @Override public NetPort port(int pair) { return ports[pair]; }

    @Override
    public void reset() {
        for (Port p : ports) p.clear();
    }

    @Override
    public void close() {
        for (Port p : ports) p.wake.close();
        arena.close();
    }

    final class Port implements NetPort {
        private final EventFd wake = EventFd.create();
        private final MemorySegment slots;
        private final int[] length = new int[SLOTS];
        private int head, count;
        private boolean signalled;

        Port() {
            if (mode == Mode.SOURCE) {
                slots = arena.allocate(sourceBytes, 64);
                // a broadcast frame of the local experimental ethertype, filler bytes after it
                Macs.write(slots, 0, Macs.BROADCAST);
                Macs.write(slots, 6, 0x0200_0000_0001L);
                slots.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 12, (byte) 0x88);
                slots.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 13, (byte) 0xb5);
                for (int i = 14; i < sourceBytes; i++) slots.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) i);
                wake.signal();   // never drained: always readable, so the RX side runs while buffers are posted
            } else {
                slots = mode == Mode.REFLECT ? arena.allocate((long) SLOTS * slotBytes, 64) : MemorySegment.NULL;
            }
        }

        /** Drops held frames (between sessions; no worker runs this port then). */
        void clear() {
            if (mode != Mode.REFLECT) return;
            head = count = 0;
            if (signalled) { wake.drain(); signalled = false; }
        }

        @Override public int rxFd() { return mode == Mode.SINK ? -1 : wake.fd(); }

        @Override
        public long receive(FrameBuffers into) {
            if (mode == Mode.SOURCE) return into.copyIn(slots, 0, sourceBytes);
            if (count == 0) {
                if (signalled) { wake.drain(); signalled = false; }
                return -Errno.EAGAIN;
            }
            int len = length[head];
            into.copyIn(slots, (long) head * slotBytes, len);
            head = (head + 1) & (SLOTS - 1);
            count--;
            return len;
        }

        @Override
        public long send(FrameBuffers frame, long dstMac, long srcMac) {
            if (mode != Mode.REFLECT) return frame.totalBytes();
            long len = frame.totalBytes();
            if (count == SLOTS || len > slotBytes) return -Errno.EAGAIN;
            int tail = (head + count) & (SLOTS - 1);
            long at = (long) tail * slotBytes;
            frame.copyOut(slots, at, len);
            Macs.write(slots, at, srcMac);
            Macs.write(slots, at + 6, dstMac);
            length[tail] = (int) len;
            count++;
            if (!signalled) { wake.signal(); signalled = true; }
            return len;
        }
    }
}
