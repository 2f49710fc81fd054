package org.vhostj.vhost.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fd;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.device.VirtioDevice;

/**
 * Serves one {@link VirtioDevice} on a vhost-user socket: accepts one front-end connection at a time,
 * speaks the protocol, maps guest memory, runs the queue workers, and keeps listening after a front-end
 * disconnects so a restarted VMM (or QEMU's reconnect=1) resumes.
 *
 * <p>Threads: {@link #start()} starts one accept/control thread (it serves the connection it accepted; a
 * second front-end waits in the backlog) and the worker threads. {@link #close()} may be called from any
 * thread (a signal handler): it stops taking requests, lets in-flight ones complete, closes the device and
 * removes the socket file.
 *
 * <p>Usage: {@code try (Daemon d = new Daemon(device, options)) { d.start(); d.awaitTermination(); }}
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    private final VirtioDevice device;
    private final DaemonOptions options;
    private final QueueMetrics[] queueMetrics;
    private final int[] workerOfQueue;
    private final QueueWorker[] workers;
    private final RateLimitedLog refusals = new RateLimitedLog(LoggerFactory.getLogger("org.vhostj.vhost.frontend"), 10);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicLong connections = new AtomicLong();
    private UnixSocket listener;
    private boolean ownsSocketFile;
    private Thread control;
    private volatile Connection current;
    private volatile boolean closing, listening;

    public Daemon(VirtioDevice device, DaemonOptions options) {
        this.device = device;
        this.options = options;
        int queues = device.queueCount();
        if (queues < 1 || queues > 256) throw new IllegalArgumentException("a device has 1..256 queues, not " + queues);
        queueMetrics = new QueueMetrics[queues];
        workerOfQueue = new int[queues];
        int workerCount = 0;
        for (int q = 0; q < queues; q++) {
            queueMetrics[q] = new QueueMetrics(q);
            int w = device.workerOf(q);
            if (w < 0 || w >= queues) throw new IllegalArgumentException("queue " + q + " mapped to worker " + w + " (workers are 0.." + (queues - 1) + ")");
            workerOfQueue[q] = w;
            workerCount = Math.max(workerCount, w + 1);
        }
        workers = new QueueWorker[workerCount];
        for (int w = 0; w < workerCount; w++) workers[w] = new QueueWorker(w, options, options.timeRequests(), refusals);
    }

    /**
     * Binds (or adopts the inherited listener) and starts the queue workers, without accepting yet: a
     * front-end that connects now waits in the listen backlog until {@link #start()}, so a device can finish
     * setting up (a sandbox) between the two. Does nothing the second time.
     */
    public synchronized void listen() {
        if (closing) throw new IllegalStateException("daemon closed");
        if (listener != null) return;
        listener = options.inheritedListenFd() >= 0 ? adoptListener(options.inheritedListenFd()) : bind(options.socketPath());
        for (QueueWorker w : workers) w.start();
    }

    /** {@link #listen()}s if it has not, and starts accepting on a background thread. */
    public synchronized void start() {
        if (control != null) throw new IllegalStateException("daemon already started");
        listen();
        control = Thread.ofPlatform().name("vhost-control").unstarted(this::acceptLoop);
        control.setUncaughtExceptionHandler((t, e) -> {
            log.error("control thread died: {}", e.toString(), e);
            Runtime.getRuntime().halt(1);
        });
        listening = true;
        control.start();
        log.info("{} device listening on {} ({} queue(s), {} worker(s))", device.name(),
                options.inheritedListenFd() >= 0 ? "inherited fd " + options.inheritedListenFd() : options.socketPath(), queueMetrics.length, workers.length);
    }

    private UnixSocket adoptListener(int fd) {
        UnixSocket s = UnixSocket.adopt(Fd.adopt(fd));
        if (!s.isListening()) {
            s.owner().take();   // not ours to close: report instead
            throw new IllegalArgumentException("inherited fd " + fd + " is not a listening socket");
        }
        return s;
    }

    /** Creates the socket; a stale socket file left by a dead daemon is replaced, a live one is an error. */
    private UnixSocket bind(Path path) {
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (!isSocketFile(path)) throw new IllegalArgumentException("socket path " + path + " exists and is not a socket");
            try (UnixSocket probe = UnixSocket.connect(path)) {
                throw new IllegalArgumentException("socket path " + path + " is in use by another process");
            } catch (ErrnoException e) {
                if (e.errno() != Errno.ECONNREFUSED) throw new IllegalArgumentException("socket path " + path + ": " + e.getMessage());
            }
            try { Files.delete(path); } catch (IOException e) { throw new IllegalArgumentException("cannot remove stale socket " + path + ": " + e.getMessage()); }
        }
        UnixSocket s = UnixSocket.listen(path, 16);
        ownsSocketFile = true;
        return s;
    }

    /** Whether {@code p} is a unix socket file (not following a symlink). */
    public static boolean isSocketFile(Path p) {
        try {
            return Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) instanceof Integer mode
                    && (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private void acceptLoop() {
        try {
            while (!closing) {
                UnixSocket s = listener.accept();
                if (s == null || closing) { if (s != null) s.close(); break; }
                connections.incrementAndGet();
                log.info("front-end connected (connection {})", connections.get());
                Connection c = new Connection(s, device, workers, workerOfQueue, queueMetrics, options, refusals);
                current = c;
                if (closing) c.shutdown();
                c.serve();
                current = null;
            }
        } finally {
            listening = false;
            terminated.countDown();
        }
    }

    /** Blocks until {@link #close()} stopped the daemon. */
    public void awaitTermination() throws InterruptedException { terminated.await(); }

    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException { return terminated.await(timeout, unit); }

    /** Graceful stop: no new requests, in-flight ones completed, device closed, socket file removed. */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) return;
            closing = true;
        }
        if (control == null) {   // never accepted: nothing to wait for
            closeWorkersAndDevice();
            if (listener != null) closeListener();
            return;
        }
        listener.shutdown();
        Connection c = current;
        if (c != null) c.shutdown();
        try {
            if (!terminated.await(options.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("connection did not finish within {} ms; stopping anyway", options.shutdownTimeout().toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeWorkersAndDevice();
        closeListener();
        log.info("{} device stopped", device.name());
    }

    private void closeListener() {
        listener.close();
        if (ownsSocketFile) {
            try { Files.deleteIfExists(options.socketPath()); } catch (IOException e) { log.warn("cannot remove {}: {}", options.socketPath(), e.getMessage()); }
        }
    }

    private void closeWorkersAndDevice() {
        try { device.close(); } catch (RuntimeException e) { log.warn("device close failed: {}", e.toString()); }
        for (QueueWorker w : workers) w.shutdown();
        terminated.countDown();
    }

    /** Tells the connected front-end that the config space changed (e.g. a resized disk); false if it cannot be told. */
    public boolean notifyConfigChanged() {
        Connection c = current;
        return c != null && c.notifyConfigChanged();
    }

    public VirtioDevice device() { return device; }

    public DaemonOptions options() { return options; }

    /** Per-queue counters (index = queue), for metrics exporters. */
    public QueueMetrics queueMetrics(int queue) { return queueMetrics[queue]; }

    public int queueCount() { return queueMetrics.length; }

    /** The listening socket is open and the daemon is not shutting down (liveness). */
    public boolean listening() { return listening && !closing; }

    /** A front-end is connected (its rings may or may not run yet). */
    public boolean connected() { return current != null; }

    /** A front-end is connected and at least one ring runs (readiness). */
    public boolean serving() { Connection c = current; return c != null && c.ringsRunning(); }

    /** Front-end connections accepted since start (reconnects = this - 1). */
    public long connectionsAccepted() { return connections.get(); }
}
