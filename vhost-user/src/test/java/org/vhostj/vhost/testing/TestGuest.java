package org.vhostj.vhost.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.memory.MemoryRegion;

/**
 * Guest RAM for tests: memfd regions mapped shared (what a VMM passes over the socket), each at a
 * guest-physical address and a made-up front-end virtual address, with a bump allocator. Owns its fds and
 * mappings.
 */
public final class TestGuest implements AutoCloseable {
    /** Front-end virtual addresses are GPAs plus this, so tests catch a VA/GPA mix-up. */
    public static final long VA_OFFSET = 0x7f00_0000_0000L;

    public record Region(long gpa, long size, Fd fd, MemorySegment memory) {
        public long frontendVa() { return gpa + VA_OFFSET; }
    }

    private final Arena arena = Arena.ofShared();
    private final List<Region> regions = new ArrayList<>();
    private long next;

    /** One region of {@code sizeBytes} at GPA 0. */
    public TestGuest(long sizeBytes) { addRegion(0, sizeBytes); }

    public Region addRegion(long gpa, long sizeBytes) {
        Fd fd = Memfd.create("test-guest", sizeBytes);
        Region r = new Region(gpa, sizeBytes, fd, Memfd.mapShared(fd.value(), 0, sizeBytes, true, arena));
        regions.add(r);
        if (regions.size() == 1) next = gpa + 4096;
        return r;
    }

    public List<Region> regions() { return regions; }

    /** Allocates {@code len} bytes aligned to {@code align} in the first region; returns the GPA. */
    public long alloc(long len, long align) {
        long at = (next + align - 1) & -align;
        Region r = regions.get(0);
        if (at + len > r.gpa() + r.size()) throw new IllegalStateException("test guest memory exhausted");
        next = at + len;
        return at;
    }

    /** The memory at {@code gpa} (any region), {@code len} bytes. */
    public MemorySegment at(long gpa, long len) {
        for (Region r : regions) {
            if (gpa >= r.gpa() && gpa + len <= r.gpa() + r.size()) return r.memory().asSlice(gpa - r.gpa(), len);
        }
        throw new IllegalArgumentException("no region holds 0x" + Long.toHexString(gpa));
    }

    /** A daemon-side view of the same memory (for ring tests without a socket). */
    public GuestMemory guestMemory() {
        List<MemoryRegion> list = new ArrayList<>();
        for (Region r : regions) list.add(MemoryRegion.ofSegment(r.gpa(), r.frontendVa(), r.memory()));
        return GuestMemory.of(list);
    }

    @Override
    public void close() {
        for (Region r : regions) r.fd().close();
        arena.close();
    }
}
