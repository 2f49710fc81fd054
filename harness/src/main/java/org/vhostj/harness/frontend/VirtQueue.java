package org.vhostj.harness.frontend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.LibC;
import org.vhostj.vhost.driver.BufferList;
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

    /** {@link #waitFor}: the chain did not complete in time. */
    public static final long TIMED_OUT = -1;
    /** {@link #waitFor}: the used ring became invalid. */
    public static final long RING_BROKEN = -2;

    /**
     * Adds {@code buffers}, kicks, and waits up to {@code timeoutMillis} for that chain to complete. Returns
     * its used length (unsigned), {@link #TIMED_OUT} or {@link #RING_BROKEN}; {@link DriverRing#NO_SPACE}
     * when the ring is full. Control path (probes, hostile tests): not for load.
     */
    public long roundTrip(BufferList buffers, boolean indirect, long timeoutMillis) {
        int id = ring.add(buffers, indirect);
        if (id < 0) return id;
        ring.publish();
        kick();   // always: a probe must not depend on the backend's kick suppression being right
        return waitFor(id, timeoutMillis);
    }

    /** Waits for chain {@code id} (completions of other chains are dropped). */
    public long waitFor(int id, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8, 4);
            while (true) {
                int got = ring.pollUsed();
                if (got == id) return Integer.toUnsignedLong(ring.usedLength());
                if (got == DriverRing.BAD_USED && ring.broken()) return RING_BROKEN;
                if (got != DriverRing.NONE) continue;
                if (ring.enableInterrupts()) continue;
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) return TIMED_OUT;
                pfd.set(ValueLayout.JAVA_INT, 0, call.fd());
                pfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1);   // POLLIN
                pfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
                LibC.poll(pfd, 1, (int) Math.min(left, 1000));
                call.drain();
            }
        }
    }

    public long kicks() { return kicks; }

    public long kicksSuppressed() { return kicksSuppressed; }

    @Override
    public void close() {
        kick.close();
        call.close();
    }
}
