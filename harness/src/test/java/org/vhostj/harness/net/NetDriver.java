package org.vhostj.harness.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.net.NetDevice;
import org.vhostj.net.VirtioNet;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * A small virtio-net driver for tests, over the harness front-end: queue pair 0 (and optionally the control
 * queue) of a backend. Frames are sent one chain each (header + frame in one readable buffer, or any header
 * the test wants); receive buffers are {@code rxBufferBytes} each, all posted at start and reposted after use.
 * Blocking and simple: one test thread owns it.
 */
final class NetDriver implements AutoCloseable {
    static final int SLOTS = 64;
    final VhostSession session;
    final VirtQueue rx, tx;
    final VirtQueue ctrl;
    final int hdrLen, rxBufferBytes;
    private final MemorySegment[] rxBuf = new MemorySegment[SLOTS], txBuf = new MemorySegment[SLOTS];
    private final long[] rxGpa = new long[SLOTS], txGpa = new long[SLOTS];
    private final int[] rxSlotOfId, txSlotOfId;
    private final int[] txFree = new int[SLOTS];
    private int txFreeCount = SLOTS;
    private final BufferList one = new BufferList(4);
    private final RingArea ctrlArea;
    /** Header of the last received frame. */
    byte[] lastHeader;
    /** Chains the last received frame took (num_buffers). */
    int lastNumBuffers;
    /** Whether reposting an RX buffer kicks the device (false: only a busy-polling device sees it). */
    boolean kickRx = true;

    NetDriver(Path socket, long features, boolean withCtrl, int rxBufferBytes) {
        var o = new VhostSession.Options(socket, 5000, features, new RingConfig(256, false, 0), VhostSession.Toggle.AUTO,
                1, 32L << 20, false, VhostSession.MemoryMode.AUTO, true, VirtioNet.CONFIG_SIZE);
        session = VhostSession.open(o);
        hdrLen = NetDevice.headerBytes(session.ackedFeatures());
        this.rxBufferBytes = rxBufferBytes;
        rx = session.startQueue(0);
        tx = session.startQueue(1);
        int queues = session.backendQueueNum();
        ctrl = withCtrl ? session.startQueue(queues - 1) : null;
        ctrlArea = withCtrl ? session.ram().allocate(4096, 64) : null;
        rxSlotOfId = new int[rx.ring().size()];
        txSlotOfId = new int[tx.ring().size()];
        for (int s = 0; s < SLOTS; s++) {
            RingArea a = session.ram().allocate(rxBufferBytes, 64);
            rxBuf[s] = a.memory();
            rxGpa[s] = a.gpa();
            RingArea t = session.ram().allocate(65600, 64);
            txBuf[s] = t.memory();
            txGpa[s] = t.gpa();
            txFree[s] = s;
            postRx(s);
        }
        rx.ring().publish();
        rx.kick();
    }

    long features() { return session.ackedFeatures(); }

    byte[] config() { return session.config(); }

    private void postRx(int s) {
        int id = rx.ring().add(one.clear().writable(rxGpa[s], rxBufferBytes), false);
        if (id < 0) throw new IllegalStateException("RX ring full");
        rxSlotOfId[id] = s;
        rxPostedIds.add(id);
    }

    /** RX buffer ids in the order they were made available, and in the order the device used them. */
    final java.util.List<Integer> rxPostedIds = new java.util.ArrayList<>(), rxUsedIds = new java.util.ArrayList<>();

    /** Fills the start of every RX buffer with {@code b} (what a previous frame may have left there). */
    void scribbleRxBuffers(byte b, int bytes) {
        for (MemorySegment m : rxBuf) m.asSlice(0, bytes).fill(b);
    }

    private void reclaimTx() {
        int id;
        while ((id = tx.ring().pollUsed()) >= 0) txFree[txFreeCount++] = txSlotOfId[id];
    }

    /** Sends {@code frame} with a zeroed header. */
    void send(byte[] frame) { send(new byte[hdrLen], frame); }

    /** Sends {@code header} (any length: a test may send a short or bad one) followed by {@code frame}. */
    void send(byte[] header, byte[] frame) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        reclaimTx();
        while (txFreeCount == 0) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("TX ring never completed");
            Thread.onSpinWait();
            reclaimTx();
        }
        int s = txFree[--txFreeCount];
        MemorySegment.copy(header, 0, txBuf[s], ValueLayout.JAVA_BYTE, 0, header.length);
        MemorySegment.copy(frame, 0, txBuf[s], ValueLayout.JAVA_BYTE, header.length, frame.length);
        int id = tx.ring().add(one.clear().readable(txGpa[s], header.length + frame.length), false);
        txSlotOfId[id] = s;
        tx.ring().publish();
        tx.kick();
    }

    /** Waits until every frame sent was completed by the device (TX used). */
    void awaitSent(long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            reclaimTx();
            if (txFreeCount == SLOTS) return;
            if (System.nanoTime() > deadline) throw new IllegalStateException((SLOTS - txFreeCount) + " TX chains never completed");
            sleepBriefly();
        }
    }

    /** The next received frame (without its header), or null after {@code timeoutMillis}. */
    byte[] receive(long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            int id = rx.ring().pollUsed();
            if (id >= 0) {
                rxUsedIds.add(id);
                int s = rxSlotOfId[id];
                int len = rx.ring().usedLength();
                byte[] out = null;
                if (len >= hdrLen) {
                    lastHeader = new byte[hdrLen];
                    MemorySegment.copy(rxBuf[s], ValueLayout.JAVA_BYTE, 0, lastHeader, 0, hdrLen);
                    lastNumBuffers = hdrLen == 12 ? (lastHeader[10] & 0xff | (lastHeader[11] & 0xff) << 8) : 1;
                    out = new byte[len - hdrLen];
                    MemorySegment.copy(rxBuf[s], ValueLayout.JAVA_BYTE, hdrLen, out, 0, out.length);
                }
                postRx(s);
                rx.ring().publish();
                if (kickRx) rx.kick();
                if (out != null) {
                    // with MRG_RXBUF a frame may continue in more buffers
                    for (int k = 1; k < lastNumBuffers; k++) out = concat(out, nextRaw(deadline));
                    return out;
                }
                continue;
            }
            if (System.nanoTime() > deadline) return null;
            sleepBriefly();
        }
    }

    private byte[] nextRaw(long deadline) {
        while (true) {
            int id = rx.ring().pollUsed();
            if (id >= 0) {
                int s = rxSlotOfId[id];
                byte[] out = new byte[rx.ring().usedLength()];
                MemorySegment.copy(rxBuf[s], ValueLayout.JAVA_BYTE, 0, out, 0, out.length);
                postRx(s);
                rx.ring().publish();
                if (kickRx) rx.kick();
                return out;
            }
            if (System.nanoTime() > deadline) throw new IllegalStateException("merged frame's next buffer never came");
            sleepBriefly();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Sends a control command; returns the ack byte (0 OK, 1 ERR), or -1 on timeout. */
    int control(int cls, int cmd, byte[] data) {
        MemorySegment m = ctrlArea.memory();
        m.set(ValueLayout.JAVA_BYTE, 0, (byte) cls);
        m.set(ValueLayout.JAVA_BYTE, 1, (byte) cmd);
        MemorySegment.copy(data, 0, m, ValueLayout.JAVA_BYTE, 2, data.length);
        m.set(ValueLayout.JAVA_BYTE, 2048, (byte) 0x7f);
        one.clear().readable(ctrlArea.gpa(), 2 + data.length).writable(ctrlArea.gpa() + 2048, 1);
        long r = ctrl.roundTrip(one, false, 5000);
        if (r != 1) return -1;
        return m.get(ValueLayout.JAVA_BYTE, 2048);
    }

    private static void sleepBriefly() {
        try { Thread.sleep(1); } catch (InterruptedException e) { Thread.currentThread().interrupt(); throw new IllegalStateException(e); }
    }

    @Override
    public void close() { session.close(); }

    // ---- frames ----------------------------------------------------------------------------------------

    /** An Ethernet frame of {@code len} bytes, ethertype 0x88b5, filler derived from {@code tag}. */
    static byte[] frame(long dst, long src, int len, int tag) {
        byte[] f = new byte[len];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) (dst >>> (8 * (5 - i)));
            f[6 + i] = (byte) (src >>> (8 * (5 - i)));
        }
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        for (int i = 14; i < len; i++) f[i] = (byte) (tag * 31 + i);
        return f;
    }

    static long dst(byte[] f) { return mac(f, 0); }

    static long src(byte[] f) { return mac(f, 6); }

    static long mac(byte[] f, int at) {
        long m = 0;
        for (int i = 0; i < 6; i++) m = m << 8 | (f[at + i] & 0xff);
        return m;
    }
}
