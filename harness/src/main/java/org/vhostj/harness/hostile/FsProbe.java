package org.vhostj.harness.hostile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.harness.fuse.FuseClient;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.RingArea;

/**
 * virtio-fs: FUSE_INIT is done at start; attacks go to request queue 1; a valid request is GETATTR of the
 * root, and serving means a reply with error 0 and the right unique.
 */
public final class FsProbe implements DeviceProbe {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private RingArea in, out;
    private long unique;
    private final BufferList buffers = new BufferList(4);

    @Override
    public VhostSession.Options options(VhostSession.Options base) { return base; }

    @Override
    public VirtQueue start(VhostSession session) {
        FuseClient fc = FuseClient.start(session, 64 * 1024);
        fc.init();
        unique = fc.reserveUniques(1L << 32);
        fc.close();
        in = session.ram().allocate(Fuse.IN_HEADER_SIZE + Fuse.GETATTR_IN_SIZE, 64);
        out = session.ram().allocate(Fuse.OUT_HEADER_SIZE + Fuse.ATTR_OUT_SIZE, 64);
        return fc.requestQueue();
    }

    @Override
    public BufferList validRequest() {
        MemorySegment m = in.memory();
        m.fill((byte) 0);
        m.set(LE_INT, Fuse.IN_LEN_OFFSET, Fuse.IN_HEADER_SIZE + Fuse.GETATTR_IN_SIZE);
        m.set(LE_INT, Fuse.IN_OPCODE_OFFSET, Fuse.GETATTR);
        m.set(LE_LONG, Fuse.IN_UNIQUE_OFFSET, ++unique);
        m.set(LE_LONG, Fuse.IN_NODEID_OFFSET, Fuse.ROOT_ID);
        out.memory().fill((byte) 0);
        return buffers.clear().readable(in.gpa(), Fuse.IN_HEADER_SIZE + Fuse.GETATTR_IN_SIZE)
                .writable(out.gpa(), Fuse.OUT_HEADER_SIZE + Fuse.ATTR_OUT_SIZE);
    }

    @Override
    public BufferList shortHeaderRequest() {
        validRequest();
        return buffers.clear().readable(in.gpa(), 20).writable(out.gpa(), Fuse.OUT_HEADER_SIZE + Fuse.ATTR_OUT_SIZE);
    }

    @Override
    public boolean serves(VirtQueue queue, long timeoutMillis) {
        long used = queue.roundTrip(validRequest(), false, timeoutMillis);
        MemorySegment o = out.memory();
        return used >= Fuse.OUT_HEADER_SIZE && o.get(LE_INT, Fuse.OUT_ERROR_OFFSET) == 0 && o.get(LE_LONG, Fuse.OUT_UNIQUE_OFFSET) == unique;
    }
}
