package org.vhostj.harness.frontend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.vhost.driver.RingArea;

/**
 * The harness's guest RAM: one or more memfd regions mapped MAP_SHARED here and handed to the backend
 * (SET_MEM_TABLE or ADD_MEM_REG), with a bump allocator for rings and data buffers. Regions sit at
 * guest-physical addresses with a hole between them (so an address in the hole is a real "outside guest
 * memory" address), or back to back when {@code adjacent} (so a buffer may straddle two regions, which a
 * device must split rather than reject). The front-end address of a region is its real host address here,
 * as QEMU does.
 *
 * <p>Owned by the harness thread that set up the session; {@link #close()} unmaps and closes the memfds,
 * after the connection to the backend is gone. Allocation is a setup-time operation (synchronized); the
 * memory itself is then used by queue workers without locks.
 */
public final class GuestRam implements AutoCloseable {
    /** One memfd region. {@code frontendVa} is the host address of the mapping. */
    public record Region(int index, Fd fd, long gpa, long sizeBytes, MemorySegment memory) {
        public long frontendVa() { return memory.address(); }

        public long gpaEnd() { return gpa + sizeBytes; }
    }

    /** Regions are placed on this boundary; with holes, the hole after each region is at least this big. */
    public static final long REGION_ALIGN = 1L << 30;
    private static final long PAGE = 4096;

    private final Arena arena = Arena.ofShared();
    private final List<Region> regions = new ArrayList<>();
    private final long[] used;

    private GuestRam(long[] sizes, boolean adjacent, String name) {
        used = new long[sizes.length];
        long gpa = 0;
        try {
            for (int i = 0; i < sizes.length; i++) {
                long size = (sizes[i] + PAGE - 1) & -PAGE;
                Fd fd = Memfd.create(name + "-" + i, size);
                MemorySegment mem;
                try {
                    mem = Memfd.mapShared(fd.value(), 0, size, true, arena);
                } catch (RuntimeException e) {
                    fd.close();
                    throw e;
                }
                regions.add(new Region(i, fd, gpa, size, mem));
                gpa = adjacent ? gpa + size : ((gpa + size + REGION_ALIGN - 1) & -REGION_ALIGN) + REGION_ALIGN;
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@code regionCount} regions of {@code regionBytes} each (rounded up to pages), separated by holes. */
    public static GuestRam create(int regionCount, long regionBytes) {
        return create(regionCount, regionBytes, false);
    }

    public static GuestRam create(int regionCount, long regionBytes, boolean adjacent) {
        if (regionCount <= 0 || regionCount > 32) throw new IllegalArgumentException("1..32 regions, got " + regionCount);
        if (regionBytes <= 0) throw new IllegalArgumentException("region size must be positive: " + regionBytes);
        long[] sizes = new long[regionCount];
        java.util.Arrays.fill(sizes, regionBytes);
        return new GuestRam(sizes, adjacent, "vhost-harness-ram");
    }

    public List<Region> regions() { return Collections.unmodifiableList(regions); }

    public int regionCount() { return regions.size(); }

    /** A guest-physical address that no region covers (in the hole after region 0, or past the end). */
    public long unmappedGpa() {
        Region last = regions.get(regions.size() - 1);
        return last.gpaEnd() + REGION_ALIGN;
    }

    /** Allocates {@code bytes} aligned to {@code align} in any region, trying {@code preferredRegion} first. */
    public synchronized RingArea allocate(long bytes, long align, int preferredRegion) {
        int n = regions.size();
        for (int k = 0; k < n; k++) {
            int r = Math.floorMod(preferredRegion + k, n);
            RingArea a = allocateIn(r, bytes, align);
            if (a != null) return a;
        }
        throw new IllegalStateException("guest RAM exhausted: " + bytes + " bytes (align " + align + ") do not fit; "
                + "regions " + regions.size() + " x " + regions.get(0).sizeBytes() + " bytes");
    }

    public RingArea allocate(long bytes, long align) { return allocate(bytes, align, 0); }

    private RingArea allocateIn(int r, long bytes, long align) {
        if (bytes <= 0 || Long.bitCount(align) != 1) throw new IllegalArgumentException("bad allocation: " + bytes + " bytes, align " + align);
        Region region = regions.get(r);
        long start = (used[r] + align - 1) & -align;
        if (start + bytes > region.sizeBytes()) return null;
        used[r] = start + bytes;
        MemorySegment mem = region.memory().asSlice(start, bytes);
        mem.fill((byte) 0);
        return new RingArea(mem, region.gpa() + start);
    }

    /** The region holding all of [gpa, gpa+len), or null. */
    public Region regionOf(long gpa, long len) {
        for (Region r : regions) {
            long off = gpa - r.gpa();
            if (Long.compareUnsigned(off, r.sizeBytes()) < 0 && Long.compareUnsigned(len, r.sizeBytes() - off) <= 0) return r;
        }
        return null;
    }

    /** Host memory for [gpa, gpa+len), which must lie in one region. */
    public MemorySegment at(long gpa, long len) {
        Region r = regionOf(gpa, len);
        if (r == null) throw new IllegalArgumentException("gpa 0x" + Long.toHexString(gpa) + " + " + len + " is not in one region");
        return r.memory().asSlice(gpa - r.gpa(), len);
    }

    /** The front-end (host) virtual address of {@code gpa}, for SET_VRING_ADDR. */
    public long frontendVaOf(long gpa) {
        Region r = regionOf(gpa, 1);
        if (r == null) throw new IllegalArgumentException("gpa 0x" + Long.toHexString(gpa) + " is not in guest RAM");
        return r.frontendVa() + (gpa - r.gpa());
    }

    @Override
    public void close() {
        for (Region r : regions) r.fd().close();
        arena.close();
    }
}
