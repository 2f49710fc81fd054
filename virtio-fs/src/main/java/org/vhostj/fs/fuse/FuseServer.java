package org.vhostj.fs.fuse;

import static org.vhostj.fs.fuse.Fuse.*;
import static org.vhostj.sys.Errno.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.fs.passthrough.CacheMode;
import org.vhostj.fs.passthrough.PassthroughFs;
import org.vhostj.fs.passthrough.Scratch;
import org.vhostj.sys.IovecArray;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * Decodes one FUSE request from a virtio-fs descriptor chain, calls the {@link PassthroughFs}, and encodes
 * the reply into the chain's device-writable part. It never touches the host filesystem itself.
 *
 * <p>The guest is hostile, and this is the one boundary where its request is checked: {@code in.len} must
 * lie within the chain's readable part; the arguments are copied once into this worker's buffer (the guest
 * cannot change them while the request runs); every fixed-size argument is length-checked; a name must be
 * NUL-terminated, 1..NAME_MAX bytes, without '/' (and "."/".." only for LOOKUP); unknown opcodes get ENOSYS.
 * Only {@link #reply} writes out headers; errors go back as {@code -errno}. READ and WRITE data moves between
 * the file and guest memory by preadv2/pwritev2 on iovecs that point into the chain: no copy on the heap.
 *
 * <p>One instance per worker thread (it owns that worker's scratch buffers); the {@link FuseSession} (INIT
 * state) is shared by the device's queues. {@link #handle} allocates nothing on the READ/WRITE path.
 */
public final class FuseServer implements AutoCloseable {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Oldest protocol minor accepted (virtiofsd's floor); we speak {@link Fuse#KERNEL_MINOR_VERSION}. */
    public static final int MIN_MINOR = 27;
    public static final int MAX_WRITE_BYTES = 1 << 20, MAX_PAGES_PER_REQUEST = 256;
    /** Largest argument block other than WRITE data: setxattr_in + name + a 64 KiB value. */
    static final int ARGS_BYTES = 16 + 256 + 65536 + 64;
    /** Largest reply body built here (READDIR, xattr values, READLINK). */
    static final int OUT_BYTES = 128 * 1024;
    /** The INIT flags this server may enable (each only if the guest offers it). */
    static final long SUPPORTED = ASYNC_READ | PARALLEL_DIROPS | BIG_WRITES | AUTO_INVAL_DATA | ASYNC_DIO | ATOMIC_O_TRUNC
            | MAX_PAGES;

    private final PassthroughFs fs;
    private final FuseSession session;
    private final Scratch s = new Scratch();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment args = arena.allocate(ARGS_BYTES, 8);
    private final MemorySegment out = arena.allocate(OUT_HEADER_SIZE + OUT_BYTES, 8);
    private final IovecArray iov = new IovecArray(IovecArray.IOV_MAX);
    private long lastDataBytes;

    public FuseServer(PassthroughFs fs, FuseSession session) {
        this.fs = fs;
        this.session = session;
    }

    /** File data the last request moved (READ/WRITE), for the queue's byte counter. */
    public long lastDataBytes() { return lastDataBytes; }

    /**
     * Serves one chain; returns the bytes written into its writable part (0 for FORGET, BATCH_FORGET and
     * INTERRUPT, which have no reply, and for requests too broken to answer).
     */
    public int handle(DescriptorChain c) {
        lastDataBytes = 0;
        if (!c.readableHas(IN_HEADER_SIZE)) return 0;   // no unique to answer to
        long len = Integer.toUnsignedLong(c.readInt(IN_LEN_OFFSET));
        int opcode = c.readInt(IN_OPCODE_OFFSET);
        long unique = c.readLong(IN_UNIQUE_OFFSET);
        long nodeid = c.readLong(IN_NODEID_OFFSET);
        int uid = c.readInt(IN_UID_OFFSET), gid = c.readInt(IN_GID_OFFSET);
        int extBytes = Short.toUnsignedInt(c.readShort(IN_TOTAL_EXTLEN_OFFSET)) * 8;
        if (len < IN_HEADER_SIZE || len > c.readableBytes() || len - extBytes < IN_HEADER_SIZE) {
            return noReply(opcode) ? 0 : reply(c, unique, -EINVAL, 0);
        }
        int argBytes;
        long argEnd = len - extBytes;
        if (opcode == WRITE) argBytes = (int) Math.min(argEnd - IN_HEADER_SIZE, WRITE_IN_SIZE);
        else if (argEnd - IN_HEADER_SIZE > ARGS_BYTES) return noReply(opcode) ? 0 : reply(c, unique, -EINVAL, 0);
        else argBytes = (int) (argEnd - IN_HEADER_SIZE);
        c.readFrom(IN_HEADER_SIZE, args, 0, argBytes);
        try {
            return dispatch(c, opcode, unique, nodeid, uid, gid, argBytes, argEnd);
        } catch (RuntimeException e) {
            // A bug, not guest input: fail this request only (the queue keeps running).
            return noReply(opcode) ? 0 : reply(c, unique, -EIO, 0);
        }
    }

    private static boolean noReply(int opcode) { return opcode == FORGET || opcode == BATCH_FORGET || opcode == INTERRUPT; }

    private int dispatch(DescriptorChain c, int opcode, long unique, long nodeid, int uid, int gid, int argBytes, long argEnd) {
        int r;
        switch (opcode) {
            case INIT: return init(c, unique, argBytes);
            case FORGET:
                if (argBytes >= FORGET_IN_SIZE) fs.forget(nodeid, args.get(LE_LONG, 0));
                return 0;
            case BATCH_FORGET: {
                if (argBytes < BATCH_FORGET_IN_SIZE) return 0;
                long count = Integer.toUnsignedLong(args.get(LE_INT, 0));
                long fit = (argBytes - BATCH_FORGET_IN_SIZE) / FORGET_ONE_SIZE;
                for (long i = 0, n = Math.min(count, fit); i < n; i++) {
                    long at = BATCH_FORGET_IN_SIZE + i * FORGET_ONE_SIZE;
                    fs.forget(args.get(LE_LONG, at), args.get(LE_LONG, at + 8));
                }
                return 0;
            }
            case INTERRUPT: return 0;   // requests run to completion; nothing to interrupt
            case DESTROY:
                fs.destroy();
                return reply(c, unique, 0, 0);
            case LOOKUP:
                if ((r = last(name(0, argBytes, s.name, true), argBytes)) < 0) return reply(c, unique, r, 0);
                return result(c, unique, fs.lookup(s, nodeid, s.name, out, OUT_HEADER_SIZE), ENTRY_OUT_SIZE);
            case GETATTR:
                return result(c, unique, fs.getattr(s, nodeid, out, OUT_HEADER_SIZE), ATTR_OUT_SIZE);
            case SETATTR:
                if (argBytes < SETATTR_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return result(c, unique, fs.setattr(s, nodeid, args, 0, out, OUT_HEADER_SIZE), ATTR_OUT_SIZE);
            case READLINK: {
                int max = (int) Math.min(PATH_MAX, room(c));
                r = fs.readlink(s, nodeid, out, OUT_HEADER_SIZE, max);
                return r < 0 ? reply(c, unique, r, 0) : reply(c, unique, 0, r);
            }
            case SYMLINK: {
                int at = name(0, argBytes, s.name, false);
                if (at < 0) return reply(c, unique, at, 0);
                if ((r = last(target(at, argBytes), argBytes)) < 0) return reply(c, unique, r, 0);
                return result(c, unique, fs.symlink(s, nodeid, s.name, s.link, uid, gid, out, OUT_HEADER_SIZE), ENTRY_OUT_SIZE);
            }
            case MKNOD:
                if (argBytes < MKNOD_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                if ((r = last(name(MKNOD_IN_SIZE, argBytes, s.name, false), argBytes)) < 0) return reply(c, unique, r, 0);
                return result(c, unique, fs.mknod(s, nodeid, s.name, args.get(LE_INT, 0), args.get(LE_INT, 4), uid, gid, out,
                        OUT_HEADER_SIZE), ENTRY_OUT_SIZE);
            case MKDIR:
                if (argBytes < MKDIR_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                if ((r = last(name(MKDIR_IN_SIZE, argBytes, s.name, false), argBytes)) < 0) return reply(c, unique, r, 0);
                return result(c, unique, fs.mkdir(s, nodeid, s.name, args.get(LE_INT, 0), uid, gid, out, OUT_HEADER_SIZE), ENTRY_OUT_SIZE);
            case UNLINK:
            case RMDIR:
                if ((r = last(name(0, argBytes, s.name, false), argBytes)) < 0) return reply(c, unique, r, 0);
                return reply(c, unique, fs.unlink(s, nodeid, s.name, opcode == RMDIR), 0);
            case RENAME:
            case RENAME2: {
                int fixed = opcode == RENAME ? RENAME_IN_SIZE : RENAME2_IN_SIZE;
                if (argBytes < fixed) return reply(c, unique, -EINVAL, 0);
                long newdir = args.get(LE_LONG, 0);
                int flags = opcode == RENAME ? 0 : args.get(LE_INT, 8);
                int at = name(fixed, argBytes, s.name, false);
                if (at < 0) return reply(c, unique, at, 0);
                if ((r = last(name(at, argBytes, s.name2, false), argBytes)) < 0) return reply(c, unique, r, 0);
                return reply(c, unique, fs.rename(s, nodeid, s.name, newdir, s.name2, flags), 0);
            }
            case LINK:
                if (argBytes < LINK_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                if ((r = last(name(LINK_IN_SIZE, argBytes, s.name, false), argBytes)) < 0) return reply(c, unique, r, 0);
                return result(c, unique, fs.link(s, args.get(LE_LONG, 0), nodeid, s.name, out, OUT_HEADER_SIZE), ENTRY_OUT_SIZE);
            case OPEN:
                if (argBytes < OPEN_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return result(c, unique, fs.open(s, nodeid, args.get(LE_INT, 0), out, OUT_HEADER_SIZE), OPEN_OUT_SIZE);
            case OPENDIR:
                return result(c, unique, fs.opendir(s, nodeid, out, OUT_HEADER_SIZE), OPEN_OUT_SIZE);
            case CREATE:
                if (argBytes < CREATE_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                if ((r = last(name(CREATE_IN_SIZE, argBytes, s.name, false), argBytes)) < 0) return reply(c, unique, r, 0);
                return result(c, unique, fs.create(s, nodeid, s.name, args.get(LE_INT, 0), args.get(LE_INT, 4), uid, gid, out,
                        OUT_HEADER_SIZE), ENTRY_OUT_SIZE + OPEN_OUT_SIZE);
            case READ: return read(c, unique, nodeid, argBytes);
            case WRITE: return write(c, unique, nodeid, argBytes, argEnd);
            case STATFS:
                return result(c, unique, fs.statfs(s, nodeid, out, OUT_HEADER_SIZE), STATFS_OUT_SIZE);
            case RELEASE:
            case RELEASEDIR:
                if (argBytes < RELEASE_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return reply(c, unique, fs.release(nodeid, args.get(LE_LONG, 0), opcode == RELEASEDIR), 0);
            case FLUSH:
                if (argBytes < FLUSH_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return reply(c, unique, fs.flush(nodeid, args.get(LE_LONG, 0)), 0);
            case FSYNC:
            case FSYNCDIR:
                if (argBytes < FSYNC_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return reply(c, unique, fs.fsync(nodeid, args.get(LE_LONG, 0), (args.get(LE_INT, 8) & FSYNC_FDATASYNC) != 0), 0);
            case READDIR:
            case READDIRPLUS: {
                if (argBytes < READ_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                int size = (int) Math.min(Integer.toUnsignedLong(args.get(LE_INT, RW_SIZE_OFFSET)), Math.min(OUT_BYTES, room(c)));
                r = fs.readdir(s, nodeid, args.get(LE_LONG, RW_FH_OFFSET), args.get(LE_LONG, RW_OFFSET_OFFSET), size,
                        opcode == READDIRPLUS, out, OUT_HEADER_SIZE);
                return r < 0 ? reply(c, unique, r, 0) : reply(c, unique, 0, r);
            }
            case ACCESS:
                if (argBytes < ACCESS_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return reply(c, unique, fs.access(s, nodeid, args.get(LE_INT, 0), uid, gid), 0);
            case SETXATTR: return setxattr(c, unique, nodeid, argBytes);
            case GETXATTR:
            case LISTXATTR: return getxattr(c, unique, nodeid, argBytes, opcode == LISTXATTR);
            case REMOVEXATTR:
                if ((r = last(xattrName(0, argBytes), argBytes)) < 0) return reply(c, unique, r, 0);
                return reply(c, unique, fs.removexattr(s, nodeid, s.xattrName), 0);
            case FALLOCATE:
                if (argBytes < FALLOCATE_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                return reply(c, unique, fs.fallocate(nodeid, args.get(LE_LONG, 0), args.get(LE_INT, 24), args.get(LE_LONG, 8),
                        args.get(LE_LONG, 16)), 0);
            case LSEEK: {
                if (argBytes < LSEEK_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                long at = fs.lseek(nodeid, args.get(LE_LONG, 0), args.get(LE_LONG, 8), args.get(LE_INT, 16));
                if (at < 0) return reply(c, unique, (int) at, 0);
                out.set(LE_LONG, OUT_HEADER_SIZE, at);
                return reply(c, unique, 0, LSEEK_OUT_SIZE);
            }
            case COPY_FILE_RANGE: {
                if (argBytes < COPY_FILE_RANGE_IN_SIZE) return reply(c, unique, -EINVAL, 0);
                long len = Math.min(args.get(LE_LONG, 40), 0x7fff_f000L);   // the reply's size is 32 bits
                if (len < 0) len = 0x7fff_f000L;
                long n = fs.copyFileRange(s, nodeid, args.get(LE_LONG, 0), args.get(LE_LONG, 8), args.get(LE_LONG, 16),
                        args.get(LE_LONG, 24), args.get(LE_LONG, 32), len, (int) args.get(LE_LONG, 48));
                if (n < 0) return reply(c, unique, (int) n, 0);
                out.set(LE_INT, OUT_HEADER_SIZE, (int) n);
                out.set(LE_INT, OUT_HEADER_SIZE + 4, 0);
                return reply(c, unique, 0, WRITE_OUT_SIZE);
            }
            case SYNCFS: return reply(c, unique, fs.syncfs(nodeid), 0);
            default: return reply(c, unique, -ENOSYS, 0);
        }
    }

    // ---- INIT ------------------------------------------------------------------------------------------

    private int init(DescriptorChain c, long unique, int argBytes) {
        if (argBytes < INIT_IN_COMPAT_SIZE) return reply(c, unique, -EINVAL, 0);
        int major = args.get(LE_INT, INIT_MAJOR_OFFSET), minor = args.get(LE_INT, INIT_MINOR_OFFSET);
        int maxReadahead = args.get(LE_INT, INIT_MAX_READAHEAD_OFFSET);
        long flags = Integer.toUnsignedLong(args.get(LE_INT, INIT_FLAGS_OFFSET));
        if ((flags & INIT_EXT) != 0 && argBytes >= INIT_IN_SIZE) flags |= Integer.toUnsignedLong(args.get(LE_INT, INIT_IN_FLAGS2_OFFSET)) << 32;
        out.asSlice(OUT_HEADER_SIZE, INIT_OUT_SIZE).fill((byte) 0);
        out.set(LE_INT, OUT_HEADER_SIZE + INIT_MAJOR_OFFSET, KERNEL_VERSION);
        out.set(LE_INT, OUT_HEADER_SIZE + INIT_MINOR_OFFSET, KERNEL_MINOR_VERSION);
        if (major > KERNEL_VERSION) return reply(c, unique, 0, INIT_OUT_SIZE);   // the kernel retries with 7.x
        if (major < KERNEL_VERSION || minor < MIN_MINOR) return reply(c, unique, -EPROTO, 0);
        long want = SUPPORTED;
        if (fs.config().cache() != CacheMode.NEVER) want |= DO_READDIRPLUS | READDIRPLUS_AUTO;
        long enabled = flags & want;
        session.negotiated(minor, enabled);
        long o = OUT_HEADER_SIZE;
        out.set(LE_INT, o + INIT_MAX_READAHEAD_OFFSET, maxReadahead);
        out.set(LE_INT, o + INIT_FLAGS_OFFSET, (int) enabled);
        out.set(LE_SHORT, o + INIT_OUT_MAX_BACKGROUND_OFFSET, (short) 0xffff);
        out.set(LE_SHORT, o + INIT_OUT_CONGESTION_THRESHOLD_OFFSET, (short) 49149);
        out.set(LE_INT, o + INIT_OUT_MAX_WRITE_OFFSET, MAX_WRITE_BYTES);
        out.set(LE_INT, o + INIT_OUT_TIME_GRAN_OFFSET, 1);
        out.set(LE_SHORT, o + INIT_OUT_MAX_PAGES_OFFSET, (short) MAX_PAGES_PER_REQUEST);
        out.set(LE_INT, o + INIT_OUT_FLAGS2_OFFSET, (int) (enabled >>> 32));
        return reply(c, unique, 0, INIT_OUT_SIZE);
    }

    // ---- data ------------------------------------------------------------------------------------------

    private int read(DescriptorChain c, long unique, long nodeid, int argBytes) {
        if (argBytes < READ_IN_SIZE) return reply(c, unique, -EINVAL, 0);
        if (c.writableBytes() < OUT_HEADER_SIZE) return 0;
        long size = Math.min(Integer.toUnsignedLong(args.get(LE_INT, RW_SIZE_OFFSET)), room(c));
        iov.clear();
        long covered = c.fillIovecs(iov, true, OUT_HEADER_SIZE, size);
        long n = covered == 0 ? 0 : fs.read(nodeid, args.get(LE_LONG, RW_FH_OFFSET), args.get(LE_LONG, RW_OFFSET_OFFSET), iov);
        if (n < 0) return reply(c, unique, (int) n, 0);
        lastDataBytes = n;
        return replyHeader(c, unique, 0, n);   // the data is already in the chain, after the header
    }

    private int write(DescriptorChain c, long unique, long nodeid, int argBytes, long argEnd) {
        if (argBytes < WRITE_IN_SIZE) return reply(c, unique, -EINVAL, 0);
        long size = Integer.toUnsignedLong(args.get(LE_INT, RW_SIZE_OFFSET));
        long dataAt = IN_HEADER_SIZE + WRITE_IN_SIZE;
        if (size > MAX_WRITE_BYTES || dataAt + size > argEnd) return reply(c, unique, -EINVAL, 0);
        iov.clear();
        long covered = c.fillIovecs(iov, false, dataAt, size);
        long n = covered == 0 ? 0 : fs.write(nodeid, args.get(LE_LONG, RW_FH_OFFSET), args.get(LE_LONG, RW_OFFSET_OFFSET), iov);
        if (n < 0) return reply(c, unique, (int) n, 0);
        lastDataBytes = n;
        out.set(LE_INT, OUT_HEADER_SIZE, (int) n);
        out.set(LE_INT, OUT_HEADER_SIZE + 4, 0);
        return reply(c, unique, 0, WRITE_OUT_SIZE);
    }

    // ---- xattrs ----------------------------------------------------------------------------------------

    private int setxattr(DescriptorChain c, long unique, long nodeid, int argBytes) {
        int fixed = session.hasFlag(SETXATTR_EXT) ? SETXATTR_IN_SIZE : SETXATTR_IN_COMPAT_SIZE;
        if (argBytes < fixed) return reply(c, unique, -EINVAL, 0);
        long size = Integer.toUnsignedLong(args.get(LE_INT, 0));
        int flags = args.get(LE_INT, 4);
        int at = xattrName(fixed, argBytes);
        if (at < 0) return reply(c, unique, at, 0);
        if (size > Scratch.XATTR_BYTES || at + size > argBytes) return reply(c, unique, -EINVAL, 0);
        MemorySegment.copy(args, at, s.xattrValue, 0, size);
        return reply(c, unique, fs.setxattr(s, nodeid, s.xattrName, s.xattrValue, (int) size, flags), 0);
    }

    private int getxattr(DescriptorChain c, long unique, long nodeid, int argBytes, boolean list) {
        if (argBytes < GETXATTR_IN_SIZE) return reply(c, unique, -EINVAL, 0);
        long size = Integer.toUnsignedLong(args.get(LE_INT, 0));
        if (!list) {
            int r = last(xattrName(GETXATTR_IN_SIZE, argBytes), argBytes);
            if (r < 0) return reply(c, unique, r, 0);
        }
        int max = (int) Math.min(size, Math.min(Scratch.XATTR_BYTES, room(c)));
        long n = list ? fs.listxattr(s, nodeid, s.xattrValue, max) : fs.getxattr(s, nodeid, s.xattrName, s.xattrValue, max);
        if (n < 0) return reply(c, unique, (int) n, 0);
        if (size == 0) {
            out.set(LE_INT, OUT_HEADER_SIZE, (int) n);
            out.set(LE_INT, OUT_HEADER_SIZE + 4, 0);
            return reply(c, unique, 0, GETXATTR_OUT_SIZE);
        }
        if (max < size && n == max) {
            // The guest's buffer is larger than what we could read into: we cannot tell if the value fits.
            return reply(c, unique, -ERANGE, 0);
        }
        MemorySegment.copy(s.xattrValue, 0, out, OUT_HEADER_SIZE, n);
        return reply(c, unique, 0, n);
    }

    // ---- argument checks -------------------------------------------------------------------------------

    /**
     * Copies the NUL-terminated name at {@code args[at..end)} into {@code dst}: 1..NAME_MAX bytes, no '/',
     * "." and ".." only if {@code dotsAllowed}. Returns the offset after its NUL, or -errno.
     */
    int name(int at, int end, MemorySegment dst, boolean dotsAllowed) {
        int n = 0;
        while (true) {
            if (at + n >= end) return -EINVAL;   // no NUL within the arguments
            byte b = args.get(ValueLayout.JAVA_BYTE, at + n);
            if (b == 0) break;
            if (b == '/') return -EINVAL;
            if (++n > NAME_MAX) return -ENAMETOOLONG;
        }
        if (n == 0) return -EINVAL;
        if (!dotsAllowed && args.get(ValueLayout.JAVA_BYTE, at) == '.'
                && (n == 1 || (n == 2 && args.get(ValueLayout.JAVA_BYTE, at + 1) == '.'))) return -EINVAL;
        MemorySegment.copy(args, at, dst, 0, n + 1);
        return at + n + 1;
    }

    /**
     * A request's last string must end exactly at the end of its arguments: a second NUL or trailing bytes
     * ("a\0b\0") would otherwise hide part of what the guest sent. Passes -errno through.
     */
    private static int last(int after, int end) { return after < 0 ? after : after == end ? 0 : -EINVAL; }

    /** Copies the symlink target at {@code at} into s.link: NUL-terminated, 1..PATH_MAX-1 bytes. */
    private int target(int at, int end) {
        int n = 0;
        while (true) {
            if (at + n >= end) return -EINVAL;
            if (args.get(ValueLayout.JAVA_BYTE, at + n) == 0) break;
            if (++n >= PATH_MAX) return -ENAMETOOLONG;
        }
        if (n == 0) return -EINVAL;
        MemorySegment.copy(args, at, s.link, 0, n + 1);
        return at + n + 1;
    }

    /** An xattr name into s.xattrName: NUL-terminated, 1..255 bytes ('/' is legal in xattr names). */
    private int xattrName(int at, int end) {
        int n = 0;
        while (true) {
            if (at + n >= end) return -EINVAL;
            if (args.get(ValueLayout.JAVA_BYTE, at + n) == 0) break;
            if (++n > 255) return -ERANGE;
        }
        if (n == 0) return -EINVAL;
        MemorySegment.copy(args, at, s.xattrName, 0, n + 1);
        return at + n + 1;
    }

    // ---- replies: the only writers of out headers ------------------------------------------------------

    /** Room for a reply body in the chain's writable part. */
    private static long room(DescriptorChain c) { return Math.max(0, c.writableBytes() - OUT_HEADER_SIZE); }

    private int result(DescriptorChain c, long unique, int r, int bodyBytes) {
        return r < 0 ? reply(c, unique, r, 0) : reply(c, unique, 0, bodyBytes);
    }

    /**
     * Writes the out header and {@code bodyBytes} of body (already in {@code out} after the header) into the
     * chain. A body that does not fit becomes an EIO error; returns the used length.
     */
    int reply(DescriptorChain c, long unique, int error, long bodyBytes) {
        if (error != 0) bodyBytes = 0;
        if (c.writableBytes() < OUT_HEADER_SIZE) return 0;
        if (OUT_HEADER_SIZE + bodyBytes > c.writableBytes()) { error = -EIO; bodyBytes = 0; }
        long total = fillOutHeader(unique, error, bodyBytes);
        c.writeTo(0, out, 0, total);
        return (int) total;
    }

    /** Writes only the out header; {@code bodyBytes} of body are already in the chain after it (READ). */
    private int replyHeader(DescriptorChain c, long unique, int error, long bodyBytes) {
        long total = fillOutHeader(unique, error, bodyBytes);
        c.writeTo(0, out, 0, OUT_HEADER_SIZE);
        return (int) total;
    }

    /** Fills the fuse_out_header at the start of {@code out}; returns the reply's total length. */
    private long fillOutHeader(long unique, int error, long bodyBytes) {
        long total = OUT_HEADER_SIZE + bodyBytes;
        out.set(LE_INT, OUT_LEN_OFFSET, (int) total);
        out.set(LE_INT, OUT_ERROR_OFFSET, error);
        out.set(LE_LONG, OUT_UNIQUE_OFFSET, unique);
        return total;
    }

    @Override
    public void close() {
        iov.close();
        s.close();
        arena.close();
    }
}
