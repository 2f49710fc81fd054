package org.vhostj.blk;

import static org.vhostj.vhost.ring.RingLayout.DESC_F_NEXT;
import static org.vhostj.vhost.ring.RingLayout.DESC_F_WRITE;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/**
 * A {@link BlockDevice} daemon on a patterned image, and one front-end session with queue 0 started on a
 * split ring: requests are built descriptor by descriptor so tests can send any malformed chain.
 */
final class BlkFixture implements AutoCloseable {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int RING = 64;
    static final long STATUS_UNTOUCHED = 0x7f;

    final Path image;
    final long imageBytes;
    final Daemon daemon;
    final BlockDevice device;
    final RawFrontendClient fe;
    final TestGuest guest = new TestGuest(8 << 20);
    final EventFd kick = EventFd.create(), call = EventFd.create();
    final TestSplitDriver q;
    final long header, data, status, payload;
    private int nextDesc;

    /** One request buffer: guest address, length, device-writable or not. */
    record Buf(long gpa, long len, boolean writable) {}

    BlkFixture(Path dir, long imageBytes, boolean readOnly, DiskImage.IoEngine engine) throws IOException {
        this(dir, imageBytes, readOnly, engine, BlockDevice.Options.DEFAULT_COPY_THREADS);
    }

    BlkFixture(Path dir, long imageBytes, boolean readOnly, DiskImage.IoEngine engine, int copyThreads) throws IOException {
        this.imageBytes = imageBytes;
        image = dir.resolve("disk.img");
        byte[] pattern = new byte[(int) imageBytes];
        for (int i = 0; i < pattern.length; i++) pattern[i] = patternByte(i);
        Files.write(image, pattern);
        device = new BlockDevice(DiskImage.open(image, readOnly, false), new BlockDevice.Options(2, 256, "vhostj-test-serial", engine, copyThreads));
        Path sock = dir.resolve("blk.sock");
        daemon = new Daemon(device, DaemonOptions.forSocket(sock));
        daemon.start();
        fe = new RawFrontendClient(sock);
        long want = VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)
                | VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) | device.offeredFeatures();
        fe.handshake(want, ProtocolFeature.bit(ProtocolFeature.REPLY_ACK) | ProtocolFeature.bit(ProtocolFeature.CONFIG)
                | ProtocolFeature.bit(ProtocolFeature.MQ));
        fe.setMemTable(guest);
        q = new TestSplitDriver(guest, RING);
        fe.startRing(0, RING, 0, q.descGpa, q.availGpa, q.usedGpa, kick.fd(), call.fd());
        header = guest.alloc(4096, 4096);
        data = guest.alloc(1 << 20, 4096);
        status = guest.alloc(4096, 4096);
        payload = guest.alloc(4096, 4096);
    }

    static byte patternByte(long offset) { return (byte) ((offset >>> 9) * 31 + (offset & 511) * 7 + 0x5a); }

    MemorySegment mem(long gpa, long len) { return guest.at(gpa, len); }

    void header(int type, long sector) {
        MemorySegment h = mem(header, 16);
        h.set(LE_INT, VirtioBlk.OUTHDR_TYPE_OFFSET, type);
        h.set(LE_INT, VirtioBlk.OUTHDR_IOPRIO_OFFSET, 0);
        h.set(LE_LONG, VirtioBlk.OUTHDR_SECTOR_OFFSET, sector);
        mem(status, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) STATUS_UNTOUCHED);
    }

    int status() { return mem(status, 1).get(ValueLayout.JAVA_BYTE, 0); }

    /** Posts one chain of {@code bufs}, kicks, waits for its used element: {id, len}. */
    int[] submit(Buf... bufs) throws InterruptedException {
        int head = post(bufs);
        kick.signal();
        q.awaitUsed(1, 10_000);
        int[] u = q.takeUsed();
        if (u[0] != head) throw new AssertionError("used id " + u[0] + ", posted head " + head);
        return u;
    }

    /** Writes the descriptors of one chain and makes it available (no kick). Returns its head. */
    int post(Buf... bufs) {
        int head = nextDesc;
        for (int i = 0; i < bufs.length; i++) {
            int d = (head + i) % RING;
            int flags = (bufs[i].writable() ? DESC_F_WRITE : 0) | (i + 1 < bufs.length ? DESC_F_NEXT : 0);
            q.desc(d, bufs[i].gpa(), bufs[i].len(), flags, (d + 1) % RING);
        }
        nextDesc = (head + bufs.length) % RING;
        q.publish(head);
        return head;
    }

    Buf hdr() { return new Buf(header, 16, false); }
    Buf in(long len) { return new Buf(data, len, true); }
    Buf out(long len) { return new Buf(data, len, false); }
    Buf st() { return new Buf(status, 1, true); }

    /** A well-formed read of {@code len} bytes at {@code sector}: returns the status byte after checking the used length. */
    int read(long sector, int len) throws InterruptedException {
        header(VirtioBlk.T_IN, sector);
        int[] u = submit(hdr(), in(len), st());
        int s = status();
        if (s == VirtioBlk.S_OK && u[1] != len + 1) throw new AssertionError("read used length " + u[1] + ", expected " + (len + 1));
        return s;
    }

    int write(long sector, int len) throws InterruptedException {
        header(VirtioBlk.T_OUT, sector);
        int[] u = submit(hdr(), out(len), st());
        if (u[1] != 1) throw new AssertionError("write used length " + u[1]);
        return status();
    }

    /** The image file's bytes (what the host sees). */
    byte[] imageBytes(long offset, int len) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] b = new byte[len];
            f.seek(offset);
            f.readFully(b);
            return b;
        }
    }

    /** Offset of the first image byte outside [from, to) that no longer holds the pattern, or -1. */
    long firstChangedOutside(long from, long to) throws IOException {
        byte[] all = Files.readAllBytes(image);
        for (int i = 0; i < all.length; i++) {
            if (i >= from && i < to) continue;
            if (all[i] != patternByte(i)) return i;
        }
        return -1;
    }

    byte[] configBytes(int size) {
        MemorySegment get = fe.bytes(Payloads.CONFIG_HEADER_SIZE + size);
        get.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, size);
        RawFrontendClient.Reply r = fe.call(Request.GET_CONFIG, get);
        return r.payload().asSlice(Payloads.CONFIG_HEADER_SIZE).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {
        fe.close();
        daemon.close();
        kick.close();
        call.close();
        guest.close();
    }
}
