package org.vhostj.vhost.daemon;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * Test device: each queue copies a chain's readable bytes into its writable part and answers the count.
 * In deferred mode a queue holds every chain until {@link #releaseDeferred} (an eventfd the worker
 * watches), to test in-flight handling; a config space of 8 bytes whose second half is writable.
 */
class EchoDevice implements VirtioDevice {
    final int queues;
    volatile boolean deferred;
    final List<Integer> handledHeads = new CopyOnWriteArrayList<>();
    final List<Integer> startedQueues = new CopyOnWriteArrayList<>();
    volatile int resets, closes;
    /** The guest memory the last chain was handled with (to check mappings survive a re-sent table). */
    volatile MemorySegment lastRegion0;
    private final MemorySegment config = Arena.global().allocate(8);
    private final List<Handler> handlers = new CopyOnWriteArrayList<>();

    EchoDevice(int queues) { this.queues = queues; config.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, 0x1234); }

    @Override public int deviceType() { return 0x7e; }
    @Override public String name() { return "echo"; }
    @Override public int queueCount() { return queues; }
    @Override public int maxQueueSize() { return 256; }
    @Override public long offeredFeatures() { return 1L << 3; }
    @Override public MemorySegment configSpace() { return config; }
    @Override public int workerOf(int q) { return q % 2; }

    @Override
    public boolean writeConfig(int offset, MemorySegment data, boolean migration) {
        if (offset < 4) return false;   // the first half is read-only
        MemorySegment.copy(data, 0, config, offset, data.byteSize());
        return true;
    }

    @Override public void reset() { resets++; }
    @Override public void close() { closes++; }

    /** Completes every deferred chain of every queue (with 0 bytes written). */
    void releaseDeferred() { for (Handler h : handlers) h.release.signal(); }

    @Override
    public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
        startedQueues.add(queueIndex);
        Handler h = new Handler(ctx);
        handlers.add(h);
        return h;
    }

    final class Handler implements QueueHandler {
        final QueueContext ctx;
        final EventFd release = EventFd.create();
        final ConcurrentLinkedQueue<Integer> held = new ConcurrentLinkedQueue<>();
        final MemorySegment scratch = Arena.ofAuto().allocate(65536);

        Handler(QueueContext ctx) {
            this.ctx = ctx;
            ctx.watch(release.fd(), Epoll.EPOLLIN, 1);
        }

        @Override
        public int onChain(DescriptorChain chain) {
            handledHeads.add(chain.head());
            lastRegion0 = ctx.memory().region(0);
            if (deferred) { held.add(chain.head()); return DEFERRED; }
            long n = Math.min(Math.min(chain.readableBytes(), chain.writableBytes()), scratch.byteSize());
            chain.readFrom(0, scratch, 0, n);
            chain.writeTo(0, scratch, 0, n);
            ctx.countBytes(n);
            return (int) n;
        }

        @Override
        public void onFdReady(int token, int events) {
            release.drain();
            Integer head;
            while ((head = held.poll()) != null) ctx.complete(head, 0);
        }

        @Override
        public void stop() {
            ctx.unwatch(release.fd());
            release.close();
            handlers.remove(this);
        }
    }

    static List<Integer> list(int... v) { List<Integer> l = new ArrayList<>(); for (int x : v) l.add(x); return l; }
}
