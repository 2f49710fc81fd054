package org.vhostj.harness.load;

import org.vhostj.vhost.driver.DriverRing;

/**
 * The device-specific half of a queue worker: builds requests into the ring and checks completions. Every
 * call is on the worker's thread; implementations preallocate everything they use per request.
 */
public interface RequestEngine {
    /** {@link #submit}: no request to make right now (depth reached, phase over, waiting for data). */
    int NOTHING = -3;

    /**
     * Adds one request to {@code ring}. Returns its ring id, {@link DriverRing#NO_SPACE} when the ring is
     * full, or {@link #NOTHING}.
     */
    int submit(DriverRing ring, long nowNanos);

    /** {@link #complete}: the used length is reserved (a packed used descriptor without VIRTQ_DESC_F_WRITE). */
    long LENGTH_RESERVED = -1;

    /** The device completed ring id {@code id} with {@code usedLength} (unsigned 32-bit, or {@link #LENGTH_RESERVED}). */
    void complete(int id, long usedLength, long nowNanos);

    /** Requests submitted and not yet completed. */
    int inFlight();

    /** True once no request will ever be submitted again (the engine's phases are over). */
    boolean finished(long nowNanos);

    /** Asks the engine to stop submitting as soon as it can (runtime over, or Ctrl-C). */
    void stop();
}
