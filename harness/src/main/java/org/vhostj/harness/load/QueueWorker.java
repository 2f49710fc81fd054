package org.vhostj.harness.load;

import java.util.concurrent.TimeUnit;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.driver.DriverRing;

/**
 * Drives one virtqueue on its own platform thread: submits what the engine builds, publishes and kicks
 * (when the backend asks for kicks), reaps completions, and sleeps on the call eventfd with interrupts
 * enabled only while it has nothing else to do (or spins, in poll mode). A call fd that stays silent while
 * completions wait is counted as a missed notification; a queue that makes no progress for the request
 * timeout is abandoned and its in-flight requests are reported lost.
 *
 * <p>Owns its {@link Epoll}; the queue, the engine and the stats are lent to it for the run and read by the
 * owner after {@link #join}.
 */
public final class QueueWorker implements Runnable {
    private static final long TOKEN_CALL = 0, TOKEN_STOP = 1;

    private final VirtQueue queue;
    private final DriverRing ring;
    private final RequestEngine engine;
    private final QueueStats stats;
    private final boolean poll;
    private final long requestTimeoutNanos;
    private final EventFd stopFd = EventFd.create();
    private final Thread thread;
    private volatile boolean stopRequested;

    public QueueWorker(VirtQueue queue, RequestEngine engine, QueueStats stats, boolean poll, long requestTimeoutMillis) {
        this.queue = queue;
        this.ring = queue.ring();
        this.engine = engine;
        this.stats = stats;
        this.poll = poll;
        this.requestTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis);
        this.thread = new Thread(this, "harness-q" + queue.index());
    }

    public void start() { thread.start(); }

    /** Asks the worker to stop submitting; it still waits (bounded) for what is in flight. Any thread. */
    public void requestStop() {
        stopRequested = true;
        stopFd.signal();
    }

    public void join() throws InterruptedException { thread.join(); }

    /** Waits at most {@code millis} for the worker to end. */
    public void joinFor(long millis) throws InterruptedException { thread.join(Math.max(1, millis)); }

    public boolean alive() { return thread.isAlive(); }

    public QueueStats stats() { return stats; }

    @Override
    public void run() {
        try (Epoll epoll = new Epoll(2)) {
            epoll.add(queue.callFd().fd(), Epoll.EPOLLIN, TOKEN_CALL);
            epoll.add(stopFd.fd(), Epoll.EPOLLIN, TOKEN_STOP);
            loop(epoll);
        } catch (RuntimeException e) {
            stats.aborted = "worker failed: " + e;
            stats.lost += engine.inFlight();
        } finally {
            stats.ringViolations = ring.violations();
            if (ring.lastViolation() != null) stats.problem("ring: " + ring.lastViolation());
            stats.kicks = queue.kicks();
            stats.kicksSuppressed = queue.kicksSuppressed();
            stopFd.close();
        }
    }

    private void loop(Epoll epoll) {
        long lastProgress = System.nanoTime();
        boolean stopSent = false;
        if (!poll) ring.disableInterrupts();
        while (true) {
            long now = System.nanoTime();
            if (stopRequested && !stopSent) {
                engine.stop();
                stopSent = true;
            }
            int added = 0;
            while (true) {
                int id = engine.submit(ring, now);
                if (id < 0) break;
                added++;
            }
            if (added > 0) queue.publishAndKick();
            int reaped = reap();
            if (reaped < 0) return;
            if (added > 0 || reaped > 0) lastProgress = now;
            if (engine.finished(now) && engine.inFlight() == 0) return;
            if (added > 0 || reaped > 0) continue;
            if (engine.inFlight() > 0 && now - lastProgress > requestTimeoutNanos) {
                stats.aborted = engine.inFlight() + " requests got no completion for " + TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos) + " ms";
                stats.lost += engine.inFlight();
                return;
            }
            if (poll) {
                Thread.onSpinWait();
                continue;
            }
            if (ring.enableInterrupts()) {   // completions slipped in: no sleep
                ring.disableInterrupts();
                continue;
            }
            long waitMillis = Math.max(1, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos) / 4));
            int n = epoll.await((int) waitMillis);
            ring.disableInterrupts();
            boolean called = false;
            for (int i = 0; i < n; i++) if (epoll.token(i) == TOKEN_CALL) called = true;
            if (called || queue.callFd().read() > 0) {
                queue.callFd().drain();
                stats.interrupts++;
            } else if (n == 0 && engine.inFlight() > 0) {
                int r = reap();
                if (r < 0) return;
                if (r > 0) {
                    stats.missedNotifications++;
                    if (stats.missedNotifications == 1) stats.problem("backend did not signal the call fd for a completion while interrupts were enabled");
                    lastProgress = System.nanoTime();
                }
            }
        }
    }

    /** Reaps every completion; returns how many, or -1 when the ring is broken. */
    private int reap() {
        int n = 0;
        long now = 0;
        for (int id; (id = ring.pollUsed()) != DriverRing.NONE; ) {
            if (id == DriverRing.BAD_USED) {
                if (ring.broken()) {
                    stats.aborted = "used ring is invalid: " + ring.lastViolation();
                    stats.lost += engine.inFlight();
                    return -1;
                }
                continue;   // one bad used entry was skipped (counted by the ring); its request stays in flight
            }
            if (n == 0) now = System.nanoTime();
            engine.complete(id, ring.usedLength(), now);
            n++;
        }
        return n;
    }
}
