package org.vhostj.fs.passthrough;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.sys.Statx;

/**
 * One worker's preallocated native buffers for the filesystem layer, so a request allocates nothing: the
 * request's names (copied out of guest memory by the server, NUL-terminated), the symlink target, statx,
 * open_how, timespecs, the decimal name of an fd in /proc/self/fd, getdents64 and xattr buffers.
 *
 * <p>Owned by one worker thread; made on the control thread, so its arena is shared. {@link #close} once.
 */
public final class Scratch implements AutoCloseable {
    public static final int DENTS_BYTES = 64 * 1024, XATTR_BYTES = 64 * 1024;

    private final Arena arena = Arena.ofShared();
    /** First and second name of a request (NAME_MAX + NUL, rounded up). */
    public final MemorySegment name = arena.allocate(Fuse.NAME_MAX + 1 + 7, 8);
    public final MemorySegment name2 = arena.allocate(Fuse.NAME_MAX + 1 + 7, 8);
    /** A symlink target (PATH_MAX including its NUL). */
    public final MemorySegment link = arena.allocate(Fuse.PATH_MAX, 8);
    /** An xattr name (XATTR_NAME_MAX + NUL). */
    public final MemorySegment xattrName = arena.allocate(256, 8);
    public final MemorySegment xattrValue = arena.allocate(XATTR_BYTES, 8);
    final MemorySegment statx = arena.allocate(Statx.SIZE, 8);
    final MemorySegment how = arena.allocate(24, 8);
    final MemorySegment times = arena.allocate(32, 8);
    final MemorySegment offIn = arena.allocate(8, 8), offOut = arena.allocate(8, 8);
    final MemorySegment statfs = arena.allocate(128, 8);
    final MemorySegment fdName = arena.allocate(16, 8);
    final MemorySegment empty = arena.allocate(8, 8);
    final MemorySegment dotdot = arena.allocate(8, 8);
    final MemorySegment dents = arena.allocate(DENTS_BYTES, 8);

    /** The inode a lookup found (pinned), handed from {@code lookupInto} to its caller without allocating. */
    Inode found;

    public Scratch() {
        dotdot.set(ValueLayout.JAVA_BYTE, 0, (byte) '.');
        dotdot.set(ValueLayout.JAVA_BYTE, 1, (byte) '.');
        dotdot.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
    }

    /** Writes {@code fd} in decimal, NUL-terminated, into {@link #fdName} (a name in /proc/self/fd). */
    MemorySegment fdName(int fd) {
        int digits = 1;
        for (int v = fd; v >= 10; v /= 10) digits++;
        int v = fd;
        for (int i = digits - 1; i >= 0; i--) {
            fdName.set(ValueLayout.JAVA_BYTE, i, (byte) ('0' + v % 10));
            v /= 10;
        }
        fdName.set(ValueLayout.JAVA_BYTE, digits, (byte) 0);
        return fdName;
    }

    @Override
    public void close() { arena.close(); }
}
