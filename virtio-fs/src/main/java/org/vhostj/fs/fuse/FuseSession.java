package org.vhostj.fs.fuse;

/**
 * What INIT negotiated, shared by every queue's {@link FuseServer}: written by the worker that serves INIT,
 * read by all (volatile: INIT completes before the guest sends anything that depends on it).
 */
public final class FuseSession {
    private volatile int minor;
    private volatile long flags;

    void negotiated(int minor, long flags) {
        this.flags = flags;
        this.minor = minor;
    }

    /** The guest's protocol minor (0 before INIT). */
    public int minor() { return minor; }

    /** The INIT flags both sides enabled. */
    public long flags() { return flags; }

    public boolean hasFlag(long flag) { return (flags & flag) != 0; }

    /** A new session (front-end reset or reconnect): INIT must come again. */
    public void reset() {
        flags = 0;
        minor = 0;
    }
}
