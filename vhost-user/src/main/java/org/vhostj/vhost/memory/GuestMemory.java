package org.vhostj.vhost.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable snapshot of one memory table: the only place that turns guest-physical addresses (GPAs)
 * and front-end virtual addresses into memory. Regions are sorted by GPA and checked not to overlap when
 * the snapshot is built. Lookups never allocate and are safe against wrap-around.
 *
 * <p>Owned by the connection's control thread, which builds a new snapshot for every SET_MEM_TABLE,
 * ADD_MEM_REG and REM_MEM_REG and publishes it to workers; {@link #close()} releases this snapshot's hold
 * on its regions once no worker can still use it.
 */
public final class GuestMemory implements AutoCloseable {
    private static final GuestMemory EMPTY = new GuestMemory(new MemoryRegion[0]);

    private final MemoryRegion[] regions;
    private final long[] gpaStart;
    private final long[] size;
    private final MemorySegment[] memory;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private GuestMemory(MemoryRegion[] sorted) {
        this.regions = sorted;
        int n = sorted.length;
        gpaStart = new long[n];
        size = new long[n];
        memory = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            gpaStart[i] = sorted[i].gpa();
            size[i] = sorted[i].sizeBytes();
            memory[i] = sorted[i].memory();
        }
    }

    public static GuestMemory empty() { return EMPTY; }

    /**
     * A snapshot of {@code regions}, taking over one reference of each. Throws IllegalArgumentException if
     * two regions overlap in guest-physical space (the caller then still owns the references).
     */
    public static GuestMemory of(List<MemoryRegion> regions) {
        MemoryRegion[] sorted = regions.toArray(new MemoryRegion[0]);
        Arrays.sort(sorted, (a, b) -> Long.compareUnsigned(a.gpa(), b.gpa()));
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i - 1].overlapsGpa(sorted[i])) {
                throw new IllegalArgumentException("memory regions overlap: " + sorted[i - 1] + " and " + sorted[i]);
            }
        }
        return new GuestMemory(sorted);
    }

    /** A new snapshot with {@code added} as well (takes over its reference; retains the others). */
    public GuestMemory with(MemoryRegion added) {
        List<MemoryRegion> list = new ArrayList<>(List.of(regions));
        list.add(added);
        for (MemoryRegion r : regions) r.retain();
        try {
            return of(list);
        } catch (IllegalArgumentException e) {
            for (MemoryRegion r : regions) r.release();
            throw e;
        }
    }

    /**
     * A new snapshot without the region matching this GPA, size and front-end address (REM_MEM_REG), or
     * null if no region matches.
     */
    public GuestMemory without(long gpa, long sizeBytes, long frontendVa) {
        int victim = -1;
        for (int i = 0; i < regions.length; i++) {
            MemoryRegion r = regions[i];
            if (r.gpa() == gpa && r.sizeBytes() == sizeBytes && r.frontendVa() == frontendVa) { victim = i; break; }
        }
        if (victim < 0) return null;
        List<MemoryRegion> list = new ArrayList<>();
        for (int i = 0; i < regions.length; i++) if (i != victim) list.add(regions[i].retain());
        return of(list);
    }

    public int regionCount() { return regions.length; }

    public MemoryRegion regionInfo(int r) { return regions[r]; }

    /** Index of the region holding all of [gpa, gpa+len), or -1. Safe against wrap-around; allocates nothing. */
    public int regionOf(long gpa, long len) {
        int r = floor(gpa);
        if (r < 0) return -1;
        long off = gpa - gpaStart[r];
        return Long.compareUnsigned(off, size[r]) < 0 && Long.compareUnsigned(len, size[r] - off) <= 0 ? r : -1;
    }

    /** Index of the region holding {@code gpa} (at least one byte), or -1. */
    public int regionAt(long gpa) { return regionOf(gpa, 1); }

    /** {@link #regionAt(long)}, trying region {@code hint} first (any int; the caller's last answer). */
    public int regionAt(long gpa, int hint) {
        if (hint >= 0 && hint < gpaStart.length && Long.compareUnsigned(gpa - gpaStart[hint], size[hint]) < 0) return hint;
        return regionOf(gpa, 1);
    }

    /** The last region whose start is at or below gpa (unsigned), by binary search; -1 if none. */
    private int floor(long gpa) {
        int lo = 0, hi = gpaStart.length - 1, found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(gpaStart[mid], gpa) <= 0) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return found;
    }

    /** The memory of region {@code r}; offset 0 is the region's first GPA. */
    public MemorySegment region(int r) { return memory[r]; }

    /** Offset of {@code gpa} inside region {@code r} (the caller got r from {@link #regionOf}). */
    public long offsetIn(int r, long gpa) { return gpa - gpaStart[r]; }

    /** Bytes of region {@code r} from {@code gpa} to its end. */
    public long remainingIn(int r, long gpa) { return size[r] - (gpa - gpaStart[r]); }

    /** A slice covering [gpa, gpa+len) if one region holds it all, else null. Allocates: control path only. */
    public MemorySegment slice(long gpa, long len) {
        int r = regionOf(gpa, len);
        return r < 0 ? null : memory[r].asSlice(gpa - gpaStart[r], len);
    }

    /**
     * The GPA of front-end virtual address {@code frontendVa} if [va, va+len) lies in one region, or -1
     * (SET_VRING_ADDR carries front-end addresses).
     */
    public long gpaOfFrontendVa(long frontendVa, long len) {
        for (MemoryRegion r : regions) {
            long off = frontendVa - r.frontendVa();
            if (Long.compareUnsigned(off, r.sizeBytes()) < 0 && Long.compareUnsigned(len, r.sizeBytes() - off) <= 0) {
                return r.gpa() + off;
            }
        }
        return -1;
    }

    /** Highest guest-physical end address over all regions (dirty-log coverage). */
    public long gpaLimit() {
        long max = 0;
        for (MemoryRegion r : regions) if (Long.compareUnsigned(r.gpaEnd(), max) > 0) max = r.gpaEnd();
        return max;
    }

    public List<MemoryRegion> regions() { return List.of(regions); }

    /**
     * Keeps this snapshot's regions mapped for a request that outlives it (I/O in the kernel, a request on
     * another thread) even if a new memory table replaces it meanwhile; each pin is undone by one {@link #unpin}.
     */
    public void pin() {
        for (MemoryRegion r : regions) r.share();
    }

    /** Undoes one {@link #pin}: regions no snapshot or pin holds any more are unmapped. */
    public void unpin() {
        for (MemoryRegion r : regions) r.release();
    }

    /** Releases this snapshot's hold on its regions (unmapping those no other snapshot holds). */
    @Override
    public void close() {
        if (this == EMPTY || !closed.compareAndSet(false, true)) return;
        for (MemoryRegion r : regions) r.release();
    }

    @Override
    public String toString() { return "GuestMemory" + Arrays.toString(regions); }
}
