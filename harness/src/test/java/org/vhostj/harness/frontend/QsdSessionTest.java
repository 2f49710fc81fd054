package org.vhostj.harness.frontend;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.vhostj.blk.VirtioBlk;
import org.vhostj.harness.peers.QemuStorageDaemon;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.testing.HostPackages;

/** The session handshake against qemu-storage-daemon's vhost-user-blk export. */
class QsdSessionTest {
    @Test
    void handshakeWithQemuStorageDaemonReadsCapacityAndStartsAndStopsRings() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        try (QemuStorageDaemon qsd = QemuStorageDaemon.start(8 << 20, 2)) {
            for (VhostSession.MemoryMode mode : new VhostSession.MemoryMode[] {VhostSession.MemoryMode.TABLE, VhostSession.MemoryMode.ADD_REG}) {
                var o = VhostSession.Options.defaults(qsd.socket, 0, 60);
                o = new VhostSession.Options(o.socket(), o.timeoutMillis(), o.deviceFeatures(), o.rings(), o.eventIdx(), 3, 1 << 20,
                        false, mode, true, o.configBytes());
                try (VhostSession s = VhostSession.open(o)) {
                    assertEquals(2, s.backendQueueNum());
                    assertTrue(ProtocolFeature.has(s.protocolFeatures(), ProtocolFeature.REPLY_ACK));
                    long capacity = ByteBuffer.wrap(s.config()).order(ByteOrder.LITTLE_ENDIAN).getLong(VirtioBlk.CONFIG_CAPACITY_OFFSET);
                    assertEquals((8 << 20) / 512, capacity);
                    s.startQueue(0);
                    s.startQueue(1);
                    assertEquals(0, s.stopQueue(1));
                    assertEquals(0, s.stopQueue(0));
                }
            }
            assertTrue(qsd.process.alive());
        }
    }
}
