package org.vhostj.vhost.daemon;

import org.vhostj.sys.EventFd;

/**
 * What the front-end configured for one ring, kept by the connection's control thread. The worker gets a
 * snapshot of it when the ring starts; the eventfds stay owned here (the worker borrows them), and the
 * control thread closes a replaced fd only after the worker acknowledged the replacement.
 */
final class RingState {
    final int index;
    int size;
    long descVa, driverVa, deviceVa, logGpa;
    boolean addressesSet, logUsed;
    int base;
    EventFd kick, call, err;
    /** SET_VRING_KICK arrived (with an fd, or with the no-fd flag: poll instead). */
    boolean kickReceived;
    boolean enabled;
    boolean started;

    RingState(int index) { this.index = index; }

    /** Back to the state of a new connection (closes the fds). */
    void reset() {
        size = 0;
        descVa = driverVa = deviceVa = logGpa = 0;
        addressesSet = logUsed = false;
        base = 0;
        closeFds();
        kickReceived = enabled = started = false;
    }

    void closeFds() {
        if (kick != null) kick.close();
        if (call != null) call.close();
        if (err != null) err.close();
        kick = call = err = null;
    }
}
