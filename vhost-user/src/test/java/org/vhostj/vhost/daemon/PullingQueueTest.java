package org.vhostj.vhost.daemon;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * A queue whose handler pulls chains when it has data (a receive queue) asks the driver for kicks only while
 * it is waiting for buffers: with buffers posted and being pulled, the driver is told not to notify (a kick
 * is a syscall on the driver's side for every batch it posts), and once the ring runs dry it is asked again,
 * so no buffer it posts later goes unnoticed.
 */
class PullingQueueTest {
    @TempDir Path dir;
    Daemon daemon;

    @AfterEach
    void stop() { if (daemon != null) daemon.close(); }

    @Test
    void kicksAreOffWhilePullingAndBackOnceTheRingRunsDry() throws Exception {
        SourceDevice device = new SourceDevice();
        Path sock = dir.resolve("p.sock");
        daemon = new Daemon(device, new DaemonOptions(sock, -1, 0, Duration.ofSeconds(5), Duration.ofMillis(300), false));
        daemon.start();
        try (DaemonSession s = new DaemonSession(sock, false, false)) {
            var drv = s.split;
            awaitValue(() -> device.started.get(), 1, "queue started");
            assertEquals(0, drv.usedFlags(), "a fresh pulling queue wants kicks");

            for (int i = 0; i < 8; i++) drv.desc(i, s.data + 64L * i, 64, DESC_F_WRITE, 0);
            for (int i = 0; i < 8; i++) drv.publish(i);
            s.kick.signal();
            device.addFrames(3);
            drv.awaitUsed(3, 5_000);
            drv.awaitUsedQuietly();
            awaitValue(drv::usedFlags, USED_F_NO_NOTIFY, "kicks off while 5 buffers wait to be pulled");

            device.addFrames(10);
            drv.awaitUsed(5, 5_000);
            drv.awaitUsedQuietly();
            awaitValue(drv::usedFlags, 0, "kicks asked for again once the ring ran dry");

            // the 5 frames left go into buffers posted later: the kick they bring is heard
            for (int i = 0; i < 5; i++) drv.publish(i);
            s.kick.signal();
            drv.awaitUsed(5, 5_000);
            assertEquals(0, device.frames.get());
            assertEquals(13, device.completed.get());
        }
    }

    private static void awaitValue(IntSupplier value, int expected, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (value.getAsInt() != expected) {
            if (System.nanoTime() > end) fail(what + ": " + value.getAsInt() + " != " + expected);
            Thread.sleep(1);
        }
    }

    /** One pulling queue that fills a buffer for each frame it is given. */
    static final class SourceDevice implements VirtioDevice {
        final AtomicInteger frames = new AtomicInteger(), completed = new AtomicInteger(), started = new AtomicInteger();
        final EventFd ready = EventFd.create();
        private final MemorySegment config = Arena.global().allocate(8);

        void addFrames(int n) { frames.addAndGet(n); ready.signal(); }

        @Override public int deviceType() { return 0x7f; }
        @Override public String name() { return "source"; }
        @Override public int queueCount() { return 1; }
        @Override public int maxQueueSize() { return 256; }
        @Override public long offeredFeatures() { return 0; }
        @Override public MemorySegment configSpace() { return config; }
        @Override public int workerOf(int q) { return 0; }
        @Override public void reset() {}
        @Override public void close() { ready.close(); }

        @Override
        public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
            ctx.watch(ready.fd(), Epoll.EPOLLIN, 0);
            started.incrementAndGet();
            return new QueueHandler() {
                @Override public boolean consumesOnKick() { return false; }
                @Override public int onChain(DescriptorChain chain) { return 0; }
                @Override public void onKick() { pull(); }
                @Override public void onFdReady(int token, int events) { ready.drain(); pull(); }
                @Override public void stop() { ctx.unwatch(ready.fd()); }

                private void pull() {
                    while (frames.get() > 0) {
                        DescriptorChain c = ctx.pollChain();
                        if (c == null) return;
                        c.writeByte(0, (byte) 1);
                        ctx.complete(c.head(), 1);
                        frames.decrementAndGet();
                        completed.incrementAndGet();
                    }
                }
            };
        }
    }
}
