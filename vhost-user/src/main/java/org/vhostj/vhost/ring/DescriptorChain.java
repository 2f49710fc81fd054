package org.vhostj.vhost.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.vhostj.sys.IovecArray;

/**
 * One walked descriptor chain: the buffers the driver made available under one head, every one already
 * checked to lie inside guest memory, device-readable buffers first, then device-writable ones. Zero-length
 * descriptors are skipped; a buffer that spans two adjacent regions becomes two entries.
 *
 * <p>Owned by the queue's worker thread and reused for every chain (no allocation per request): a handler
 * that completes a request later must copy what it needs (the head, iovecs) before returning. The guest can
 * rewrite its buffers at any time, so read each header field once into a local.
 */
public final class DescriptorChain {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private final int capacity;
    private final MemorySegment[] memory;
    private final long[] offset;
    private final long[] length;
    private final long[] gpa;
    private int count, readableCount;
    private long readableBytes, writableBytes;
    private int head;
    private int ringSlots;
    private final MemorySegment scratch = MemorySegment.ofArray(new long[1]);

    /** A chain of at most {@code capacity} buffers (the queue size). */
    public DescriptorChain(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("chain capacity must be positive: " + capacity);
        this.capacity = capacity;
        memory = new MemorySegment[capacity];
        offset = new long[capacity];
        length = new long[capacity];
        gpa = new long[capacity];
    }

    /** Empties the chain for a new walk (for the ring walker and for tests). */
    public void clear() {
        count = readableCount = 0;
        readableBytes = writableBytes = 0;
        head = -1;
        ringSlots = 0;
    }

    /**
     * Appends one buffer: {@code lengthBytes} at {@code regionOffset} of {@code regionMemory}, at guest address
     * {@code bufferGpa}. For the ring walker and for tests; the caller has bounds-checked it.
     */
    public ChainFault add(MemorySegment regionMemory, long regionOffset, long lengthBytes, long bufferGpa, boolean writable) {
        if (lengthBytes == 0) return ChainFault.OK;
        if (!writable && count > readableCount) return ChainFault.ORDER;
        if (count == capacity) return ChainFault.TOO_LONG;
        long total = readableBytes + writableBytes + lengthBytes;
        if (total > 0xffff_ffffL) return ChainFault.TOO_LONG;
        memory[count] = regionMemory;
        offset[count] = regionOffset;
        length[count] = lengthBytes;
        gpa[count] = bufferGpa;
        count++;
        if (writable) writableBytes += lengthBytes;
        else { readableCount++; readableBytes += lengthBytes; }
        return ChainFault.OK;
    }

    /** Makes this the one-buffer chain {@code head} (split rings' fast path; the caller checked the buffer, length > 0). */
    void setSingle(int head, MemorySegment regionMemory, long regionOffset, long lengthBytes, long bufferGpa, boolean writable) {
        memory[0] = regionMemory;
        offset[0] = regionOffset;
        length[0] = lengthBytes;
        gpa[0] = bufferGpa;
        count = 1;
        if (writable) { readableCount = 0; readableBytes = 0; writableBytes = lengthBytes; }
        else { readableCount = 1; readableBytes = lengthBytes; writableBytes = 0; }
        this.head = head;
        ringSlots = 1;
    }

    /**
     * Makes this a copy of {@code other} (its buffers, head and ring slots), for a handler that serves the
     * request after {@link org.vhostj.vhost.device.QueueHandler#onChain} returned; false (and unchanged)
     * when {@code other} has more buffers than this chain's capacity.
     */
    public boolean copyFrom(DescriptorChain other) {
        int n = other.count;
        if (n > capacity) return false;
        System.arraycopy(other.memory, 0, memory, 0, n);
        System.arraycopy(other.offset, 0, offset, 0, n);
        System.arraycopy(other.length, 0, length, 0, n);
        System.arraycopy(other.gpa, 0, gpa, 0, n);
        count = n;
        readableCount = other.readableCount;
        readableBytes = other.readableBytes;
        writableBytes = other.writableBytes;
        head = other.head;
        ringSlots = other.ringSlots;
        return true;
    }

    void setHead(int head) { this.head = head; }

    void setRingSlots(int slots) { this.ringSlots = slots; }

    /** The id to return in the used ring (split: head index; packed: buffer id). */
    public int head() { return head; }

    /** Packed rings: descriptor-ring slots this chain occupies (1 for an indirect chain). */
    public int ringSlots() { return ringSlots; }

    public int count() { return count; }

    public int readableCount() { return readableCount; }

    public int writableCount() { return count - readableCount; }

    public long readableBytes() { return readableBytes; }

    public long writableBytes() { return writableBytes; }

    /** Buffer {@code i} lives in {@code memory(i)} at {@code offset(i)} for {@code length(i)} bytes. */
    public MemorySegment memory(int i) { return memory[i]; }

    public long offset(int i) { return offset[i]; }

    public long length(int i) { return length[i]; }

    public long gpa(int i) { return gpa[i]; }

    public boolean isWritable(int i) { return i >= readableCount; }

    /**
     * Copies up to {@code len} bytes of the device-readable part, from {@code chainOffset} on, into
     * {@code dst}. Returns the bytes copied (fewer when the readable part ends first).
     */
    public long readFrom(long chainOffset, MemorySegment dst, long dstOffset, long len) {
        return copy(0, readableCount, chainOffset, dst, dstOffset, len, false);
    }

    /**
     * Copies up to {@code len} bytes of {@code src} into the device-writable part from {@code chainOffset}
     * on. Returns the bytes copied (fewer when the writable part ends first).
     */
    public long writeTo(long chainOffset, MemorySegment src, long srcOffset, long len) {
        return copy(readableCount, count, chainOffset, src, srcOffset, len, true);
    }

    private long copy(int from, int to, long chainOffset, MemorySegment other, long otherOffset, long len, boolean intoChain) {
        long done = 0, skip = chainOffset;
        for (int i = from; i < to && done < len; i++) {
            long l = length[i];
            if (skip >= l) { skip -= l; continue; }
            long n = Math.min(l - skip, len - done);
            if (intoChain) MemorySegment.copy(other, otherOffset + done, memory[i], offset[i] + skip, n);
            else MemorySegment.copy(memory[i], offset[i] + skip, other, otherOffset + done, n);
            done += n;
            skip = 0;
        }
        return done;
    }

    /**
     * Adds iovecs covering {@code len} bytes of the writable (or readable) part from {@code chainOffset} on,
     * for preadv/pwritev/readv/writev straight on guest memory. Returns the bytes covered, fewer if the part
     * ends first or {@code iov} fills up. The iovecs hold raw addresses: use them before this batch ends.
     */
    public long fillIovecs(IovecArray iov, boolean writablePart, long chainOffset, long len) {
        int from = writablePart ? readableCount : 0, to = writablePart ? count : readableCount;
        long done = 0, skip = chainOffset;
        for (int i = from; i < to && done < len; i++) {
            long l = length[i];
            if (skip >= l) { skip -= l; continue; }
            long n = Math.min(l - skip, len - done);
            if (!iov.add(memory[i], offset[i] + skip, n)) break;
            done += n;
            skip = 0;
        }
        return done;
    }

    // Little-endian scalar access to the readable part, for request headers; -1 / false past the end.
    private int readableIndexAt(long chainOffset, int width) {
        long skip = chainOffset;
        for (int i = 0; i < readableCount; i++) {
            if (skip < length[i]) return skip + width <= length[i] ? i : -2;
            skip -= length[i];
        }
        return -1;
    }

    private long bufferOffset(int i, long chainOffset) {
        long skip = chainOffset;
        for (int j = 0; j < i; j++) skip -= length[j];
        return offset[i] + skip;
    }

    /** True if the readable part holds at least {@code end} bytes. */
    public boolean readableHas(long end) { return Long.compareUnsigned(end, readableBytes) <= 0; }

    public byte readByte(long chainOffset) {
        return (byte) readScalar(chainOffset, 1);
    }

    public short readShort(long chainOffset) { return (short) readScalar(chainOffset, 2); }

    public int readInt(long chainOffset) { return (int) readScalar(chainOffset, 4); }

    public long readLong(long chainOffset) { return readScalar(chainOffset, 8); }

    /** Reads a little-endian value of {@code width} bytes; the caller checked {@link #readableHas}. */
    private long readScalar(long chainOffset, int width) {
        int i = readableIndexAt(chainOffset, width);
        if (i >= 0) {
            long at = bufferOffset(i, chainOffset);
            return switch (width) {
                case 1 -> memory[i].get(ValueLayout.JAVA_BYTE, at);
                case 2 -> memory[i].get(LE_SHORT, at);
                case 4 -> memory[i].get(LE_INT, at);
                default -> memory[i].get(LE_LONG, at);
            };
        }
        scratch.set(LE_LONG, 0, 0);
        if (readFrom(chainOffset, scratch, 0, width) != width) {
            throw new IndexOutOfBoundsException("read of " + width + " bytes at " + chainOffset + " past the readable part (" + readableBytes + " bytes)");
        }
        long v = scratch.get(LE_LONG, 0);
        return switch (width) { case 1 -> (byte) v; case 2 -> (short) v; case 4 -> (int) v; default -> v; };
    }

    /** Writes one byte at {@code chainOffset} of the writable part; false if it lies past the end. */
    public boolean writeByte(long chainOffset, byte value) {
        long skip = chainOffset;
        for (int i = readableCount; i < count; i++) {
            if (skip < length[i]) { memory[i].set(ValueLayout.JAVA_BYTE, offset[i] + skip, value); return true; }
            skip -= length[i];
        }
        return false;
    }

    /** Writes a little-endian int at {@code chainOffset} of the writable part; false if it does not fit. */
    public boolean writeInt(long chainOffset, int value) {
        scratch.set(LE_INT, 0, value);
        return writeTo(chainOffset, scratch, 0, 4) == 4;
    }

    public boolean writeLong(long chainOffset, long value) {
        scratch.set(LE_LONG, 0, value);
        return writeTo(chainOffset, scratch, 0, 8) == 8;
    }

    public boolean writeShort(long chainOffset, short value) {
        scratch.set(LE_SHORT, 0, value);
        return writeTo(chainOffset, scratch, 0, 2) == 2;
    }

    @Override
    public String toString() {
        return "chain[head " + head + ", " + readableCount + " readable (" + readableBytes + " B), "
                + (count - readableCount) + " writable (" + writableBytes + " B)]";
    }
}
