package org.vhostj.vhost.daemon;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs expected failures (a bad request, a frontend that disconnects) one line each, at most
 * {@code perSecond} lines a second; the lines dropped in between are counted and reported with the next
 * line that gets through, so a guest flooding bad requests cannot flood the log. Thread-safe.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final int perSecond;
    private final AtomicLong windowStart = new AtomicLong();
    private final AtomicLong inWindow = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, int perSecond) {
        this.log = log;
        this.perSecond = perSecond;
    }

    public void warn(String format, Object... args) {
        if (!log.isWarnEnabled()) return;
        long now = System.nanoTime(), start = windowStart.get();
        if (now - start > 1_000_000_000L && windowStart.compareAndSet(start, now)) inWindow.set(0);
        if (inWindow.incrementAndGet() > perSecond) { suppressed.incrementAndGet(); return; }
        long dropped = suppressed.getAndSet(0);
        if (dropped > 0) log.warn("({} similar messages suppressed)", dropped);
        log.warn(format, args);
    }

    /** Messages dropped since the last one logged. */
    public long suppressed() { return suppressed.get(); }
}
