package org.vhostj.vhost.ring;

import java.util.Arrays;
import org.vhostj.vhost.memory.DirtyLog;

/**
 * While the front-end logs dirty pages (migration), remembers the device-writable ranges of each chain
 * handed out, so that its completion marks exactly the bytes the device wrote. Allocates only while
 * logging is on. Owned by the queue's worker thread.
 */
final class WriteLog {
    private final long[][] gpa;
    private final long[][] len;
    private final int[] count;

    WriteLog(int ids) {
        gpa = new long[ids][];
        len = new long[ids][];
        count = new int[ids];
    }

    void record(int id, DescriptorChain chain) {
        int n = chain.writableCount();
        if (gpa[id] == null || gpa[id].length < n) {
            gpa[id] = new long[Math.max(n, 4)];
            len[id] = new long[Math.max(n, 4)];
        }
        for (int i = 0; i < n; i++) {
            gpa[id][i] = chain.gpa(chain.readableCount() + i);
            len[id][i] = chain.length(chain.readableCount() + i);
        }
        count[id] = n;
    }

    /** Marks the first {@code written} bytes of {@code id}'s writable ranges dirty. */
    void logCompletion(int id, int written, DirtyLog log) {
        long left = Integer.toUnsignedLong(written);
        for (int i = 0; i < count[id] && left > 0; i++) {
            long n = Math.min(left, len[id][i]);
            log.mark(gpa[id][i], n);
            left -= n;
        }
        count[id] = 0;
    }

    void clear() { Arrays.fill(count, 0); }
}
