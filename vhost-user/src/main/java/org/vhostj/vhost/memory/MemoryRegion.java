package org.vhostj.vhost.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;

/**
 * One guest memory region mapped MAP_SHARED from the fd the front-end passed. Owned jointly by the
 * {@link GuestMemory} snapshots that list it: each snapshot retains it, and the last release unmaps it (a
 * late access then throws instead of touching unmapped memory).
 */
public final class MemoryRegion {
    private static final long PAGE = 4096;

    private final long gpa;
    private final long sizeBytes;
    private final long frontendVa;
    private final long mmapOffset;
    private final MemorySegment memory;
    private final Arena arena;
    private final AtomicInteger refs = new AtomicInteger(1);
    /** Identity of the mapped file (st_dev, st_ino), to recognise the same memory re-sent in a new table. */
    private long fileDev = -1, fileIno = -1;

    private MemoryRegion(long gpa, long sizeBytes, long frontendVa, long mmapOffset, MemorySegment memory, Arena arena) {
        this.gpa = gpa;
        this.sizeBytes = sizeBytes;
        this.frontendVa = frontendVa;
        this.mmapOffset = mmapOffset;
        this.memory = memory;
        this.arena = arena;
    }

    /**
     * Maps {@code sizeBytes} of {@code fd} starting at {@code mmapOffset} (which need not be page-aligned:
     * the mapping starts at the page below it). The caller keeps ownership of {@code fd}; the mapping does
     * not need it afterwards. The returned region holds one reference.
     */
    public static MemoryRegion map(Fd fd, long gpa, long sizeBytes, long frontendVa, long mmapOffset) {
        if (sizeBytes <= 0) throw new IllegalArgumentException("region size must be positive: " + sizeBytes);
        if (mmapOffset < 0) throw new IllegalArgumentException("mmap offset must be non-negative: " + mmapOffset);
        // neither range may wrap past 2^64: end - 1 >= start, unsigned
        if (Long.compareUnsigned(gpa + sizeBytes - 1, gpa) < 0 || Long.compareUnsigned(frontendVa + sizeBytes - 1, frontendVa) < 0) {
            throw new IllegalArgumentException("region wraps the address space: gpa 0x" + Long.toHexString(gpa)
                    + ", frontend va 0x" + Long.toHexString(frontendVa) + ", size " + sizeBytes);
        }
        long alignedOffset = mmapOffset & ~(PAGE - 1);
        long lead = mmapOffset - alignedOffset;
        if (sizeBytes > Long.MAX_VALUE - lead) throw new IllegalArgumentException("region too large: " + sizeBytes);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped = Memfd.mapShared(fd.value(), alignedOffset, sizeBytes + lead, true, arena);
            MemoryRegion r = new MemoryRegion(gpa, sizeBytes, frontendVa, mmapOffset, mapped.asSlice(lead, sizeBytes), arena);
            long[] id = fileIdentity(fd);
            r.fileDev = id[0];
            r.fileIno = id[1];
            return r;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A region over memory the caller already owns (tests, the harness's own view of guest RAM); never unmapped here. */
    public static MemoryRegion ofSegment(long gpa, long frontendVa, MemorySegment memory) {
        return new MemoryRegion(gpa, memory.byteSize(), frontendVa, 0, memory, null);
    }

    /** (st_dev, st_ino) of the file behind {@code fd}. */
    public static long[] fileIdentity(Fd fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(org.vhostj.sys.Statx.SIZE, 8);
            int r = org.vhostj.sys.LibC.statx(fd.value(), a.allocateFrom(""), org.vhostj.sys.Fcntl.AT_EMPTY_PATH, org.vhostj.sys.Statx.STATX_INO, st);
            if (r < 0) return new long[] {-1, -1};
            long dev = ((long) org.vhostj.sys.Statx.devMajor(st) << 32) | (org.vhostj.sys.Statx.devMinor(st) & 0xffffffffL);
            return new long[] {dev, org.vhostj.sys.Statx.ino(st)};
        }
    }

    /**
     * This region maps exactly the described range of the file identified by {@code fileIdentity}: a new
     * table may keep using it (the mapping stays, so requests in flight into it are unaffected).
     */
    public boolean sameMapping(long[] fileIdentity, long gpa, long sizeBytes, long frontendVa, long mmapOffset) {
        return fileDev != -1 && fileIdentity[0] == fileDev && fileIdentity[1] == fileIno && this.gpa == gpa
                && this.sizeBytes == sizeBytes && this.frontendVa == frontendVa && this.mmapOffset == mmapOffset;
    }

    /** Another reference to this region, for a new snapshot that keeps it. */
    public MemoryRegion share() { return retain(); }

    public long gpa() { return gpa; }

    public long sizeBytes() { return sizeBytes; }

    public long frontendVa() { return frontendVa; }

    public long mmapOffset() { return mmapOffset; }

    /** The whole region; offset 0 is guest-physical address {@link #gpa()}. */
    public MemorySegment memory() { return memory; }

    /** Guest-physical end, exclusive (may be 2^64, i.e. 0, for a region touching the top). */
    public long gpaEnd() { return gpa + sizeBytes; }

    MemoryRegion retain() {
        int r;
        do {
            r = refs.get();
            if (r <= 0) throw new IllegalStateException("memory region already unmapped");
        } while (!refs.compareAndSet(r, r + 1));
        return this;
    }

    /** Drops one reference; the last one unmaps the region. */
    public void release() {
        if (refs.decrementAndGet() == 0 && arena != null) arena.close();
    }

    boolean overlapsGpa(MemoryRegion o) {
        return Long.compareUnsigned(gpa, o.gpa + o.sizeBytes - 1) <= 0 && Long.compareUnsigned(o.gpa, gpa + sizeBytes - 1) <= 0;
    }

    @Override
    public String toString() {
        return "region[gpa 0x" + Long.toHexString(gpa) + ", " + sizeBytes + " bytes, frontend va 0x"
                + Long.toHexString(frontendVa) + ", mmap offset 0x" + Long.toHexString(mmapOffset) + "]";
    }
}
