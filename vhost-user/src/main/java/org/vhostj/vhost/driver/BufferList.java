package org.vhostj.vhost.driver;

/**
 * The buffers of one request as a driver lists them before adding them to a ring: guest-physical address,
 * length and direction of each. Owned by one thread and reused for every request (no allocation per
 * request). The order is kept as given, so a hostile caller can put a device-readable buffer after a
 * device-writable one.
 */
public final class BufferList {
    private final long[] gpa;
    private final int[] length;
    private final boolean[] writable;
    private int count;

    public BufferList(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("buffer list capacity must be positive: " + capacity);
        gpa = new long[capacity];
        length = new int[capacity];
        writable = new boolean[capacity];
    }

    public BufferList clear() {
        count = 0;
        return this;
    }

    /** A buffer the device reads (driver to device). {@code lengthBytes} is an unsigned 32-bit value. */
    public BufferList readable(long bufferGpa, int lengthBytes) { return add(bufferGpa, lengthBytes, false); }

    /** A buffer the device writes (device to driver). */
    public BufferList writable(long bufferGpa, int lengthBytes) { return add(bufferGpa, lengthBytes, true); }

    public BufferList add(long bufferGpa, int lengthBytes, boolean deviceWritable) {
        if (count == gpa.length) throw new IllegalStateException("buffer list is full (" + gpa.length + " buffers)");
        gpa[count] = bufferGpa;
        length[count] = lengthBytes;
        writable[count] = deviceWritable;
        count++;
        return this;
    }

    public int count() { return count; }

    public int capacity() { return gpa.length; }

    public long gpa(int i) { return gpa[i]; }

    /** Length of buffer {@code i} as the unsigned 32-bit value written to the descriptor. */
    public int length(int i) { return length[i]; }

    public boolean isWritable(int i) { return writable[i]; }

    /** Sum of the device-writable lengths: the most a correct device may report as used length. */
    public long writableBytes() {
        long sum = 0;
        for (int i = 0; i < count; i++) if (writable[i]) sum += Integer.toUnsignedLong(length[i]);
        return sum;
    }
}
