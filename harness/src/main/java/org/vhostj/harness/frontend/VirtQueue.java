package org.vhostj.harness.frontend;

import org.vhostj.sys.EventFd;
import org.vhostj.vhost.driver.DriverPackedRing;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.DriverSplitRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * One virtqueue of the harness: its driver ring in guest RAM plus the kick and call eventfds the backend
 * was given. Created and started by {@link VhostSession} on the control thread, then owned by one queue
 * worker, which alone touches the ring; the session closes the eventfds after the worker is done.
 */
public final class VirtQueue implements AutoCloseable {
    private final int index;
    private final DriverRing ring;
    private final EventFd kick = EventFd.create();
    private final EventFd call = EventFd.create();
    private long kicks, kicksSuppressed;

    private VirtQueue(int index, DriverRing ring) {
        this.index = index;
        this.ring = ring;
    }

    /** Allocates the ring's areas in region 0 of {@code ram} (data buffers may live anywhere). */
    static VirtQueue create(GuestRam ram, int index, RingConfig cfg, boolean eventIdx) {
        int n = cfg.queueSize();
        RingArea indirect = cfg.indirect()
                ? ram.allocate(DriverSplitRing.indirectAreaBytes(n, cfg.maxIndirect()), 64, 0) : null;
        DriverRing ring;
        if (cfg.packed()) {
            ring = new DriverPackedRing(n, eventIdx, ram.allocate(DriverPackedRing.descriptorAreaBytes(n), 64, 0),
                    ram.allocate(DriverPackedRing.driverAreaBytes(n), 64, 0), ram.allocate(DriverPackedRing.deviceAreaBytes(n), 64, 0),
                    indirect, cfg.maxIndirect());
        } else {
            ring = new DriverSplitRing(n, eventIdx, ram.allocate(DriverSplitRing.descriptorAreaBytes(n), 64, 0),
                    ram.allocate(DriverSplitRing.driverAreaBytes(n), 64, 0), ram.allocate(DriverSplitRing.deviceAreaBytes(n), 64, 0),
                    indirect, cfg.maxIndirect());
        }
        return new VirtQueue(index, ring);
    }

    public int index() { return index; }

    public DriverRing ring() { return ring; }

    public EventFd kickFd() { return kick; }

    public EventFd callFd() { return call; }

    /** Publishes what was added and kicks the backend if it asked for it. Returns whether it kicked. */
    public boolean publishAndKick() {
        if (ring.publish()) {
            kick.signal();
            kicks++;
            return true;
        }
        kicksSuppressed++;
        return false;
    }

    /** Kicks whatever the backend asked (for hostile tests and recovery). */
    public void kick() {
        kick.signal();
        kicks++;
    }

    public long kicks() { return kicks; }

    public long kicksSuppressed() { return kicksSuppressed; }

    @Override
    public void close() {
        kick.close();
        call.close();
    }
}
