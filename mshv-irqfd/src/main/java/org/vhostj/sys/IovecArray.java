package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A preallocated off-heap {@code struct iovec[]} for readv/writev/preadv/pwritev straight on guest memory.
 * Owned by one worker thread and refilled per request; the addresses it holds are only valid while the
 * segments they came from are alive, so it is filled and used within one batch, never kept across.
 *
 * <pre>struct iovec { void *base @0; size_t len @8; }   // 16 bytes</pre>
 */
public final class IovecArray implements AutoCloseable {
    public static final int IOV_MAX = 1024;
    private static final long IOVEC_SIZE = 16;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment iov;
    private final int capacity;
    private int count;
    private long totalBytes;

    public IovecArray(int capacity) {
        if (capacity <= 0 || capacity > IOV_MAX) throw new IllegalArgumentException("iovec capacity 1.." + IOV_MAX + ": " + capacity);
        this.capacity = capacity;
        this.iov = arena.allocate(IOVEC_SIZE * capacity, 8);
    }

    public void clear() { count = 0; totalBytes = 0; }

    /** Appends {@code seg} (a native segment); false when the array is full. */
    public boolean add(MemorySegment seg) {
        if (count == capacity) return false;
        iov.set(ValueLayout.JAVA_LONG, count * IOVEC_SIZE, seg.address());
        iov.set(ValueLayout.JAVA_LONG, count * IOVEC_SIZE + 8, seg.byteSize());
        count++;
        totalBytes += seg.byteSize();
        return true;
    }

    /** Appends {@code lengthBytes} of {@code memory} at {@code offset} (bounds-checked; no slice is created). */
    public boolean add(MemorySegment memory, long offset, long lengthBytes) {
        if (count == capacity) return false;
        java.util.Objects.checkFromIndexSize(offset, lengthBytes, memory.byteSize());
        iov.set(ValueLayout.JAVA_LONG, count * IOVEC_SIZE, memory.address() + offset);
        iov.set(ValueLayout.JAVA_LONG, count * IOVEC_SIZE + 8, lengthBytes);
        count++;
        totalBytes += lengthBytes;
        return true;
    }

    public int count() { return count; }

    public int capacity() { return capacity; }

    public long totalBytes() { return totalBytes; }

    /** The array for a syscall. */
    public MemorySegment segment() { return iov; }

    /** The array from entry {@code first} on (after a short transfer consumed the earlier entries). */
    public MemorySegment from(int first) { return iov.asSlice(first * IOVEC_SIZE); }

    public long length(int i) { return iov.get(ValueLayout.JAVA_LONG, i * IOVEC_SIZE + 8); }

    /**
     * Consumes {@code bytes} from the front after a short transfer: drops whole entries and trims the first
     * remaining one. Returns the index of the first entry still to transfer.
     */
    public int advance(int first, long bytes) {
        int i = first;
        while (i < count && bytes > 0) {
            long len = length(i);
            if (bytes >= len) { bytes -= len; i++; continue; }
            long at = i * IOVEC_SIZE;
            iov.set(ValueLayout.JAVA_LONG, at, iov.get(ValueLayout.JAVA_LONG, at) + bytes);
            iov.set(ValueLayout.JAVA_LONG, at + 8, len - bytes);
            bytes = 0;
        }
        return i;
    }

    @Override
    public void close() { arena.close(); }
}
