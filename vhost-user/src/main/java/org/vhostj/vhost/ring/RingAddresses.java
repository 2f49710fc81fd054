package org.vhostj.vhost.ring;

/**
 * Where a ring lives, in guest-physical addresses (already translated from the front-end's virtual
 * addresses), and its size. Split: {@code descGpa} table, {@code driverGpa} avail ring, {@code deviceGpa}
 * used ring. Packed: {@code descGpa} descriptor ring, {@code driverGpa}/{@code deviceGpa} the driver and
 * device event suppression areas. {@code logGpa} is where used-ring writes are logged when
 * {@code logUsed} (VHOST_VRING_F_LOG).
 */
public record RingAddresses(int size, long descGpa, long driverGpa, long deviceGpa, long logGpa, boolean logUsed) {}
