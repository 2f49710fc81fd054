package org.vhostj.harness.load;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.driver.DriverRing;

/**
 * Drives one or more virtqueues (a blk queue, or the RX and TX rings of a net queue pair) on its own
 * platform thread: submits what each engine builds, publishes and kicks (when the backend asks for kicks),
 * reaps completions, and sleeps on the call eventfds with interrupts enabled only while it has nothing else
 * to do (or spins, in poll mode). A call fd that stays silent while completions wait is counted as a
 * missed notification; requests that get no completion for the request timeout are reported lost.
 *
 * <p>Owns its {@link Epoll}; the queues, engines and stats are lent to it for the run and read by the owner
 * after {@link #join}.
 */
public final class QueueWorker implements Runnable {
    /** How long a visible completion may wait for its interrupt before it counts as a missed notification. */
    static final int MISSED_NOTIFICATION_GRACE_MILLIS = 1000;

    private final VirtQueue[] queues;
    private final DriverRing[] rings;
    private final RequestEngine[] engines;
    private final QueueStats stats;
    private final boolean poll;
    private final long requestTimeoutNanos;
    private final EventFd stopFd = EventFd.create();
    private final Thread thread;
    private volatile boolean stopRequested;

    public QueueWorker(VirtQueue queue, RequestEngine engine, QueueStats stats, boolean poll, long requestTimeoutMillis) {
        this(List.of(queue), List.of(engine), stats, poll, requestTimeoutMillis);
    }

    public QueueWorker(List<VirtQueue> queues, List<RequestEngine> engines, QueueStats stats, boolean poll, long requestTimeoutMillis) {
        if (queues.size() != engines.size() || queues.isEmpty()) throw new IllegalArgumentException("one engine per queue");
        this.queues = queues.toArray(new VirtQueue[0]);
        this.engines = engines.toArray(new RequestEngine[0]);
        this.rings = new DriverRing[this.queues.length];
        for (int i = 0; i < rings.length; i++) rings[i] = this.queues[i].ring();
        this.stats = stats;
        this.poll = poll;
        this.requestTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis);
        this.thread = new Thread(this, "harness-q" + this.queues[0].index());
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
        try (Epoll epoll = new Epoll(queues.length + 1)) {
            for (int i = 0; i < queues.length; i++) epoll.add(queues[i].callFd().fd(), Epoll.EPOLLIN, i);
            epoll.add(stopFd.fd(), Epoll.EPOLLIN, queues.length);
            loop(epoll);
        } catch (RuntimeException e) {
            stats.aborted = "worker failed: " + e;
            stats.lost += inFlight();
        } finally {
            for (int i = 0; i < queues.length; i++) {
                stats.ringViolations += rings[i].violations();
                if (rings[i].lastViolation() != null) stats.problem("ring " + queues[i].index() + ": " + rings[i].lastViolation());
                stats.kicks += queues[i].kicks();
                stats.kicksSuppressed += queues[i].kicksSuppressed();
            }
            stopFd.close();
        }
    }

    private int inFlight() {
        int n = 0;
        for (RequestEngine e : engines) n += e.inFlight();
        return n;
    }

    private void loop(Epoll epoll) {
        long lastProgress = System.nanoTime();
        boolean stopSent = false;
        if (!poll) for (DriverRing r : rings) r.disableInterrupts();
        while (true) {
            long now = System.nanoTime();
            if (stopRequested && !stopSent) {
                for (RequestEngine e : engines) e.stop();
                stopSent = true;
            }
            boolean progress = false, finished = true;
            for (int i = 0; i < queues.length; i++) {
                int added = 0;
                while (engines[i].submit(rings[i], now) >= 0) added++;
                if (added > 0) {
                    queues[i].publishAndKick();
                    progress = true;
                }
                int reaped = reap(i);
                if (reaped < 0) return;
                if (reaped > 0) progress = true;
                finished &= engines[i].finished(now) && engines[i].inFlight() == 0;
            }
            if (finished) return;
            if (progress) {
                lastProgress = now;
                continue;
            }
            if (inFlight() > 0 && now - lastProgress > requestTimeoutNanos) {
                stats.aborted = inFlight() + " requests got no completion for " + TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos) + " ms";
                stats.lost += inFlight();
                return;
            }
            if (poll) {
                Thread.onSpinWait();
                continue;
            }
            if (enableInterrupts()) continue;   // completions slipped in: no sleep
            long waitMillis = Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos) / 4));
            int n = epoll.await((int) waitMillis);
            // a completion that raced the timeout may still be signalled: give the backend a moment first
            if (n == 0) n = epoll.await(5);
            // completions visible and not signalled yet: a backend descheduled between publishing them and
            // signalling (a loaded host) is late, not wrong; only a signal that never comes is a missed one
            if (n == 0 && usedWaiting()) n = epoll.await(MISSED_NOTIFICATION_GRACE_MILLIS);
            for (DriverRing r : rings) r.disableInterrupts();
            boolean called = false;
            for (int i = 0; i < queues.length; i++) if (queues[i].callFd().read() > 0) called = true;
            if (called) {
                stats.interrupts++;
            } else if (n == 0) {
                for (int i = 0; i < queues.length; i++) {
                    int r = reap(i);
                    if (r < 0) return;
                    if (r > 0) {
                        if (stats.missedNotifications++ == 0) stats.problem("ring " + queues[i].index()
                                + ": the backend did not signal the call fd for a completion while interrupts were enabled");
                        lastProgress = System.nanoTime();
                    }
                }
            }
        }
    }

    /** Whether any ring has completions the driver has not reaped (interrupts stay as they are: enabled). */
    private boolean usedWaiting() {
        boolean pending = false;
        for (DriverRing r : rings) pending |= r.enableInterrupts();
        return pending;
    }

    /** Enables interrupts on every ring; true (and disabled again) if completions were already waiting. */
    private boolean enableInterrupts() {
        boolean pending = false;
        for (DriverRing r : rings) pending |= r.enableInterrupts();
        if (pending) for (DriverRing r : rings) r.disableInterrupts();
        return pending;
    }

    /** Reaps every completion of queue {@code i}; returns how many, or -1 when its ring is broken. */
    private int reap(int i) {
        DriverRing ring = rings[i];
        int n = 0;
        long now = 0;
        for (int id; (id = ring.pollUsed()) != DriverRing.NONE; ) {
            if (id == DriverRing.BAD_USED) {
                if (ring.broken()) {
                    stats.aborted = "used ring " + queues[i].index() + " is invalid: " + ring.lastViolation();
                    stats.lost += inFlight();
                    return -1;
                }
                continue;   // one bad used entry was skipped (counted by the ring); its request stays in flight
            }
            if (n == 0) now = System.nanoTime();
            engines[i].complete(id, ring.usedLengthValid() ? Integer.toUnsignedLong(ring.usedLength()) : RequestEngine.LENGTH_RESERVED, now);
            n++;
        }
        return n;
    }
}
