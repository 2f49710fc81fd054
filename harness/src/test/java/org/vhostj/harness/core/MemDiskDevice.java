package org.vhostj.harness.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.blk.VirtioBlk;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * A test-only virtio-blk device on the project's daemon core: a RAM disk with one worker per queue. Just
 * enough of virtio-blk (IN, OUT, FLUSH, status byte) for the harness to drive the core's rings with its
 * real blk workload and --verify.
 */
final class MemDiskDevice implements VirtioDevice {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int queues;
    private final long capacityBytes;
    private final MemorySegment disk;
    private final MemorySegment config = Arena.global().allocate(VirtioBlk.CONFIG_SIZE, 8);

    MemDiskDevice(int queues, long capacityBytes, Arena arena) {
        this.queues = queues;
        this.capacityBytes = capacityBytes;
        this.disk = arena.allocate(capacityBytes, 4096);
        config.set(LE_LONG, VirtioBlk.CONFIG_CAPACITY_OFFSET, capacityBytes / VirtioBlk.SECTOR_SIZE);
        config.set(LE_INT, VirtioBlk.CONFIG_BLK_SIZE_OFFSET, VirtioBlk.SECTOR_SIZE);
        config.set(LE_SHORT, VirtioBlk.CONFIG_NUM_QUEUES_OFFSET, (short) queues);
    }

    @Override public int deviceType() { return VirtioBlk.DEVICE_TYPE; }
    @Override public String name() { return "memdisk"; }
    @Override public int queueCount() { return queues; }
    @Override public int maxQueueSize() { return 1024; }
    @Override public int workerOf(int queueIndex) { return queueIndex; }
    @Override public MemorySegment configSpace() { return config; }

    @Override
    public long offeredFeatures() {
        return VirtioFeature.bit(VirtioBlk.F_BLK_SIZE) | VirtioFeature.bit(VirtioBlk.F_FLUSH) | VirtioFeature.bit(VirtioBlk.F_MQ);
    }

    MemorySegment disk() { return disk; }

    @Override
    public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
        return chain -> serve(chain, ctx);
    }

    private int serve(DescriptorChain chain, QueueContext ctx) {
        long writable = chain.writableBytes();
        if (!chain.readableHas(VirtioBlk.OUTHDR_SIZE) || writable < 1) {
            ctx.countError();
            return 0;
        }
        int type = chain.readInt(VirtioBlk.OUTHDR_TYPE_OFFSET);
        long sector = chain.readLong(VirtioBlk.OUTHDR_SECTOR_OFFSET);
        byte status = VirtioBlk.S_OK;
        long written = 0;
        switch (type) {
            case VirtioBlk.T_IN, VirtioBlk.T_OUT -> {
                long len = type == VirtioBlk.T_IN ? writable - 1 : chain.readableBytes() - VirtioBlk.OUTHDR_SIZE;
                long at = sector * VirtioBlk.SECTOR_SIZE;
                if (sector < 0 || len % VirtioBlk.SECTOR_SIZE != 0 || at > capacityBytes || len > capacityBytes - at) {
                    status = VirtioBlk.S_IOERR;
                } else if (type == VirtioBlk.T_IN) {
                    written = chain.writeTo(0, disk, at, len);
                } else {
                    chain.readFrom(VirtioBlk.OUTHDR_SIZE, disk, at, len);
                }
            }
            case VirtioBlk.T_FLUSH -> { }
            default -> status = VirtioBlk.S_UNSUPP;
        }
        chain.writeByte(writable - 1, status);
        return (int) (written + 1);
    }
}
