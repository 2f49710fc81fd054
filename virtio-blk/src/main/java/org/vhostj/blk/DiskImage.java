package org.vhostj.blk;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vhostj.sys.Errno;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fcntl;
import org.vhostj.sys.Fd;
import org.vhostj.sys.IovecArray;
import org.vhostj.sys.LibC;
import org.vhostj.sys.Statx;

/**
 * Owner of the raw image the device serves: a regular file or a block device, opened once. Positional I/O
 * only (preadv2/pwritev2/fallocate at explicit offsets), so any number of queue workers use it at once
 * without a lock. Data-path methods return {@code -errno} and never throw.
 */
public final class DiskImage implements AutoCloseable {
    /** How the queues move data: synchronously on the worker (memory-backed images) or through io_uring. */
    public enum IoEngine {
        /** io_uring for images that can block (disks), synchronous for images in memory (tmpfs, ramfs). */
        AUTO,
        /** preadv2/pwritev2 on the worker thread: no hand-off, best when the image is in memory. */
        SYNC,
        /** io_uring per queue: requests really run concurrently (iodepth > 1 on a disk). */
        URING
    }

    private final Fd fd;
    private final Path path;
    private final long sizeBytes;
    private final boolean readOnly, direct, blockDevice, inMemory;
    private final MemorySegment zeros;
    private final Arena arena = Arena.ofShared();
    private static final long ZERO_CHUNK = 64 * 1024;

    private DiskImage(Fd fd, Path path, long sizeBytes, boolean readOnly, boolean direct, boolean blockDevice, boolean inMemory) {
        this.fd = fd;
        this.path = path;
        this.sizeBytes = sizeBytes;
        this.readOnly = readOnly;
        this.direct = direct;
        this.blockDevice = blockDevice;
        this.inMemory = inMemory;
        this.zeros = arena.allocate(ZERO_CHUNK, 4096);
    }

    /** Opens {@code path}; throws {@link IllegalArgumentException} with a one-line reason if it cannot serve it. */
    public static DiskImage open(Path path, boolean readOnly, boolean direct) {
        if (!Files.exists(path)) throw new IllegalArgumentException("no such file: " + path);
        int flags = (readOnly ? Fcntl.O_RDONLY : Fcntl.O_RDWR) | Fcntl.O_CLOEXEC | (direct ? Fcntl.O_DIRECT : 0);
        int raw;
        try (Arena a = Arena.ofConfined()) {
            raw = LibC.openat(Fcntl.AT_FDCWD, a.allocateFrom(path.toString()), flags, 0);
        }
        if (raw < 0) throw new IllegalArgumentException("cannot open " + path + (direct ? " with O_DIRECT" : "") + ": " + Errno.name(-raw));
        Fd fd = Fd.adopt(raw);
        try {
            int mode;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = a.allocate(Statx.SIZE, 8);
                ErrnoException.check("statx", LibC.statx(fd.value(), a.allocateFrom(""), Fcntl.AT_EMPTY_PATH, Statx.STATX_BASIC_STATS, st));
                mode = Statx.mode(st);
            }
            int type = mode & Fcntl.S_IFMT;
            if (type != Fcntl.S_IFREG && type != Fcntl.S_IFBLK) throw new IllegalArgumentException(path + " is neither a regular file nor a block device");
            long size = LibC.lseek(fd.value(), 0, Fcntl.SEEK_END);
            if (size < 0) throw new IllegalArgumentException("cannot size " + path + ": " + Errno.name((int) -size));
            if (size < VirtioBlk.SECTOR_SIZE) throw new IllegalArgumentException(path + " is smaller than one sector (" + size + " bytes)");
            boolean inMemory = type == Fcntl.S_IFREG && isMemoryFileSystem(path);
            return new DiskImage(fd, path, size, readOnly, direct, type == Fcntl.S_IFBLK, inMemory);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static boolean isMemoryFileSystem(Path path) {
        try {
            String t = Files.getFileStore(path).type();
            return t.equals("tmpfs") || t.equals("ramfs") || t.equals("hugetlbfs");
        } catch (IOException e) {
            return false;
        }
    }

    /** The engine {@code requested} means for this image. */
    public IoEngine resolve(IoEngine requested) {
        if (requested != IoEngine.AUTO) return requested;
        return inMemory && !direct ? IoEngine.SYNC : IoEngine.URING;
    }

    public int fd() { return fd.value(); }

    public Path path() { return path; }

    public long sizeBytes() { return sizeBytes; }

    /** Whole sectors the guest sees (a trailing partial sector is not exposed). */
    public long capacitySectors() { return sizeBytes >>> VirtioBlk.SECTOR_SHIFT; }

    public boolean readOnly() { return readOnly; }

    public boolean direct() { return direct; }

    public boolean blockDevice() { return blockDevice; }

    public boolean inMemory() { return inMemory; }

    /**
     * Reads (or writes) all of {@code iov} at {@code offsetBytes}, retrying short transfers. Returns the
     * bytes moved ({@code iov.totalBytes()}), {@code -errno}, or {@code -EIO} if the image ended first.
     * Consumes {@code iov}.
     */
    public long transfer(IovecArray iov, long offsetBytes, boolean write, int rwFlags) {
        long total = iov.totalBytes(), done = 0;
        int first = 0;
        while (done < total) {
            long n = write ? LibC.pwritev2(fd.value(), iov.from(first), iov.count() - first, offsetBytes + done, rwFlags)
                    : LibC.preadv2(fd.value(), iov.from(first), iov.count() - first, offsetBytes + done, rwFlags);
            if (n == -Errno.EINTR) continue;
            if (n < 0) return n;
            if (n == 0) return -Errno.EIO;
            done += n;
            first = iov.advance(first, n);
        }
        return done;
    }

    /** fdatasync: what FLUSH promises. Returns 0 or {@code -errno}. */
    public int flush() {
        if (readOnly) return 0;
        int r;
        do { r = LibC.fdatasync(fd.value()); } while (r == -Errno.EINTR);
        return r;
    }

    /** DISCARD: a hint; the range is deallocated where the image can, otherwise left as it is. Returns 0 or -errno. */
    public int discard(long offsetBytes, long lengthBytes) {
        int r = LibC.fallocate(fd.value(), Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, offsetBytes, lengthBytes);
        return r == -Errno.EOPNOTSUPP ? 0 : r;
    }

    /**
     * WRITE_ZEROES: afterwards the range reads as zeros. With {@code mayUnmap} it may be deallocated (punch a
     * hole); without, it stays allocated (ZERO_RANGE, or punch and allocate again). Falls back to writing
     * zeros. Returns 0 or {@code -errno}.
     */
    public int writeZeroes(long offsetBytes, long lengthBytes, boolean mayUnmap) {
        int keep = Fcntl.FALLOC_FL_KEEP_SIZE;
        if (mayUnmap && LibC.fallocate(fd.value(), Fcntl.FALLOC_FL_PUNCH_HOLE | keep, offsetBytes, lengthBytes) == 0) return 0;
        if (LibC.fallocate(fd.value(), Fcntl.FALLOC_FL_ZERO_RANGE | keep, offsetBytes, lengthBytes) == 0) return 0;
        if (!blockDevice && LibC.fallocate(fd.value(), Fcntl.FALLOC_FL_PUNCH_HOLE | keep, offsetBytes, lengthBytes) == 0
                && LibC.fallocate(fd.value(), keep, offsetBytes, lengthBytes) == 0) {
            return 0;
        }
        long done = 0;
        while (done < lengthBytes) {
            long n = LibC.pwrite(fd.value(), zeros, Math.min(ZERO_CHUNK, lengthBytes - done), offsetBytes + done);
            if (n == -Errno.EINTR) continue;
            if (n <= 0) return n == 0 ? -Errno.EIO : (int) n;
            done += n;
        }
        return 0;
    }

    @Override
    public void close() {
        fd.close();
        arena.close();
    }

    @Override
    public String toString() {
        return (blockDevice ? "block device " : "image ") + path + " (" + sizeBytes + " bytes" + (readOnly ? ", read-only" : "")
                + (direct ? ", O_DIRECT" : "") + (inMemory ? ", in memory" : "") + ")";
    }
}
