package org.vhostj.vhost.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;

/**
 * The front-end's dirty-page log for live migration (SET_LOG_BASE with LOG_SHMFD): one bit per 4 KiB
 * guest page, {@code log[page / 8] |= 1 << (page % 8)}, set atomically because the front-end reads and
 * clears it concurrently. Owned by the connection; workers mark pages through it while logging is on.
 */
public final class DirtyLog implements AutoCloseable {
    public static final int PAGE_SHIFT = 12;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private final Arena arena;
    private final MemorySegment log;
    private final long base;

    private DirtyLog(Arena arena, MemorySegment log) {
        this.arena = arena;
        this.log = log;
        this.base = log.address();
    }

    /** Maps {@code sizeBytes} of the log fd at {@code offset}; the caller keeps the fd. */
    public static DirtyLog map(Fd fd, long sizeBytes, long offset) {
        long aligned = offset & ~4095L, lead = offset - aligned;
        Arena arena = Arena.ofShared();
        try {
            MemorySegment m = Memfd.mapShared(fd.value(), aligned, sizeBytes + lead, true, arena);
            return new DirtyLog(arena, m.asSlice(lead, sizeBytes));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A log over memory the caller owns (tests). */
    public static DirtyLog of(MemorySegment log) { return new DirtyLog(null, log); }

    public long sizeBytes() { return log.byteSize(); }

    /** Marks every page touched by [gpa, gpa + lengthBytes). Pages beyond the log's coverage are ignored. */
    public void mark(long gpa, long lengthBytes) {
        if (lengthBytes <= 0) return;
        long first = gpa >>> PAGE_SHIFT, last = (gpa + lengthBytes - 1) >>> PAGE_SHIFT;
        if (Long.compareUnsigned(gpa + lengthBytes - 1, gpa) < 0) last = -1L >>> PAGE_SHIFT;
        for (long page = first; Long.compareUnsigned(page, last) <= 0; page++) {
            long byteIndex = page >>> 3;
            if (Long.compareUnsigned(byteIndex, log.byteSize()) >= 0) return;
            setBit(byteIndex, (int) (page & 7));
        }
    }

    private void setBit(long byteIndex, int bit) {
        long address = base + byteIndex, wordAddress = address & ~7L;
        long wordOffset = wordAddress - base;
        if (wordOffset >= 0 && wordOffset + 8 <= log.byteSize()) {
            // little-endian: byte k of the word holds bits 8k..8k+7
            long mask = 1L << (((address - wordAddress) << 3) + bit);
            WORD.getAndBitwiseOr(log, wordOffset, mask);
        } else {
            // a log whose edge is not 8-byte aligned: no atomic access is possible there
            log.set(ValueLayout.JAVA_BYTE, byteIndex, (byte) (log.get(ValueLayout.JAVA_BYTE, byteIndex) | (1 << bit)));
        }
    }

    @Override
    public void close() { if (arena != null) arena.close(); }
}
