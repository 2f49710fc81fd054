package org.vhostj.harness.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time (user + system, all threads) a backend process has used, from /proc/PID/stat. */
public final class BackendCpu {
    private BackendCpu() {}

    /** USER_HZ: /proc reports ticks of 1/100 s on every Linux architecture. */
    static final double TICKS_PER_SECOND = 100.0;

    /** Seconds of CPU used so far, or -1 if the process cannot be read (gone, or another user's). */
    public static double seconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // "pid (comm) state ppid ...": comm may contain spaces and parentheses; fields after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long utime = Long.parseLong(f[11]), stime = Long.parseLong(f[12]);
            return (utime + stime) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
