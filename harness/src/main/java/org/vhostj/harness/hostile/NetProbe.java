package org.vhostj.harness.hostile;

import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.net.VirtioNet;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.RingArea;

/**
 * virtio-net: attacks go to the TX queue (1); a valid request is one 64-byte frame behind a zeroed header,
 * and serving means the backend completes it (it may drop the frame; it must give the buffer back).
 */
public final class NetProbe implements DeviceProbe {
    private RingArea frame;
    private final BufferList buffers = new BufferList(4);

    @Override
    public VhostSession.Options options(VhostSession.Options base) { return base; }

    @Override
    public VirtQueue start(VhostSession session) {
        frame = session.ram().allocate(VirtioNet.HDR_SIZE + 64, 64);
        frame.memory().fill((byte) 0);
        for (int i = 0; i < 6; i++) frame.memory().set(java.lang.foreign.ValueLayout.JAVA_BYTE, VirtioNet.HDR_SIZE + i, (byte) 0xff);
        session.startQueue(0);
        return session.startQueue(1);
    }

    @Override
    public BufferList validRequest() { return buffers.clear().readable(frame.gpa(), VirtioNet.HDR_SIZE + 64); }

    @Override
    public BufferList shortHeaderRequest() { return buffers.clear().readable(frame.gpa(), 4); }

    @Override
    public boolean serves(VirtQueue queue, long timeoutMillis) { return queue.roundTrip(validRequest(), false, timeoutMillis) >= 0; }
}
