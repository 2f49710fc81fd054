package org.vhostj.sys;

import java.util.Arrays;

/**
 * The descriptors that arrived with a message (SCM_RIGHTS), in order. The holder owns every descriptor not
 * yet {@link #take taken}; {@link #close()} closes those, so no received fd can leak whatever the message's
 * fate. Reused across messages by one thread.
 */
public final class ReceivedFds implements AutoCloseable {
    /** More than any vhost-user message carries (8); a sender that passes more gets MSG_CTRUNC. */
    public static final int CAPACITY = 16;

    private final int[] fds = new int[CAPACITY];
    private int count;
    private boolean truncated;

    void add(int fd) {
        if (count == CAPACITY) { LibC.close(fd); truncated = true; return; }
        fds[count++] = fd;
    }

    void markTruncated() { truncated = true; }

    public int count() { return count; }

    /** The kernel dropped descriptors (MSG_CTRUNC) or more than {@link #CAPACITY} came: the message is unusable. */
    public boolean truncated() { return truncated; }

    /** Takes ownership of the {@code i}-th descriptor. */
    public Fd take(int i) {
        if (i < 0 || i >= count || fds[i] < 0) throw new IllegalStateException("no received fd at index " + i);
        int fd = fds[i];
        fds[i] = -1;
        return Fd.adopt(fd);
    }

    /** Peeks at the raw value of the {@code i}-th descriptor (for logging); -1 if taken. */
    public int peek(int i) { return i < count ? fds[i] : -1; }

    /** Closes every descriptor not taken and empties the set for the next message. */
    @Override
    public void close() {
        for (int i = 0; i < count; i++) if (fds[i] >= 0) LibC.close(fds[i]);
        Arrays.fill(fds, 0, count, -1);
        count = 0;
        truncated = false;
    }
}
