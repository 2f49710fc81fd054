package org.vhostj.blk;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.vhostj.blk.BlkFixture.Buf;
import org.vhostj.blk.DiskImage.IoEngine;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.Request;

/**
 * The virtio-blk device through the real daemon core, a memfd guest and a split ring, with both I/O
 * engines. One test per attack: each checks the status byte and used length, that the image outside the
 * request's range is untouched, and that the same queue then serves a good request.
 */
class BlockDeviceTest {
    static final long IMAGE = 1 << 20;               // 2048 sectors
    static final long SECTORS = IMAGE / 512;
    @TempDir Path dir;
    BlkFixture f;

    @AfterEach
    void close() { if (f != null) f.close(); }

    BlkFixture open(IoEngine engine) throws Exception { return f = new BlkFixture(dir, IMAGE, false, engine); }

    /** The queue still serves: a read of sector 5 returns the image's bytes. */
    void assertStillServes() throws Exception {
        f.mem(f.data, 4096).fill((byte) 0);
        assertEquals(VirtioBlk.S_OK, f.read(5, 4096));
        assertArrayEquals(f.imageBytes(5 * 512, 4096), f.mem(f.data, 4096).toArray(ValueLayout.JAVA_BYTE));
    }

    void assertImageUntouched() throws Exception { assertEquals(-1, f.firstChangedOutside(0, 0), "image changed"); }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void writeThenReadRoundTripsAndTheHostSeesTheBytes(IoEngine engine) throws Exception {
        open(engine);
        byte[] mine = new byte[8192];
        for (int i = 0; i < mine.length; i++) mine[i] = (byte) (i * 13 + 1);
        MemorySegment.copy(MemorySegment.ofArray(mine), 0, f.mem(f.data, 8192), 0, 8192);
        assertEquals(VirtioBlk.S_OK, f.write(8, 8192));
        assertArrayEquals(mine, f.imageBytes(8 * 512, 8192), "host view");
        assertEquals(-1, f.firstChangedOutside(8 * 512, 8 * 512 + 8192), "nothing else written");
        f.mem(f.data, 8192).fill((byte) 0);
        assertEquals(VirtioBlk.S_OK, f.read(8, 8192));
        assertArrayEquals(mine, f.mem(f.data, 8192).toArray(ValueLayout.JAVA_BYTE));
        // last sector of the disk: the range check is inclusive
        assertEquals(VirtioBlk.S_OK, f.read(SECTORS - 1, 512));
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void manyRequestsInFlightAllComplete(IoEngine engine) throws Exception {
        open(engine);
        int n = 20;   // 3 descriptors each on a 64-entry ring
        int[] heads = new int[n];
        for (int i = 0; i < n; i++) {
            MemorySegment h = f.mem(f.header + 16L * i, 16);
            h.set(BlkFixture.LE_INT, 0, VirtioBlk.T_IN);
            h.set(BlkFixture.LE_LONG, 8, 8L * i);
            heads[i] = f.post(new Buf(f.header + 16L * i, 16, false), new Buf(f.data + 4096L * i, 4096, true), new Buf(f.status + i, 1, true));
        }
        f.kick.signal();
        f.q.awaitUsed(n, 10_000);
        for (int i = 0; i < n; i++) {
            int[] u = f.q.takeUsed();
            assertEquals(4097, u[1]);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(VirtioBlk.S_OK, f.mem(f.status + i, 1).get(ValueLayout.JAVA_BYTE, 0));
            assertArrayEquals(f.imageBytes(4096L * i, 4096), f.mem(f.data + 4096L * i, 4096).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /**
     * Large requests (the copy pool with SYNC): several 128 KiB writes and a FLUSH in one batch, then reads
     * of them back. Every write lands in the image, the FLUSH completes only after every write posted before
     * it (its used element comes last), and the reads return the written bytes.
     */
    @ParameterizedTest
    @CsvSource({"SYNC, 0", "SYNC, 1", "SYNC, 2", "URING, 2"})
    void largeWritesThenFlushThenReadsInFlightTogether(IoEngine engine, int copyThreads) throws Exception {
        f = new BlkFixture(dir, IMAGE, false, engine, copyThreads);
        int n = 6, len = 128 * 1024, sectorsEach = len / 512;
        byte[] mine = new byte[n * len];
        for (int i = 0; i < mine.length; i++) mine[i] = (byte) (i * 7 + i / 4099 + 3);
        MemorySegment.copy(MemorySegment.ofArray(mine), 0, f.mem(f.data, mine.length), 0, mine.length);
        int[] heads = new int[n + 1];
        for (int i = 0; i < n; i++) {
            MemorySegment h = f.mem(f.header + 16L * i, 16);
            h.set(BlkFixture.LE_INT, 0, VirtioBlk.T_OUT);
            h.set(BlkFixture.LE_LONG, 8, 64L + (long) sectorsEach * i);
            f.mem(f.status + i, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) BlkFixture.STATUS_UNTOUCHED);
            heads[i] = f.post(new Buf(f.header + 16L * i, 16, false), new Buf(f.data + (long) len * i, len, false), new Buf(f.status + i, 1, true));
        }
        MemorySegment fh = f.mem(f.header + 16L * n, 16);
        fh.set(BlkFixture.LE_INT, 0, VirtioBlk.T_FLUSH);
        fh.set(BlkFixture.LE_LONG, 8, 0L);
        f.mem(f.status + n, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) BlkFixture.STATUS_UNTOUCHED);
        heads[n] = f.post(new Buf(f.header + 16L * n, 16, false), new Buf(f.status + n, 1, true));
        f.kick.signal();
        f.q.awaitUsed(n + 1, 10_000);
        boolean[] seen = new boolean[n + 1];
        for (int k = 0; k <= n; k++) {
            int[] u = f.q.takeUsed();
            int i = Arrays.stream(heads).boxed().toList().indexOf(u[0]);
            assertTrue(i >= 0 && !seen[i], "used id " + u[0]);
            seen[i] = true;
            assertEquals(1, u[1]);
            if (i == n) assertEquals(n, k, "FLUSH completed before a write posted ahead of it");
        }
        for (int i = 0; i <= n; i++) assertEquals(VirtioBlk.S_OK, f.mem(f.status + i, 1).get(ValueLayout.JAVA_BYTE, 0), "request " + i);
        assertArrayEquals(mine, f.imageBytes(64 * 512, mine.length), "host view");
        assertEquals(-1, f.firstChangedOutside(64 * 512, 64 * 512 + mine.length), "nothing else written");

        f.mem(f.data, mine.length).fill((byte) 0);
        for (int i = 0; i < n; i++) {
            MemorySegment h = f.mem(f.header + 16L * i, 16);
            h.set(BlkFixture.LE_INT, 0, VirtioBlk.T_IN);
            heads[i] = f.post(new Buf(f.header + 16L * i, 16, false), new Buf(f.data + (long) len * i, len, true), new Buf(f.status + i, 1, true));
        }
        f.kick.signal();
        f.q.awaitUsed(n, 10_000);
        for (int k = 0; k < n; k++) assertEquals(len + 1, f.q.takeUsed()[1]);
        for (int i = 0; i < n; i++) assertEquals(VirtioBlk.S_OK, f.mem(f.status + i, 1).get(ValueLayout.JAVA_BYTE, 0), "read " + i);
        assertArrayEquals(mine, f.mem(f.data, mine.length).toArray(ValueLayout.JAVA_BYTE));
        // a large read that ends past the disk still fails at the boundary, and the queue goes on
        f.header(VirtioBlk.T_IN, SECTORS - 8);
        assertEquals(1, f.submit(f.hdr(), f.in(len), f.st())[1]);
        assertEquals(VirtioBlk.S_IOERR, f.status());
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void shortHeaderFailsWithIoErr(IoEngine engine) throws Exception {
        open(engine);
        f.header(VirtioBlk.T_OUT, 0);
        int[] u = f.submit(new Buf(f.header, 8, false), f.st());
        assertEquals(1, u[1]);
        assertEquals(VirtioBlk.S_IOERR, f.status());
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void sectorBeyondCapacityFailsAndWritesNothing(IoEngine engine) throws Exception {
        open(engine);
        assertEquals(VirtioBlk.S_IOERR, f.write(SECTORS, 512), "starts at the end");
        assertEquals(VirtioBlk.S_IOERR, f.write(SECTORS - 1, 1024), "runs past the end");
        assertEquals(VirtioBlk.S_IOERR, f.read(SECTORS - 7, 4096), "read past the end");
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void sectorTimes512OverflowIsRejected(IoEngine engine) throws Exception {
        open(engine);
        // sector * 512 wraps to 0 (and to small values) in 64-bit math; sector -1 is 2^64-1 unsigned
        assertEquals(VirtioBlk.S_IOERR, f.write(1L << 55, 4096));
        assertEquals(VirtioBlk.S_IOERR, f.write((1L << 55) + 8, 4096));
        assertEquals(VirtioBlk.S_IOERR, f.write(-1L, 512));
        assertEquals(VirtioBlk.S_IOERR, f.write(Long.MIN_VALUE, 512));
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void lengthNotAMultipleOf512Fails(IoEngine engine) throws Exception {
        open(engine);
        assertEquals(VirtioBlk.S_IOERR, f.write(0, 1000));
        assertEquals(VirtioBlk.S_IOERR, f.read(0, 511));
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void writeToReadOnlyImageFailsWithIoErr(IoEngine engine) throws Exception {
        f = new BlkFixture(dir, IMAGE, true, engine);
        assertTrue(org.vhostj.vhost.protocol.VirtioFeature.has(f.device.offeredFeatures(), VirtioBlk.F_RO));
        f.mem(f.data, 4096).fill((byte) 1);
        assertEquals(VirtioBlk.S_IOERR, f.write(0, 4096));
        f.header(VirtioBlk.T_WRITE_ZEROES, 0);
        assertEquals(1, f.submit(f.hdr(), new Buf(f.payload, 16, false), f.st())[1]);
        assertEquals(VirtioBlk.S_IOERR, f.status());
        f.header(VirtioBlk.T_FLUSH, 0);
        f.submit(f.hdr(), f.st());
        assertEquals(VirtioBlk.S_OK, f.status(), "flush of a read-only disk is a no-op");
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void readOnlyStatusDescriptorCompletesWithLengthZero(IoEngine engine) throws Exception {
        open(engine);
        f.header(VirtioBlk.T_OUT, 0);
        f.mem(f.data, 4096).fill((byte) 3);
        int[] u = f.submit(f.hdr(), f.out(4096), new Buf(f.status, 1, false));
        assertEquals(0, u[1], "no writable byte: nowhere to put a status");
        assertEquals(BlkFixture.STATUS_UNTOUCHED, f.status());
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void missingStatusDescriptorCompletesWithLengthZero(IoEngine engine) throws Exception {
        open(engine);
        f.header(VirtioBlk.T_IN, 0);
        assertEquals(0, f.submit(f.hdr())[1]);
        f.header(VirtioBlk.T_OUT, 0);
        assertEquals(0, f.submit(f.hdr(), f.out(4096))[1]);
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void readIntoDeviceReadableDataFails(IoEngine engine) throws Exception {
        open(engine);
        f.header(VirtioBlk.T_IN, 0);
        f.mem(f.data, 4096).fill((byte) 9);
        int[] u = f.submit(f.hdr(), f.out(4096), f.st());
        assertEquals(1, u[1]);
        assertEquals(VirtioBlk.S_IOERR, f.status());
        assertEquals(9, f.mem(f.data, 4096).get(ValueLayout.JAVA_BYTE, 100), "the read-only buffer was not written");
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void writeFromDeviceWritableDataFails(IoEngine engine) throws Exception {
        open(engine);
        f.header(VirtioBlk.T_OUT, 0);
        f.mem(f.data, 4096).fill((byte) 9);
        int[] u = f.submit(f.hdr(), f.in(4096), f.st());
        assertEquals(1, u[1]);
        assertEquals(VirtioBlk.S_IOERR, f.status());
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void unknownRequestTypeIsUnsupported(IoEngine engine) throws Exception {
        open(engine);
        for (int type : new int[] {2, VirtioBlk.T_GET_LIFETIME, VirtioBlk.T_SECURE_ERASE, 0x7fffffff, -1}) {
            f.header(type, 0);
            assertEquals(1, f.submit(f.hdr(), f.in(512), f.st())[1]);
            assertEquals(VirtioBlk.S_UNSUPP, f.status(), "type " + type);
        }
        assertImageUntouched();
        assertStillServes();
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void getIdAnswersTheSerialAndFlushSucceeds(IoEngine engine) throws Exception {
        open(engine);
        f.header(VirtioBlk.T_GET_ID, 0);
        f.mem(f.data, 20).fill((byte) 0x55);
        assertEquals(21, f.submit(f.hdr(), f.in(20), f.st())[1]);
        assertEquals(VirtioBlk.S_OK, f.status());
        byte[] id = f.mem(f.data, 20).toArray(ValueLayout.JAVA_BYTE);
        assertEquals("vhostj-test-serial\0\0", new String(id, StandardCharsets.US_ASCII));
        f.header(VirtioBlk.T_FLUSH, 0);
        assertEquals(1, f.submit(f.hdr(), f.st())[1]);
        assertEquals(VirtioBlk.S_OK, f.status());
    }

    void segment(int i, long sector, int sectors, int flags) {
        MemorySegment p = f.mem(f.payload + 16L * i, 16);
        p.set(BlkFixture.LE_LONG, 0, sector);
        p.set(BlkFixture.LE_INT, 8, sectors);
        p.set(BlkFixture.LE_INT, 12, flags);
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC", "URING"})
    void writeZeroesAndDiscardStayInsideTheirRange(IoEngine engine) throws Exception {
        open(engine);
        segment(0, 16, 8, 0);
        segment(1, 100, 16, VirtioBlk.WRITE_ZEROES_FLAG_UNMAP);
        f.header(VirtioBlk.T_WRITE_ZEROES, 0);
        assertEquals(1, f.submit(f.hdr(), new Buf(f.payload, 32, false), f.st())[1]);
        assertEquals(VirtioBlk.S_OK, f.status());
        assertArrayEquals(new byte[8 * 512], f.imageBytes(16 * 512, 8 * 512));
        assertArrayEquals(new byte[16 * 512], f.imageBytes(100 * 512, 16 * 512));
        byte[] all = java.nio.file.Files.readAllBytes(f.image);
        for (int i = 0; i < all.length; i++) {
            boolean zeroed = (i >= 16 * 512 && i < 24 * 512) || (i >= 100 * 512 && i < 116 * 512);
            if (!zeroed) assertEquals(BlkFixture.patternByte(i), all[i], "byte " + i);
        }
        // discard with the unmap flag is UNSUPP (5.2.6.2); out of range is IOERR; neither changes anything
        segment(0, 200, 8, VirtioBlk.WRITE_ZEROES_FLAG_UNMAP);
        f.header(VirtioBlk.T_DISCARD, 0);
        f.submit(f.hdr(), new Buf(f.payload, 16, false), f.st());
        assertEquals(VirtioBlk.S_UNSUPP, f.status());
        segment(0, SECTORS - 4, 8, 0);
        f.header(VirtioBlk.T_WRITE_ZEROES, 0);
        f.submit(f.hdr(), new Buf(f.payload, 16, false), f.st());
        assertEquals(VirtioBlk.S_IOERR, f.status());
        segment(0, -8, 16, 0);   // wraps
        f.submit(f.hdr(), new Buf(f.payload, 16, false), f.st());
        assertEquals(VirtioBlk.S_IOERR, f.status());
        f.header(VirtioBlk.T_DISCARD, 0);
        f.submit(f.hdr(), new Buf(f.payload, 12, false), f.st());   // not a whole segment
        assertEquals(VirtioBlk.S_IOERR, f.status());
        assertArrayEquals(f.imageBytes(200 * 512, 4096), patternAt(200 * 512, 4096));
        segment(0, 300, 8, 0);
        f.header(VirtioBlk.T_DISCARD, 0);
        f.submit(f.hdr(), new Buf(f.payload, 16, false), f.st());
        assertEquals(VirtioBlk.S_OK, f.status());
        assertStillServes();
    }

    static byte[] patternAt(long offset, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) b[i] = BlkFixture.patternByte(offset + i);
        return b;
    }

    @ParameterizedTest @EnumSource(value = IoEngine.class, names = {"SYNC"})
    void configSpaceDescribesTheDiskAndWceCanBeToggled(IoEngine engine) throws Exception {
        open(engine);
        ByteBuffer c = ByteBuffer.wrap(f.configBytes(VirtioBlk.CONFIG_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(SECTORS, c.getLong(VirtioBlk.CONFIG_CAPACITY_OFFSET));
        assertEquals(512, c.getInt(VirtioBlk.CONFIG_BLK_SIZE_OFFSET));
        assertEquals(BlockDevice.SEG_MAX, c.getInt(VirtioBlk.CONFIG_SEG_MAX_OFFSET));
        assertEquals(2, c.getShort(VirtioBlk.CONFIG_NUM_QUEUES_OFFSET));
        assertEquals(1, c.get(VirtioBlk.CONFIG_WCE_OFFSET));
        assertEquals(BlockDevice.MAX_DISCARD_SEG, c.getInt(VirtioBlk.CONFIG_MAX_DISCARD_SEG_OFFSET));
        assertEquals(1, c.get(VirtioBlk.CONFIG_WRITE_ZEROES_MAY_UNMAP_OFFSET));
        MemorySegment set = f.fe.bytes(Payloads.CONFIG_HEADER_SIZE + 1);
        set.set(ValueLayout.JAVA_INT, Payloads.CONFIG_OFFSET_OFFSET, VirtioBlk.CONFIG_WCE_OFFSET);
        set.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, 1);
        set.set(ValueLayout.JAVA_BYTE, Payloads.CONFIG_HEADER_SIZE, (byte) 0);
        assertEquals(0, f.fe.call(Request.SET_CONFIG, set).u64());
        assertEquals(0, f.configBytes(VirtioBlk.CONFIG_SIZE)[VirtioBlk.CONFIG_WCE_OFFSET]);
        assertEquals(VirtioBlk.S_OK, f.write(0, 4096), "write-through write");
        MemorySegment capacity = f.fe.bytes(Payloads.CONFIG_HEADER_SIZE + 8);
        capacity.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, 8);
        assertEquals(1, f.fe.call(Request.SET_CONFIG, capacity).u64(), "capacity is read-only");
        assertEquals(SECTORS, ByteBuffer.wrap(f.configBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
        assertFalse(Arrays.equals(new byte[0], f.configBytes(4)));
    }
}
