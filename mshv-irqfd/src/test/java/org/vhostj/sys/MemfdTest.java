package org.vhostj.sys;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class MemfdTest {
    private static final long GIB = 1L << 30;

    @Test
    void mapsSixGibSharedAndSeesWritesThroughASecondMappingAtAnOffset() {
        try (Fd fd = Memfd.create("guest-ram", 6 * GIB); Arena arena = Arena.ofShared()) {
            MemorySegment whole = Memfd.mapShared(fd.value(), 0, 6 * GIB, true, arena);
            whole.set(ValueLayout.JAVA_LONG, 5 * GIB + 8, 0x1122334455667788L);
            whole.set(ValueLayout.JAVA_LONG, 6 * GIB - 8, 42L);
            MemorySegment upper = Memfd.mapShared(fd.value(), 4 * GIB, 2 * GIB, false, arena);
            assertEquals(0x1122334455667788L, upper.get(ValueLayout.JAVA_LONG, GIB + 8));
            assertEquals(42L, upper.get(ValueLayout.JAVA_LONG, 2 * GIB - 8));
            assertThrows(IndexOutOfBoundsException.class, () -> whole.get(ValueLayout.JAVA_LONG, 6 * GIB));
            assertEquals(6 * GIB, Memfd.size(fd.value()));
        }
    }

    @Test
    void closedArenaUnmapsAndLaterAccessThrowsInsteadOfFaulting() {
        MemorySegment seg;
        try (Fd fd = Memfd.create("short-lived", 4096); Arena arena = Arena.ofShared()) {
            seg = Memfd.mapShared(fd.value(), 0, 4096, true, arena);
            seg.set(ValueLayout.JAVA_INT, 0, 7);
        }
        MemorySegment dead = seg;
        assertThrows(IllegalStateException.class, () -> dead.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void mmapPastEndOfFileOffsetFailsWithErrnoNamingTheCall() {
        try (Fd fd = Memfd.create("tiny", 4096); Arena arena = Arena.ofShared()) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> Memfd.mapShared(fd.value(), 3, 4096, true, arena));
            assertEquals("mmap", e.call());
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
        }
    }

    @Test
    void preadAndPwriteMoveBytesStraightBetweenAFileAndMappedMemory() throws Exception {
        try (Fd ram = Memfd.create("ram", 1 << 20); Fd disk = Memfd.create("disk", 1 << 20); Arena arena = Arena.ofShared()) {
            MemorySegment mem = Memfd.mapShared(ram.value(), 0, 1 << 20, true, arena);
            for (int i = 0; i < 4096; i++) mem.set(ValueLayout.JAVA_BYTE, 8192 + i, (byte) i);
            assertEquals(4096, LibC.pwrite(disk.value(), mem.asSlice(8192), 4096, 512));
            assertEquals(4096, LibC.pread(disk.value(), mem.asSlice(65536), 4096, 512));
            assertEquals(-1, mem.asSlice(8192, 4096).mismatch(mem.asSlice(65536, 4096)));
            try (IovecArray iov = new IovecArray(4)) {
                iov.add(mem.asSlice(100, 10));
                iov.add(mem.asSlice(200, 20));
                assertEquals(30, LibC.preadv2(disk.value(), iov.segment(), iov.count(), 512, 0));
                assertEquals(mem.get(ValueLayout.JAVA_BYTE, 8192), mem.get(ValueLayout.JAVA_BYTE, 100));
                assertEquals(mem.get(ValueLayout.JAVA_BYTE, 8192 + 10), mem.get(ValueLayout.JAVA_BYTE, 200));
                assertEquals(1, iov.advance(0, 10));
                assertEquals(20, iov.length(1));
                assertEquals(1, iov.advance(1, 5));
                assertEquals(15, iov.length(1));
            }
        }
    }
}
