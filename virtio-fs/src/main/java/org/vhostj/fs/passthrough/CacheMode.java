package org.vhostj.fs.passthrough;

/**
 * virtiofsd's --cache modes: how long the guest may trust entries and attributes, and how it caches file
 * data. never: no caching (files DIRECT_IO); metadata: metadata for a day, data uncached; auto: one second,
 * close-to-open consistency for data; always: a day, and data kept across opens.
 */
public enum CacheMode {
    NEVER(0), METADATA(86400), AUTO(1), ALWAYS(86400);

    /** Entry and attribute timeout, seconds. */
    public final long timeoutSeconds;

    CacheMode(long timeoutSeconds) { this.timeoutSeconds = timeoutSeconds; }

    public static CacheMode parse(String s) { return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT)); }
}
