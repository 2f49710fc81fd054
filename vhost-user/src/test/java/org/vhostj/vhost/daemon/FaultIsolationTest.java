package org.vhostj.vhost.daemon;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.sys.Errno;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.testing.TestSplitDriver;

/** The blast radius of a bad ring and of a handler bug is one queue; the rest of the device keeps working. */
class FaultIsolationTest {
    @TempDir Path dir;
    Daemon daemon;

    @AfterEach
    void stop() { if (daemon != null) daemon.close(); }

    private DaemonSession twoQueueSession(EchoDevice device, int pollMicros) {
        Path sock = dir.resolve("f.sock");
        daemon = new Daemon(device, new DaemonOptions(sock, -1, pollMicros, Duration.ofSeconds(5), Duration.ofMillis(300), false));
        daemon.start();
        return new DaemonSession(sock, false, true);
    }

    @Test
    void availIndexJumpStopsOnlyThatQueueAndSignalsItsErrFd() throws Exception {
        EchoDevice device = new EchoDevice(2);
        try (DaemonSession s = twoQueueSession(device, 0); EventFd err = EventFd.create();
             EventFd kick1 = EventFd.create(); EventFd call1 = EventFd.create()) {
            s.fe.ok(Request.SET_VRING_ERR, s.fe.u64(0), err.fd());
            TestSplitDriver q1 = new TestSplitDriver(s.guest, 16);
            s.fe.startRing(1, 16, 0, q1.descGpa, q1.availGpa, q1.usedGpa, kick1.fd(), call1.fd());
            // queue 0: the driver claims 1000 new buffers on a 64-entry ring
            s.split.setAvailIdx(1000);
            s.kick.signal();
            long end = System.currentTimeMillis() + 5000;
            while (err.read() == -Errno.EAGAIN && System.currentTimeMillis() < end) Thread.sleep(5);
            assertTrue(System.currentTimeMillis() < end, "the err eventfd of the broken queue was signalled");
            // queue 1 (another worker) still serves
            long buf = s.guest.alloc(4096, 4096);
            q1.desc(0, buf, 10, DESC_F_NEXT, 1);
            q1.desc(1, buf + 100, 10, DESC_F_WRITE, 0);
            q1.publish(0);
            kick1.signal();
            q1.awaitUsed(1, 5000);
            assertArrayEquals(new int[] {0, 10}, q1.takeUsed());
            // the broken queue can still be stopped and its base read back; the connection is alive
            assertNotNull(s.fe.call(Request.GET_VRING_BASE, s.fe.state(0, 0)));
        }
    }

    @Test
    void aHandlerThatThrowsStopsOnlyItsQueue() throws Exception {
        AtomicBoolean explode = new AtomicBoolean(true);
        EchoDevice device = new EchoDevice(2) {
            @Override
            public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
                QueueHandler inner = super.startQueue(queueIndex, ctx);
                if (queueIndex != 0) return inner;
                return new QueueHandler() {
                    @Override public int onChain(org.vhostj.vhost.ring.DescriptorChain chain) {
                        if (explode.get()) throw new IllegalStateException("device bug");
                        return inner.onChain(chain);
                    }
                    @Override public void onFdReady(int token, int events) { inner.onFdReady(token, events); }
                    @Override public void stop() { inner.stop(); }
                };
            }
        };
        try (DaemonSession s = twoQueueSession(device, 0); EventFd kick1 = EventFd.create(); EventFd call1 = EventFd.create()) {
            TestSplitDriver q1 = new TestSplitDriver(s.guest, 16);
            s.fe.startRing(1, 16, 0, q1.descGpa, q1.availGpa, q1.usedGpa, kick1.fd(), call1.fd());
            s.postEcho(0, 8, (byte) 1);
            Thread.sleep(200);
            assertEquals(0, s.split.pendingUsed(), "the failed request is not completed by a broken queue");
            long buf = s.guest.alloc(4096, 4096);
            q1.desc(0, buf, 10, DESC_F_NEXT, 1);
            q1.desc(1, buf + 100, 10, DESC_F_WRITE, 0);
            q1.publish(0);
            kick1.signal();
            q1.awaitUsed(1, 5000);
            assertTrue(daemon.listening());
        }
        // a new session gets fresh handlers: the queue works again
        explode.set(false);
        try (DaemonSession s = new DaemonSession(dir.resolve("f.sock"), false, true)) {
            s.postEcho(1, 8, (byte) 2);
            assertEquals(1, s.awaitUsed()[0]);
        }
    }

    @Test
    void busyPollingPicksUpBuffersThatCameWithoutAKick() throws Exception {
        EchoDevice device = new EchoDevice(1);
        try (DaemonSession s = twoQueueSession(device, 500_000)) {
            s.postEcho(0, 16, (byte) 1);                 // kicked: wakes the worker, which then polls for 0.5 s
            assertEquals(0, s.awaitUsed()[0]);
            for (int i = 1; i < 20; i++) {
                // publish without kicking: only a polling worker sees it
                long in = s.data + 8192L * i, out = in + 4096;
                s.guest.at(in, 16).fill((byte) i);
                s.split.desc(2 * i, in, 16, DESC_F_NEXT, 2 * i + 1);
                s.split.desc(2 * i + 1, out, 16, DESC_F_WRITE, 0);
                s.split.publish(2 * i);
                assertEquals(i, s.awaitUsed()[0]);
                assertEquals((byte) i, s.readEcho(i, 16));
            }
            assertEquals(1, daemon.queueMetrics(0).kicks(), "only the first request was kicked");
            assertEquals(20, daemon.queueMetrics(0).requests());
        }
    }
}
