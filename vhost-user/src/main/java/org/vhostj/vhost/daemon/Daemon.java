package org.vhostj.vhost.daemon;

import org.vhostj.vhost.device.VirtioDevice;

/**
 * Serves one {@link VirtioDevice} on a vhost-user socket: accepts one front-end connection at a time,
 * speaks the protocol, maps guest memory, runs the queue workers, and keeps listening after a front-end
 * disconnects so a restarted VMM (or QEMU's reconnect=1) resumes.
 *
 * <p>Usage: {@code try (Daemon d = new Daemon(device, options)) { d.start(); d.awaitTermination(); }}
 * (the core implementation is being written; this is its public shape).
 */
public final class Daemon implements AutoCloseable {
    private final VirtioDevice device;
    private final DaemonOptions options;

    public Daemon(VirtioDevice device, DaemonOptions options) {
        this.device = device;
        this.options = options;
    }

    /** Binds (or adopts the inherited listener) and starts accepting on a background thread. */
    public void start() { throw new UnsupportedOperationException("core not yet implemented"); }

    /** Blocks until {@link #close()} (or a signal) stopped the daemon. */
    public void awaitTermination() throws InterruptedException { throw new UnsupportedOperationException("core not yet implemented"); }

    /** Graceful stop: no new requests, in-flight ones completed, device closed, socket file removed. */
    @Override
    public void close() {}

    public VirtioDevice device() { return device; }

    public DaemonOptions options() { return options; }
}
