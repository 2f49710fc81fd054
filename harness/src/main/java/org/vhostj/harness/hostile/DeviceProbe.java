package org.vhostj.harness.hostile;

import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.vhost.driver.BufferList;

/**
 * What the hostile suite needs to know about a device type: how to set a session up, which queue takes
 * the chain attacks, what a valid request looks like there, and how to tell that the device still serves.
 * One instance per session (it holds that session's buffers); used on the suite's thread.
 */
public interface DeviceProbe {
    /** Session options for this device, derived from the command line's. */
    VhostSession.Options options(VhostSession.Options base);

    /** Starts the queues the device needs and prepares buffers in the session's RAM; returns the attack queue. */
    VirtQueue start(VhostSession session);

    /** The buffers of one valid request on the attack queue (reused: the suite waits for each). */
    BufferList validRequest();

    /** A request whose device header is too short for the device type (8 bytes of a 16-byte header...). */
    BufferList shortHeaderRequest();

    /**
     * Sends one valid request on the attack queue and returns true if it completed correctly (right status,
     * right reply) within {@code timeoutMillis}.
     */
    boolean serves(VirtQueue queue, long timeoutMillis);
}
