package org.vhostj.vhost.daemon;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a daemon serves its device: where it listens and how it runs its workers.
 *
 * @param socketPath       the vhost-user socket to create (ignored when {@code inheritedListenFd} >= 0)
 * @param inheritedListenFd a listening socket inherited from systemd (LISTEN_FDS) or {@code --fd}, else -1
 * @param pollMicros       busy-poll a queue this long after its last request before sleeping (0: never)
 * @param shutdownTimeout  how long SIGTERM waits for in-flight requests before exiting anyway
 * @param stopTimeout      how long stopping a ring (GET_VRING_BASE) waits for its deferred requests
 * @param timeRequests     measure each request's latency for the metrics histogram (two clock reads each)
 */
public record DaemonOptions(Path socketPath, int inheritedListenFd, int pollMicros, Duration shutdownTimeout, Duration stopTimeout,
                            boolean timeRequests) {
    public DaemonOptions {
        if (pollMicros < 0) throw new IllegalArgumentException("poll microseconds must be >= 0: " + pollMicros);
        if (socketPath == null && inheritedListenFd < 0) throw new IllegalArgumentException("a socket path or an inherited listening fd is required");
    }

    public static DaemonOptions forSocket(Path socketPath) {
        return new DaemonOptions(socketPath, -1, 0, Duration.ofSeconds(5), Duration.ofSeconds(5), false);
    }

    public DaemonOptions withPollMicros(int micros) {
        return new DaemonOptions(socketPath, inheritedListenFd, micros, shutdownTimeout, stopTimeout, timeRequests);
    }

    public DaemonOptions withTimeRequests(boolean on) {
        return new DaemonOptions(socketPath, inheritedListenFd, pollMicros, shutdownTimeout, stopTimeout, on);
    }

    public DaemonOptions withShutdownTimeout(Duration timeout) {
        return new DaemonOptions(socketPath, inheritedListenFd, pollMicros, timeout, stopTimeout, timeRequests);
    }

    public DaemonOptions withInheritedListenFd(int fd) {
        return new DaemonOptions(socketPath, fd, pollMicros, shutdownTimeout, stopTimeout, timeRequests);
    }
}
