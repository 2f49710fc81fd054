package org.vhostj.vhost.daemon;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.memory.DirtyLog;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.ring.DescriptorChain;
import org.vhostj.vhost.ring.DeviceRing;

/**
 * One worker thread serving the started rings the device mapped to it ({@code workerOf}). It owns its
 * epoll, the ring objects and the handlers' calls; the control thread talks to it only through commands
 * (a bounded queue plus a wakeup eventfd) and waits for the reply, so no ring state is shared.
 *
 * <p>Epoll tokens: {@link #COMMAND_TOKEN} for commands, {@code KICK | queue} for kick eventfds, and
 * {@code HANDLER | queue << 16 | token} for descriptors a handler watches.
 */
final class QueueWorker implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(QueueWorker.class);
    private static final long COMMAND_TOKEN = 1L << 40, KICK = 1L << 32, HANDLER = 2L << 32;
    /** Chains handled per queue before the worker looks at its other descriptors (fairness). */
    static final int MAX_BATCH = 256;

    private final int id;
    private final Epoll epoll = new Epoll(64);
    private final EventFd wakeup = EventFd.create();
    private final ArrayBlockingQueue<Runnable> commands = new ArrayBlockingQueue<>(256);
    private final ActiveQueue[] queues = new ActiveQueue[256];
    private final List<ActiveQueue> active = new ArrayList<>();
    private final long pollNanos;
    private final long stopTimeoutNanos;
    private final boolean timeRequests;
    private final RateLimitedLog faults;
    private final Thread thread;
    private GuestMemory memory = GuestMemory.empty();
    private DirtyLog dirtyLog;
    private volatile boolean exit;

    QueueWorker(int id, DaemonOptions options, boolean timeRequests, RateLimitedLog faults) {
        this.id = id;
        this.pollNanos = options.pollMicros() * 1000L;
        this.stopTimeoutNanos = options.stopTimeout().toNanos();
        this.timeRequests = timeRequests;
        this.faults = faults;
        epoll.add(wakeup.fd(), Epoll.EPOLLIN, COMMAND_TOKEN);
        thread = Thread.ofPlatform().name("vhost-worker-" + id).daemon(true).unstarted(this);
        thread.setUncaughtExceptionHandler((t, e) -> {
            // an Error (out of memory, a JVM fault): the process is not trustworthy any more; a supervisor restarts it
            log.error("worker {} died: {}", id, e.toString(), e);
            Runtime.getRuntime().halt(1);
        });
    }

    void start() { thread.start(); }

    int id() { return id; }

    // ---- control thread side ----------------------------------------------------------------------

    /** Runs {@code action} on the worker thread and waits for it (bounded): every command is synchronous. */
    private <T> T call(java.util.function.Supplier<T> action, long timeoutNanos) {
        CompletableFuture<T> done = new CompletableFuture<>();
        post(() -> {
            try { done.complete(action.get()); } catch (RuntimeException e) { done.completeExceptionally(e); }
        });
        try {
            return done.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("worker " + id + " did not answer within " + timeoutNanos / 1_000_000 + " ms");
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for worker " + id);
        }
    }

    private void post(Runnable command) {
        if (!commands.offer(command)) throw new IllegalStateException("worker " + id + " command queue full");
        wakeup.signal();
    }

    private static final long COMMAND_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    void startQueue(ActiveQueue q) { call(() -> { doStart(q); return null; }, COMMAND_TIMEOUT_NANOS); }

    /** Value a stop reports for a ring this worker was not running. */
    static final long NOT_RUNNING = -1L;

    /**
     * Stops a ring once its deferred requests completed (or the stop timeout passed); completes with its base
     * as an unsigned 32-bit value (a packed base may have bit 31 set), or {@link #NOT_RUNNING}.
     */
    CompletableFuture<Long> stopQueue(int index) {
        CompletableFuture<Long> reply = new CompletableFuture<>();
        post(() -> doStop(index, reply));
        return reply;
    }

    void setEnabled(int index, boolean enabled) { call(() -> { ActiveQueue q = queues[index]; if (q != null) q.setEnabled(enabled); return null; }, COMMAND_TIMEOUT_NANOS); }

    void setCall(int index, EventFd call) { call(() -> { ActiveQueue q = queues[index]; if (q != null) q.call = call; return null; }, COMMAND_TIMEOUT_NANOS); }

    void setErr(int index, EventFd err) { call(() -> { ActiveQueue q = queues[index]; if (q != null) q.err = err; return null; }, COMMAND_TIMEOUT_NANOS); }

    void setKick(int index, EventFd kick) { call(() -> { ActiveQueue q = queues[index]; if (q != null) q.replaceKick(kick); return null; }, COMMAND_TIMEOUT_NANOS); }

    void setUsedLog(int index, long logGpa, boolean on) {
        call(() -> { ActiveQueue q = queues[index]; if (q != null) q.ring.updateUsedLog(logGpa, on); return null; }, COMMAND_TIMEOUT_NANOS);
    }

    /** In-band kick (VHOST_USER_VRING_KICK). */
    void kick(int index) { post(() -> { ActiveQueue q = queues[index]; if (q != null) { q.metrics.kick(); process(q); } }); }

    /** Switches every ring to {@code mem}; when this returns, the worker no longer touches the old snapshot. */
    void swapMemory(GuestMemory mem) { call(() -> { doSwapMemory(mem); return null; }, COMMAND_TIMEOUT_NANOS); }

    void setDirtyLog(DirtyLog log) { call(() -> { dirtyLog = log; for (ActiveQueue q : active) q.ring.setDirtyLog(log); return null; }, COMMAND_TIMEOUT_NANOS); }

    /** Ends the thread after the rings were stopped. */
    void shutdown() {
        exit = true;
        wakeup.signal();
        try { thread.join(TimeUnit.SECONDS.toMillis(5)); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        epoll.close();
        wakeup.close();
    }

    // ---- worker thread side -----------------------------------------------------------------------

    @Override
    public void run() {
        while (!exit) {
            int timeout = timeoutMillis();
            long now = System.nanoTime();
            int n = 0;
            // busy polling: the rings are read every pass, but the epoll_wait syscall (commands, handler fds, kicks
            // of rings not polled) only every EPOLL_EVERY_NANOS while it keeps finding nothing; it cost more than
            // half of a spinning worker's time
            if (timeout != 0 || lastEpollEvents != 0 || now - lastEpollNanos >= EPOLL_EVERY_NANOS) {
                n = epoll.await(timeout);
                idleFdEvents = 0;
                for (int i = 0; i < n; i++) dispatch(epoll.token(i), epoll.events(i));
                lastEpollEvents = n - idleFdEvents;
                lastEpollNanos = now;
            }
            if (n == 0 || hasPollWork) runPolling();
            checkStopping();
        }
    }

    /** While busy polling finds no descriptor ready, epoll is asked at most this often. */
    static final long EPOLL_EVERY_NANOS = 20_000;
    private long lastEpollNanos;
    private int lastEpollEvents;
    /**
     * Handler fd events of the last epoll_wait that found their queue waiting for buffers (a receive queue with
     * frames queued and an empty ring): they do not make the next pass call epoll_wait again, or the worker
     * would spend its polling in that syscall and notice the driver's new buffers a syscall late.
     */
    private int idleFdEvents;
    private boolean hasPollWork;

    private int timeoutMillis() {
        if (!commands.isEmpty()) return 0;
        hasPollWork = false;
        boolean stopping = false;
        for (ActiveQueue q : active) {
            if (q.pending || (q.runnable() && (q.kick == null || q.polling || q.awaitingChains))) hasPollWork = true;
            if (q.stopping) stopping = true;
        }
        if (hasPollWork) return 0;
        return stopping ? 5 : -1;
    }

    private void dispatch(long token, int events) {
        if (token == COMMAND_TOKEN) {
            wakeup.drain();
            Runnable c;
            while ((c = commands.poll()) != null) c.run();
            return;
        }
        long kind = token & ~0xffffffffL;
        if (kind == KICK) {
            ActiveQueue q = queues[(int) (token & 0xff)];
            if (q == null || q.kick == null) return;
            q.kick.drain();
            q.metrics.kick();
            process(q);
        } else if (kind == HANDLER) {
            ActiveQueue q = queues[(int) ((token >>> 16) & 0xff)];
            if (q == null || q.broken) return;
            try {
                q.handler.onFdReady((int) (token & 0xffff), events);
                if (q.awaitingChains) idleFdEvents++;
                flush(q);
            } catch (RuntimeException e) {
                fault(q, "handler failed on fd event: " + e);
            }
        }
    }

    private void doStart(ActiveQueue q) {
        queues[q.index] = q;
        active.add(q);
        q.ring.setDirtyLog(dirtyLog);
        if (!q.ring.attach(memory)) { fault(q, "ring areas are not inside guest memory or misaligned"); return; }
        if (q.kick != null) epoll.add(q.kick.fd(), Epoll.EPOLLIN, KICK | q.index);
        try {
            for (int head : q.resubmit) {
                int r = q.ring.walkHead(head, q.chain);
                if (r == DeviceRing.POP_RING_FAULT) { fault(q, "in-flight head " + head + " is not valid"); return; }
                if (r == DeviceRing.POP_CHAIN_FAULT || !q.handler.consumesOnKick()) { q.complete(head, 0); q.metrics.error(); continue; }
                q.handle();
            }
            if (q.resubmit.length > 0) q.handler.endBatch();
            if (q.resubmit.length > 0) log.info("queue {}: resubmitted {} in-flight requests", q.index, q.resubmit.length);
        } catch (RuntimeException e) {
            fault(q, "handler failed on a resubmitted request: " + e);
            return;
        }
        if (!q.handler.consumesOnKick()) q.askForKicks();   // a pulling handler starts out asking for kicks (a previous session may have left them off)
        process(q);   // buffers may have been made available before our kick fd was watched
    }

    private void doStop(int index, CompletableFuture<Long> reply) {
        ActiveQueue q = queues[index];
        if (q == null) { reply.complete(NOT_RUNNING); return; }
        if (q.kick != null) epoll.remove(q.kick.fd());
        q.stopping = true;
        q.stopReply = reply;
        q.stopDeadline = System.nanoTime() + stopTimeoutNanos;
        if (q.ring.outstandingCount() == 0 || q.broken) finishStop(q);
    }

    private void checkStopping() {
        for (int i = active.size() - 1; i >= 0; i--) {
            ActiveQueue q = active.get(i);
            if (!q.stopping) continue;
            if (q.ring.outstandingCount() == 0 || q.broken) finishStop(q);
            else if (System.nanoTime() - q.stopDeadline > 0) {
                log.warn("queue {}: {} requests still in flight after the stop timeout; stopping anyway", q.index, q.ring.outstandingCount());
                finishStop(q);
            }
        }
    }

    private void finishStop(ActiveQueue q) {
        flush(q);
        try { q.handler.stop(); } catch (RuntimeException e) { log.warn("queue {}: handler stop failed: {}", q.index, e.toString()); }
        for (int i = 0; i < q.watchedCount; i++) epoll.remove(q.watched[i]);
        q.watchedCount = 0;
        queues[q.index] = null;
        active.remove(q);
        q.metrics.inflight(0);
        q.stopReply.complete(Integer.toUnsignedLong(q.ring.base()));
    }

    private void doSwapMemory(GuestMemory mem) {
        memory = mem;
        for (ActiveQueue q : active) {
            if (!q.broken && !q.ring.attach(mem)) fault(q, "ring areas are not inside the new guest memory");
        }
    }

    /** Drains a kicked queue: pops and handles chains with kicks off, then re-enables kicks and re-checks. */
    private void process(ActiveQueue q) {
        if (!q.runnable()) return;
        try {
            if (!q.handler.consumesOnKick()) {
                q.handler.onKick();
                flush(q);
                return;
            }
            q.ring.disableKicks();
            while (true) {
                int done = drain(q);
                flush(q);
                if (q.broken) return;
                if (done == MAX_BATCH) { q.pending = true; return; }      // come back after the other descriptors
                if (pollNanos > 0) {                                        // busy poll: leave kicks off for now
                    if (done > 0) q.lastWorkNanos = System.nanoTime();
                    q.polling = true;
                    return;
                }
                if (!q.ring.enableKicks()) return;
                q.ring.disableKicks();
            }
        } catch (RuntimeException e) {
            fault(q, "handler failed: " + e);
        }
    }

    private int drain(ActiveQueue q) {
        q.pending = false;
        int done = 0;
        while (done < MAX_BATCH) {
            int r = q.ring.pop(q.chain);
            if (r == DeviceRing.POP_EMPTY) break;
            if (r == DeviceRing.POP_RING_FAULT) { fault(q, "ring fault: " + q.ring.lastFault()); break; }
            done++;
            if (r == DeviceRing.POP_CHAIN_FAULT) {
                q.metrics.error();
                faults.warn("queue {}: bad descriptor chain (head {}): {}", q.index, q.chain.head(), q.ring.lastFault());
                q.complete(q.chain.head(), 0);
                continue;
            }
            q.handle();
        }
        if (done > 0) q.handler.endBatch();
        return done;
    }

    /** Busy polling: rings with kicks off are checked until they stay idle for the poll period. */
    private void runPolling() {
        long now = System.nanoTime();
        for (int i = 0; i < active.size(); i++) {
            ActiveQueue q = active.get(i);
            if (!q.runnable()) continue;
            if (q.pending) { process(q); continue; }
            if (q.awaitingChains) {   // a pulled queue ran dry in its poll window: watch the ring instead of asking for a kick
                if (q.ring.hasAvailable()) {
                    q.awaitingChains = false;
                    process(q);
                    lastEpollEvents = 1;   // its handler's fds count again: ask epoll on the next pass
                } else if (now - q.lastWorkNanos > pollNanos) {
                    q.awaitingChains = false;
                    q.pollWindowOver = true;   // the handler's next pollChain re-arms the kick and returns null
                    try {
                        if (q.askForKicks()) process(q);
                    } catch (RuntimeException e) {
                        fault(q, "handler failed: " + e);
                    }
                }
                continue;
            }
            if (q.kick == null) { if (q.ring.hasAvailable()) process(q); continue; }
            if (!q.polling) continue;
            if (q.ring.hasAvailable()) {
                process(q);
            } else if (now - q.lastWorkNanos > pollNanos) {
                q.polling = false;
                try {
                    if (q.ring.enableKicks()) process(q);
                } catch (RuntimeException e) {
                    fault(q, "handler failed: " + e);
                }
            }
        }
        if (hasPollWork) Thread.onSpinWait();
    }

    private void flush(ActiveQueue q) {
        if (q.ring.pendingUsed() == 0) return;
        if (q.ring.flushUsed()) {
            if (q.call != null) q.call.signal();
            q.metrics.interrupt();
        } else {
            q.metrics.suppressed();
        }
        q.metrics.inflight(q.ring.outstandingCount());
    }

    /** Stops one queue for a bad ring or a handler bug; the others keep running. */
    private void fault(ActiveQueue q, String reason) {
        if (q.broken) return;
        q.broken = true;
        if (q.kick != null) epoll.remove(q.kick.fd());
        if (q.err != null) q.err.signal();
        log.warn("queue {} stopped: {}", q.index, reason);
    }

    /** A started ring on this worker, and the {@link QueueContext} its handler sees. */
    final class ActiveQueue implements QueueContext {
        final int index;
        final DeviceRing ring;
        final DescriptorChain chain;
        final QueueMetrics metrics;
        final long features;
        final int[] resubmit;
        QueueHandler handler;
        EventFd kick, call, err;
        boolean enabled, broken, stopping, pending, polling;
        /** A pulling handler's ring asks the driver for kicks: changed only by {@link #askForKicks} and {@link #stopKicks}. */
        boolean kicksWanted;
        /** Pulled queue, busy polling: pollChain found the ring empty and the worker polls it until the window ends. */
        boolean awaitingChains;
        /** Pulled queue: the poll window ended with the ring still empty; cleared when a chain is pulled again. */
        boolean pollWindowOver;
        long stopDeadline, lastWorkNanos;
        CompletableFuture<Long> stopReply;
        final long[] startNanos;
        int[] watched = new int[8];
        int watchedCount;

        ActiveQueue(int index, DeviceRing ring, QueueMetrics metrics, long features, int[] resubmit,
                    EventFd kick, EventFd call, EventFd err, boolean enabled) {
            this.index = index;
            this.ring = ring;
            this.chain = new DescriptorChain(Math.max(ring.size(), 1024));
            this.metrics = metrics;
            this.features = features;
            this.resubmit = resubmit;
            this.kick = kick;
            this.call = call;
            this.err = err;
            this.enabled = enabled;
            this.startNanos = timeRequests ? new long[ring.size()] : null;
        }

        boolean runnable() { return enabled && !broken && !stopping; }

        void setEnabled(boolean on) {
            boolean was = enabled;
            enabled = on;
            if (on && !was) process(this);
        }

        void replaceKick(EventFd newKick) {
            if (kick != null && !stopping && !broken) epoll.remove(kick.fd());
            kick = newKick;
            if (kick != null && !stopping && !broken) epoll.add(kick.fd(), Epoll.EPOLLIN, KICK | index);
        }

        /** Passes the popped chain to the handler and completes it if the handler answered at once. */
        void handle() {
            int head = chain.head();
            if (startNanos != null) startNanos[head] = System.nanoTime();
            int written = handler.onChain(chain);
            if (written >= 0) complete(head, written);
            else if (written != QueueHandler.DEFERRED) throw new IllegalStateException("handler returned " + written);
        }

        @Override public int queueIndex() { return index; }

        @Override public long negotiatedFeatures() { return features; }

        @Override public GuestMemory memory() { return memory; }

        @Override
        public void complete(int head, int bytesWritten) {
            if (Thread.currentThread() != thread) throw new IllegalStateException("complete() off the worker thread");
            if (!ring.pushUsed(head, bytesWritten)) throw new IllegalStateException("completed head " + head + " that is not in flight");
            metrics.request();
            if (startNanos != null && head < startNanos.length) metrics.latency(System.nanoTime() - startNanos[head]);
        }

        @Override
        public DescriptorChain pollChain() {
            if (!runnable()) return null;
            while (true) {
                int r = ring.pop(chain);
                if (r == DeviceRing.POP_OK) {
                    pollWindowOver = false;
                    // the driver has buffers: it need not notify us while we pull them (a notification is a
                    // syscall on its side for every batch it posts; DPDK's virtio driver checks the flag per burst)
                    stopKicks();
                    if (startNanos != null) startNanos[chain.head()] = System.nanoTime();
                    return chain;
                }
                if (r == DeviceRing.POP_CHAIN_FAULT) {
                    metrics.error();
                    faults.warn("queue {}: bad descriptor chain (head {}): {}", index, chain.head(), ring.lastFault());
                    complete(chain.head(), 0);
                    continue;
                }
                if (r == DeviceRing.POP_RING_FAULT) { fault(this, "ring fault: " + ring.lastFault()); return null; }
                // empty, busy polling: the worker polls the ring and calls onKick when buffers come, for up to the poll window
                if (pollNanos > 0 && !pollWindowOver && !handler.consumesOnKick()) {
                    if (!awaitingChains) {
                        awaitingChains = true;
                        lastWorkNanos = System.nanoTime();
                        stopKicks();
                    }
                    return null;
                }
                awaitingChains = false;
                // empty: ask for a kick, unless buffers arrived meanwhile
                if (!askForKicks()) return null;
            }
        }

        /** A pulling handler's ring: asks the driver for kicks; true if buffers came meanwhile (see {@link DeviceRing#enableKicks}). */
        boolean askForKicks() {
            kicksWanted = true;
            return ring.enableKicks();
        }

        /** A pulling handler's ring: the driver need not kick (once per change, not per chain). */
        void stopKicks() {
            if (kicksWanted) { ring.disableKicks(); kicksWanted = false; }
        }

        @Override public void unpollChain() { ring.unpop(); }

        @Override public boolean pollingForChains() { return awaitingChains && runnable(); }

        @Override public boolean enabled() { return enabled; }

        @Override
        public void watch(int fd, int epollEvents, int token) {
            checkToken(token);
            epoll.add(fd, epollEvents, HANDLER | ((long) index << 16) | token);
            if (watchedCount == watched.length) watched = java.util.Arrays.copyOf(watched, watchedCount * 2);
            watched[watchedCount++] = fd;
        }

        @Override
        public void rewatch(int fd, int epollEvents, int token) {
            checkToken(token);
            epoll.modify(fd, epollEvents, HANDLER | ((long) index << 16) | token);
        }

        @Override
        public void unwatch(int fd) {
            epoll.remove(fd);
            for (int i = 0; i < watchedCount; i++) {
                if (watched[i] == fd) { watched[i] = watched[--watchedCount]; break; }
            }
        }

        private void checkToken(int token) {
            if (token < 0 || token > 0xffff) throw new IllegalArgumentException("watch token must be 0..65535: " + token);
        }

        @Override public void countError() { metrics.error(); }

        @Override public void countBytes(long bytes) { metrics.bytes(bytes); }
    }
}
