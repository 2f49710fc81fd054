package org.vhostj.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.vhostj.sys.IovecArray;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * The buffers one frame is read into or written from: slices of guest memory (the chain's buffers) and, for
 * receive, an overflow area. Kept both as an iovec array (for readv/writev/sendmsg/recvmsg straight on guest
 * memory) and as segments (for backends that copy). Owned by one queue handler on its worker thread and
 * refilled per frame: no allocation on the data path.
 */
public final class FrameBuffers implements AutoCloseable {
    private final IovecArray iov;
    private final MemorySegment[] memory;
    private final long[] offset, length;
    private int count, iovCount;
    private long totalBytes;

    public FrameBuffers(int capacity) {
        iov = new IovecArray(Math.min(capacity, IovecArray.IOV_MAX));
        memory = new MemorySegment[iov.capacity()];
        offset = new long[iov.capacity()];
        length = new long[iov.capacity()];
    }

    public FrameBuffers clear() {
        iovCount = 0;
        count = 0;
        totalBytes = 0;
        return this;
    }

    /** Adds {@code lengthBytes} of {@code mem} at {@code off}; false when full. */
    public boolean add(MemorySegment mem, long off, long lengthBytes) {
        if (lengthBytes == 0) return true;
        if (count == memory.length) return false;
        memory[count] = mem;
        offset[count] = off;
        length[count] = lengthBytes;
        count++;
        totalBytes += lengthBytes;
        return true;
    }

    /**
     * Adds up to {@code maxBytes} of the chain's writable (or readable) part from {@code chainOffset} on.
     * Returns the bytes added (fewer when the part ends or the array fills up).
     */
    public long addChain(DescriptorChain chain, boolean writablePart, long chainOffset, long maxBytes) {
        int from = writablePart ? chain.readableCount() : 0, to = writablePart ? chain.count() : chain.readableCount();
        if (to - from == 1) {   // one buffer, what network drivers post: no walk (a sixth of a small frame's cost)
            long n = Math.min(chain.length(from) - chainOffset, maxBytes);
            if (n <= 0) return 0;
            return add(chain.memory(from), chain.offset(from) + chainOffset, n) ? n : 0;
        }
        long done = 0, skip = chainOffset;
        for (int i = from; i < to && done < maxBytes; i++) {
            long l = chain.length(i);
            if (skip >= l) { skip -= l; continue; }
            long n = Math.min(l - skip, maxBytes - done);
            if (!add(chain.memory(i), chain.offset(i) + skip, n)) break;
            done += n;
            skip = 0;
        }
        return done;
    }

    /**
     * The buffers as an iovec array, for a syscall; built on first use after each {@link #clear()} (backends
     * that copy never pay for it). Raw addresses: use them before the batch ends.
     */
    public IovecArray iov() {
        if (iovCount != count) {
            iov.clear();
            for (int i = 0; i < count; i++) iov.add(memory[i], offset[i], length[i]);
            iovCount = count;
        }
        return iov;
    }

    public int count() { return count; }

    public long totalBytes() { return totalBytes; }

    /** Copies {@code len} bytes of {@code src} into the buffers from their start; returns the bytes copied. */
    public long copyIn(MemorySegment src, long srcOffset, long len) {
        long done = 0;
        for (int i = 0; i < count && done < len; i++) {
            long n = Math.min(length[i], len - done);
            MemorySegment.copy(src, srcOffset + done, memory[i], offset[i], n);
            done += n;
        }
        return done;
    }

    /** Copies the first {@code len} bytes of the buffers into {@code dst}; returns the bytes copied. */
    public long copyOut(MemorySegment dst, long dstOffset, long len) {
        long done = 0;
        for (int i = 0; i < count && done < len; i++) {
            long n = Math.min(length[i], len - done);
            MemorySegment.copy(memory[i], offset[i], dst, dstOffset + done, n);
            done += n;
        }
        return done;
    }

    /** Byte {@code at} of the buffers (for MAC addresses), or -1 past the end. */
    public int byteAt(long at) {
        long skip = at;
        for (int i = 0; i < count; i++) {
            if (skip < length[i]) return memory[i].get(ValueLayout.JAVA_BYTE, offset[i] + skip) & 0xff;
            skip -= length[i];
        }
        return -1;
    }

    /** The 48-bit MAC address at {@code at} (big-endian, as on the wire), or -1 if the buffers end first. */
    public long macAt(long at) {
        if (count > 0 && at + 6 <= length[0]) return Macs.read(memory[0], offset[0] + at);
        long mac = 0;
        for (int k = 0; k < 6; k++) {
            int b = byteAt(at + k);
            if (b < 0) return -1;
            mac = mac << 8 | b;
        }
        return mac;
    }

    @Override
    public void close() { iov.close(); }
}
