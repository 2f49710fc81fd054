package org.vhostj.fs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.fs.fuse.FuseServer;
import org.vhostj.fs.fuse.FuseSession;
import org.vhostj.fs.passthrough.PassthroughFs;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * {@code --thread-pool-size N}: the requests of the device's request queues run on N shared threads, so a
 * request that blocks (a slow disk, a FIFO being opened, a lock) does not hold up the requests behind it, as
 * virtiofsd's thread pool does. Each pool thread has its own {@link FuseServer} (its scratch buffers);
 * the {@link PassthroughFs} is thread-safe. The hiprio queue (FORGET) stays on its worker.
 */
final class RequestPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RequestPool.class);

    private final ExecutorService threads;
    private final ThreadLocal<FuseServer> servers;
    private final List<FuseServer> allServers = new ArrayList<>();

    RequestPool(PassthroughFs fs, FuseSession session, int size) {
        AtomicInteger n = new AtomicInteger();
        threads = Executors.newFixedThreadPool(size, r -> Thread.ofPlatform().daemon(true).name("vhostj-fs-pool-" + n.getAndIncrement()).unstarted(r));
        servers = ThreadLocal.withInitial(() -> {
            FuseServer s = new FuseServer(fs, session);
            synchronized (allServers) { allServers.add(s); }
            return s;
        });
    }

    /** A handler for request queue {@code ctx} that serves its chains on this pool. */
    QueueHandler queue(QueueContext ctx) { return new PooledQueue(ctx); }

    @Override
    public void close() {
        threads.shutdownNow();
        try {
            if (!threads.awaitTermination(10, TimeUnit.SECONDS)) log.warn("fs request pool: threads still busy after 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (allServers) {
            for (FuseServer s : allServers) {
                try {
                    s.close();
                } catch (IllegalStateException e) {   // a thread still stuck in a request uses its buffers: leave them
                    log.warn("fs request pool: a server's buffers are still in use at close: {}", e.getMessage());
                }
            }
            allServers.clear();
        }
    }

    /** One request handed to the pool: a copy of its chain and the guest memory snapshot its buffers lie in. */
    private static final class Request {
        DescriptorChain chain = new DescriptorChain(64);
        GuestMemory memory;
        int used;
        long dataBytes;
    }

    /**
     * A request queue served by the pool. The worker copies each chain, pins its memory snapshot (so a new
     * memory table cannot unmap buffers a pool thread is using) and hands it over; the pool thread serves it
     * and queues it back, and the worker completes it when the eventfd fires (QueueContext is worker-only).
     */
    private final class PooledQueue implements QueueHandler {
        private static final int DONE_TOKEN = 1;
        private final QueueContext ctx;
        private final EventFd done = EventFd.create();
        private final ConcurrentLinkedQueue<Request> finished = new ConcurrentLinkedQueue<>();
        private final ArrayDeque<Request> free = new ArrayDeque<>();
        /** Set (under this queue's lock) once the worker stops taking completions: late ones unpin themselves. */
        private boolean stopped;

        PooledQueue(QueueContext ctx) {
            this.ctx = ctx;
            ctx.watch(done.fd(), Epoll.EPOLLIN, DONE_TOKEN);
        }

        @Override
        public int onChain(DescriptorChain chain) {
            Request r = free.isEmpty() ? new Request() : free.pop();
            if (!r.chain.copyFrom(chain)) {
                r.chain = new DescriptorChain(chain.count());
                r.chain.copyFrom(chain);
            }
            r.memory = ctx.memory();
            r.memory.pin();
            try {
                threads.execute(() -> serve(r));
            } catch (RejectedExecutionException e) {   // the pool is closing (daemon shutdown): answer nothing
                r.memory.unpin();
                r.memory = null;
                free.push(r);
                return 0;
            }
            return DEFERRED;
        }

        /** On a pool thread. */
        private void serve(Request r) {
            FuseServer server = servers.get();
            try {
                r.used = server.handle(r.chain);
                r.dataBytes = server.lastDataBytes();
            } catch (RuntimeException e) {   // a bug, not guest input (FuseServer answers bad requests): fail this one
                log.warn("fs request failed on the pool: {}", e.toString());
                r.used = 0;
                r.dataBytes = 0;
            }
            synchronized (this) {   // against stop(), which closes the eventfd
                if (stopped) { r.memory.unpin(); return; }
                finished.add(r);
                done.signal();
            }
        }

        @Override
        public void onFdReady(int token, int readyEvents) {
            done.drain();   // before polling: a request queued after this signals again
            for (Request r; (r = finished.poll()) != null; ) {
                ctx.complete(r.chain.head(), r.used);
                if (r.dataBytes > 0) ctx.countBytes(r.dataBytes);
                r.memory.unpin();
                r.memory = null;
                free.push(r);
            }
        }

        /** After the core's stop timeout a request may still run: it unpins its memory itself when done. */
        @Override
        public void stop() {
            ctx.unwatch(done.fd());
            synchronized (this) {
                stopped = true;
                for (Request r; (r = finished.poll()) != null; ) r.memory.unpin();
                done.close();
            }
        }
    }
}
