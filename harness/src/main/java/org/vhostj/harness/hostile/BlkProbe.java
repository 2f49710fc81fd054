package org.vhostj.harness.hostile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.blk.VirtioBlk;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.RingArea;

/** virtio-blk: attacks go to queue 0; a valid request reads sector 0 and must come back with status OK. */
public final class BlkProbe implements DeviceProbe {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private RingArea header, data, status;
    private final BufferList buffers = new BufferList(4);

    @Override
    public VhostSession.Options options(VhostSession.Options base) {
        return new VhostSession.Options(base.socket(), base.timeoutMillis(), BlkRun.sessionOptions(base).deviceFeatures(), base.rings(),
                base.eventIdx(), base.regions(), base.regionBytes(), base.adjacentRegions(), base.memoryMode(), base.replyAck(), 0);
    }

    @Override
    public VirtQueue start(VhostSession session) {
        header = session.ram().allocate(VirtioBlk.OUTHDR_SIZE, 16);
        data = session.ram().allocate(4096, 4096);
        status = session.ram().allocate(1, 1);
        return session.startQueue(0);
    }

    @Override
    public BufferList validRequest() {
        MemorySegment h = header.memory();
        h.set(LE_INT, VirtioBlk.OUTHDR_TYPE_OFFSET, VirtioBlk.T_IN);
        h.set(LE_INT, VirtioBlk.OUTHDR_IOPRIO_OFFSET, 0);
        h.set(LE_LONG, VirtioBlk.OUTHDR_SECTOR_OFFSET, 0);
        status.memory().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7f);
        return buffers.clear().readable(header.gpa(), VirtioBlk.OUTHDR_SIZE).writable(data.gpa(), 4096).writable(status.gpa(), 1);
    }

    @Override
    public BufferList shortHeaderRequest() {
        validRequest();
        return buffers.clear().readable(header.gpa(), 8).writable(data.gpa(), 4096).writable(status.gpa(), 1);
    }

    @Override
    public boolean serves(VirtQueue queue, long timeoutMillis) {
        long used = queue.roundTrip(validRequest(), false, timeoutMillis);
        return used >= 0 && status.memory().get(ValueLayout.JAVA_BYTE, 0) == VirtioBlk.S_OK;   // packed lengths may be reserved
    }
}
