package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** memfd_create and MAP_SHARED mappings: guest RAM, inflight buffers, dirty logs. */
public final class Memfd {
    private Memfd() {}

    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4;
    public static final int PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000;
    public static final int MADV_DONTNEED = 4, MADV_REMOVE = 9;

    /** A new close-on-exec memfd of {@code sizeBytes} (sparse: pages are allocated on first touch). */
    public static Fd create(String name, long sizeBytes) {
        Fd fd;
        try (Arena a = Arena.ofConfined()) {
            fd = Fd.adopt(ErrnoException.check("memfd_create", LibC.memfdCreate(a.allocateFrom(name), MFD_CLOEXEC)));
        }
        int r = LibC.ftruncate(fd.value(), sizeBytes);
        if (r < 0) {
            fd.close();
            throw new ErrnoException("ftruncate", -r, name + ", " + sizeBytes + " bytes");
        }
        return fd;
    }

    /**
     * Maps {@code lengthBytes} of {@code fd} from {@code offset} shared and read-write (or read-only), as a
     * segment whose lifetime is {@code arena}: closing the arena unmaps it, and any later access throws
     * instead of touching unmapped memory. Any size: segments are not limited to 2 GiB.
     */
    public static MemorySegment mapShared(int fd, long offset, long lengthBytes, boolean writable, Arena arena) {
        if (lengthBytes <= 0) throw new IllegalArgumentException("mapping length must be positive: " + lengthBytes);
        int prot = PROT_READ | (writable ? PROT_WRITE : 0);
        long hostAddress = LibC.mmap(0, lengthBytes, prot, MAP_SHARED, fd, offset);
        if (hostAddress < 0) {
            throw new ErrnoException("mmap", (int) -hostAddress, "fd " + fd + ", offset " + offset + ", " + lengthBytes + " bytes");
        }
        return MemorySegment.ofAddress(hostAddress).reinterpret(lengthBytes, arena, s -> LibC.munmap(s.address(), lengthBytes));
    }

    /** Size of the file behind {@code fd} (statx). */
    public static long size(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Statx.SIZE, 8);
            ErrnoException.check("statx", LibC.statx(fd, a.allocateFrom(""), Fcntl.AT_EMPTY_PATH, Statx.STATX_SIZE, buf));
            return Statx.size(buf);
        }
    }
}
