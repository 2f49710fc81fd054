package org.vhostj.blk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.protocol.VirtioFeature;

/**
 * virtio-blk (virtio 1.2 section 5.2) over a {@link DiskImage}: IN, OUT, FLUSH, GET_ID, DISCARD and
 * WRITE_ZEROES, read-only exports, multiqueue with one worker per queue, and the write cache toggle.
 * Owns the image and closes it in {@link #close()} after a final flush. Called on the control thread;
 * each queue is served by a {@link BlockQueue} on its worker.
 */
public final class BlockDevice implements VirtioDevice {
    private static final Logger log = LoggerFactory.getLogger(BlockDevice.class);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Data segments per request we advertise (seg_max); a request with more fails with IOERR. */
    public static final int SEG_MAX = 126;
    /** Largest single data segment we advertise (size_max). */
    public static final int SIZE_MAX = 1 << 20;
    /** DISCARD / WRITE_ZEROES limits we advertise: sectors per segment and segments per request. */
    public static final int MAX_DISCARD_SECTORS = 1 << 22, MAX_DISCARD_SEG = 16;

    /**
     * @param numQueues  request queues (1..64)
     * @param queueSize  the largest ring a front-end may set (a power of two, 2..1024)
     * @param serial     GET_ID answer (at most 20 bytes of ASCII)
     * @param ioEngine   how queues move data
     * @param copyThreads with the synchronous engine, helper threads per queue that run transfers of at least
     *                   {@link BlockQueue#POOL_MIN_BYTES} alongside the worker, so a batch's large copies use
     *                   copyThreads + 1 cores (0..16; 0: all on the worker)
     */
    public record Options(int numQueues, int queueSize, String serial, DiskImage.IoEngine ioEngine, int copyThreads) {
        /** Copy helpers per queue unless told otherwise: with the worker, two copies at once. */
        public static final int DEFAULT_COPY_THREADS = 1;

        public Options(int numQueues, int queueSize, String serial, DiskImage.IoEngine ioEngine) {
            this(numQueues, queueSize, serial, ioEngine, DEFAULT_COPY_THREADS);
        }

        public Options {
            if (copyThreads < 0 || copyThreads > 16) throw new IllegalArgumentException("--copy-threads must be 0..16, not " + copyThreads);
            if (numQueues < 1 || numQueues > 64) throw new IllegalArgumentException("--num-queues must be 1..64, not " + numQueues);
            if (queueSize < 2 || queueSize > 1024 || Integer.bitCount(queueSize) != 1) {
                throw new IllegalArgumentException("--queue-size must be a power of two in 2..1024, not " + queueSize);
            }
            if (serial.getBytes(StandardCharsets.US_ASCII).length > VirtioBlk.ID_BYTES || !StandardCharsets.US_ASCII.newEncoder().canEncode(serial)) {
                throw new IllegalArgumentException("--serial must be at most " + VirtioBlk.ID_BYTES + " ASCII characters: " + serial);
            }
        }
    }

    private final DiskImage image;
    private final Options options;
    private final DiskImage.IoEngine engine;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment config;
    /** GET_ID bytes: the serial, zero-padded to 20. Read-only after construction (shared by the workers). */
    final MemorySegment serialId;
    /** Write-back cache on (writes may sit in the page cache until FLUSH) or off (each write is O_DSYNC). */
    private volatile boolean writeback = true;

    /** Takes ownership of {@code image}. */
    public BlockDevice(DiskImage image, Options options) {
        this.image = image;
        this.options = options;
        this.engine = image.resolve(options.ioEngine());
        config = arena.allocate(VirtioBlk.CONFIG_SIZE, 8);
        serialId = arena.allocate(VirtioBlk.ID_BYTES, 8);
        byte[] s = options.serial().getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(MemorySegment.ofArray(s), 0, serialId, 0, s.length);
        writeConfigSpace();
        log.info("serving {} with {} queue(s) of up to {} entries, {} I/O{}", image, options.numQueues(), options.queueSize(), engine,
                engine == DiskImage.IoEngine.SYNC && options.copyThreads() > 0 ? ", " + options.copyThreads() + " copy helper(s) per queue" : "");
    }

    private void writeConfigSpace() {
        MemorySegment c = config;
        c.fill((byte) 0);
        c.set(LE_LONG, VirtioBlk.CONFIG_CAPACITY_OFFSET, image.capacitySectors());
        c.set(LE_INT, VirtioBlk.CONFIG_SIZE_MAX_OFFSET, SIZE_MAX);
        c.set(LE_INT, VirtioBlk.CONFIG_SEG_MAX_OFFSET, SEG_MAX);
        c.set(LE_INT, VirtioBlk.CONFIG_BLK_SIZE_OFFSET, VirtioBlk.SECTOR_SIZE);
        c.set(ValueLayout.JAVA_BYTE, VirtioBlk.CONFIG_PHYSICAL_BLOCK_EXP_OFFSET, (byte) 3);   // 4 KiB physical blocks
        c.set(ValueLayout.JAVA_BYTE, VirtioBlk.CONFIG_ALIGNMENT_OFFSET_OFFSET, (byte) 0);
        c.set(LE_SHORT, VirtioBlk.CONFIG_MIN_IO_SIZE_OFFSET, (short) 1);
        c.set(LE_INT, VirtioBlk.CONFIG_OPT_IO_SIZE_OFFSET, 0);
        c.set(ValueLayout.JAVA_BYTE, VirtioBlk.CONFIG_WCE_OFFSET, (byte) (writeback ? 1 : 0));
        c.set(LE_SHORT, VirtioBlk.CONFIG_NUM_QUEUES_OFFSET, (short) options.numQueues());
        if (!image.readOnly()) {
            c.set(LE_INT, VirtioBlk.CONFIG_MAX_DISCARD_SECTORS_OFFSET, MAX_DISCARD_SECTORS);
            c.set(LE_INT, VirtioBlk.CONFIG_MAX_DISCARD_SEG_OFFSET, MAX_DISCARD_SEG);
            c.set(LE_INT, VirtioBlk.CONFIG_DISCARD_SECTOR_ALIGNMENT_OFFSET, 8);
            c.set(LE_INT, VirtioBlk.CONFIG_MAX_WRITE_ZEROES_SECTORS_OFFSET, MAX_DISCARD_SECTORS);
            c.set(LE_INT, VirtioBlk.CONFIG_MAX_WRITE_ZEROES_SEG_OFFSET, MAX_DISCARD_SEG);
            c.set(ValueLayout.JAVA_BYTE, VirtioBlk.CONFIG_WRITE_ZEROES_MAY_UNMAP_OFFSET, (byte) 1);
        }
    }

    public DiskImage image() { return image; }

    public Options options() { return options; }

    /** The engine the queues use (AUTO resolved against the image). */
    public DiskImage.IoEngine engine() { return engine; }

    boolean writeback() { return writeback; }

    @Override public int deviceType() { return VirtioBlk.DEVICE_TYPE; }

    @Override public String name() { return "blk"; }

    @Override public int queueCount() { return options.numQueues(); }

    @Override public int maxQueueSize() { return options.queueSize(); }

    @Override public int workerOf(int queueIndex) { return queueIndex; }

    @Override
    public long offeredFeatures() {
        long f = bit(VirtioBlk.F_SIZE_MAX) | bit(VirtioBlk.F_SEG_MAX) | bit(VirtioBlk.F_BLK_SIZE) | bit(VirtioBlk.F_TOPOLOGY)
                | bit(VirtioBlk.F_FLUSH) | bit(VirtioBlk.F_CONFIG_WCE) | bit(VirtioBlk.F_MQ);
        if (image.readOnly()) f |= bit(VirtioBlk.F_RO);
        else f |= bit(VirtioBlk.F_DISCARD) | bit(VirtioBlk.F_WRITE_ZEROES);
        return f;
    }

    private static long bit(int b) { return VirtioFeature.bit(b); }

    @Override
    public void featuresAcked(long acked) {
        // virtio 1.2 5.2.5: without CONFIG_WCE the cache mode follows FLUSH (write-back iff the driver can flush)
        if (!VirtioFeature.has(acked, VirtioBlk.F_CONFIG_WCE)) setWriteback(VirtioFeature.has(acked, VirtioBlk.F_FLUSH));
    }

    private synchronized void setWriteback(boolean on) {
        if (writeback && !on) image.flush();   // what the cache held becomes durable before write-through starts
        writeback = on;
        config.set(ValueLayout.JAVA_BYTE, VirtioBlk.CONFIG_WCE_OFFSET, (byte) (on ? 1 : 0));
    }

    @Override public MemorySegment configSpace() { return config; }

    /** The driver may write only {@code writeback} (one byte at offset 32); everything else is refused. */
    @Override
    public boolean writeConfig(int offset, MemorySegment data, boolean migration) {
        if (offset != VirtioBlk.CONFIG_WCE_OFFSET || data.byteSize() != 1) return false;
        byte v = data.get(ValueLayout.JAVA_BYTE, 0);
        if (v != 0 && v != 1) return false;
        setWriteback(v == 1);
        return true;
    }

    @Override
    public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
        return new BlockQueue(this, ctx, engine);
    }

    @Override
    public void reset() {
        setWriteback(true);
    }

    /** Every ring stopped: make what was written durable and release the image. */
    @Override
    public void close() {
        int r = image.flush();
        if (r < 0) log.warn("final flush of {} failed: errno {}", image.path(), -r);
        image.close();
        arena.close();
    }
}
