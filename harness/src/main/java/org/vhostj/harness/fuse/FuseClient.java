package org.vhostj.harness.fuse;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.frontend.GuestRam;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fcntl;
import org.vhostj.sys.LibC;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;

/**
 * A FUSE client over virtio-fs queues, as the Linux driver speaks it: FORGET goes on the high-priority
 * queue (0, no reply), everything else on a request queue (1) as one chain: device-readable
 * {@code fuse_in_header} + arguments (+ write data), device-writable {@code fuse_out_header} + reply
 * (+ read data). One typed method per opcode, plus {@link #call} and {@link #raw} for requests no kernel
 * would send (the virtio-fs escape tests use those).
 *
 * <p>Synchronous: one request at a time, each bounded by the timeout. Owned by one thread; the queues stay
 * the session's.
 */
public final class FuseClient implements AutoCloseable {
    public static final int HIPRIO_QUEUE = 0, REQUEST_QUEUE = 1;
    /** The INIT flags Linux 6.x sends for virtio-fs (no DAX), protocol 7.38. */
    public static final long LINUX_INIT_FLAGS = Fuse.ASYNC_READ | Fuse.POSIX_LOCKS | Fuse.ATOMIC_O_TRUNC | Fuse.EXPORT_SUPPORT
            | Fuse.BIG_WRITES | Fuse.DONT_MASK | Fuse.SPLICE_WRITE | Fuse.SPLICE_MOVE | Fuse.SPLICE_READ | Fuse.FLOCK_LOCKS
            | Fuse.HAS_IOCTL_DIR | Fuse.AUTO_INVAL_DATA | Fuse.DO_READDIRPLUS | Fuse.READDIRPLUS_AUTO | Fuse.ASYNC_DIO
            | Fuse.WRITEBACK_CACHE | Fuse.NO_OPEN_SUPPORT | Fuse.PARALLEL_DIROPS | Fuse.HANDLE_KILLPRIV | Fuse.POSIX_ACL
            | Fuse.ABORT_ERROR | Fuse.MAX_PAGES | Fuse.CACHE_SYMLINKS | Fuse.NO_OPENDIR_SUPPORT | Fuse.EXPLICIT_INVAL_DATA
            | Fuse.HANDLE_KILLPRIV_V2 | Fuse.SETXATTR_EXT | Fuse.INIT_EXT | Fuse.SECURITY_CTX | Fuse.CREATE_SUPP_GROUP;

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** What a request came back with: the out header's fields, the reply body, and the used length. */
    public record Reply(int error, long unique, int headerLength, int usedLength, byte[] body) {
        public ByteBuffer buffer() { return FuseTypes.le(body); }
    }

    private final VirtQueue hiprio, requests;
    private final RingArea in, out;
    private final int maxDataBytes;
    private final long timeoutMillis;
    private final BufferList buffers = new BufferList(8);
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment pollFd = arena.allocate(8, 4);
    private final int uid = LibC.geteuid(), gid = LibC.getegid(), pid = (int) ProcessHandle.current().pid();
    private long nextUnique = 2;
    private int maxWrite = 128 * 1024;
    private long negotiated;

    /**
     * A client on already started queues ({@code hiprio} may be null: FORGET then fails). Buffers for
     * {@code maxDataBytes} of read or write data come from {@code ram}.
     */
    public FuseClient(GuestRam ram, VirtQueue hiprio, VirtQueue requests, int maxDataBytes, long timeoutMillis) {
        this.hiprio = hiprio;
        this.requests = requests;
        this.maxDataBytes = maxDataBytes;
        this.timeoutMillis = timeoutMillis;
        this.in = ram.allocate(4096 + maxDataBytes, 4096, 0);
        this.out = ram.allocate(4096 + maxDataBytes, 4096, ram.regionCount() - 1);
        for (VirtQueue q : new VirtQueue[] {hiprio, requests}) if (q != null) q.ring().disableInterrupts();
    }

    /** Starts the hiprio queue and request queue 1 of {@code session} and makes a client on them. */
    public static FuseClient start(VhostSession session, int maxDataBytes) {
        VirtQueue h = session.startQueue(HIPRIO_QUEUE);
        VirtQueue r = session.startQueue(REQUEST_QUEUE);
        return new FuseClient(session.ram(), h, r, maxDataBytes, session.options().timeoutMillis());
    }

    public VirtQueue requestQueue() { return requests; }

    public VirtQueue hiprioQueue() { return hiprio; }

    /** Reserves {@code count} unique ids for requests sent outside this client (a load engine on the same queue). */
    public long reserveUniques(long count) {
        long first = nextUnique;
        nextUnique += count;
        return first;
    }

    /** Most write data per request, from INIT's max_write (until INIT: 128 KiB). */
    public int maxWrite() { return Math.min(maxWrite, maxDataBytes); }

    // ---- opcodes ---------------------------------------------------------------------------------------

    /** FUSE_INIT 7.38 with the flags Linux sends ({@code flags} overrides them). */
    public FuseTypes.InitReply init(long flags) {
        ByteBuffer a = args(Fuse.INIT_IN_SIZE).putInt(Fuse.KERNEL_VERSION).putInt(Fuse.KERNEL_MINOR_VERSION)
                .putInt(128 * 1024).putInt((int) flags).putInt((int) (flags >>> 32));
        Reply r = ok(Fuse.INIT, 0, call(Fuse.INIT, 0, a.array(), null, Fuse.INIT_OUT_SIZE, 0));
        ByteBuffer b = r.buffer();
        if (r.body().length < 24) throw new FuseException(Fuse.INIT, 0, "reply of " + r.body().length + " bytes is too short");
        int major = b.getInt(Fuse.INIT_MAJOR_OFFSET), minor = b.getInt(Fuse.INIT_MINOR_OFFSET);
        long f = Integer.toUnsignedLong(b.getInt(Fuse.INIT_FLAGS_OFFSET));
        if (r.body().length >= Fuse.INIT_OUT_SIZE) f |= Integer.toUnsignedLong(b.getInt(Fuse.INIT_OUT_FLAGS2_OFFSET)) << 32;
        int mw = b.getInt(Fuse.INIT_OUT_MAX_WRITE_OFFSET);
        int pages = r.body().length >= 30 ? Short.toUnsignedInt(b.getShort(Fuse.INIT_OUT_MAX_PAGES_OFFSET)) : 0;
        if (mw > 0) maxWrite = mw;
        negotiated = f & flags;
        return new FuseTypes.InitReply(major, minor, b.getInt(Fuse.INIT_MAX_READAHEAD_OFFSET), f,
                Short.toUnsignedInt(b.getShort(Fuse.INIT_OUT_MAX_BACKGROUND_OFFSET)), mw, b.getInt(Fuse.INIT_OUT_TIME_GRAN_OFFSET), pages);
    }

    public FuseTypes.InitReply init() { return init(LINUX_INIT_FLAGS); }

    public FuseTypes.Entry lookup(long parent, String name) {
        Reply r = ok(Fuse.LOOKUP, 0, call(Fuse.LOOKUP, parent, name(name), null, Fuse.ENTRY_OUT_SIZE, 0));
        return FuseTypes.Entry.decode(need(Fuse.LOOKUP, r, Fuse.ENTRY_OUT_SIZE), 0);
    }

    public FuseTypes.Attr getattr(long nodeid) {
        ByteBuffer a = args(Fuse.GETATTR_IN_SIZE);
        Reply r = ok(Fuse.GETATTR, 0, call(Fuse.GETATTR, nodeid, a.array(), null, Fuse.ATTR_OUT_SIZE, 0));
        return FuseTypes.Attr.decode(need(Fuse.GETATTR, r, Fuse.ATTR_OUT_SIZE), Fuse.ATTR_OUT_ATTR_OFFSET);
    }

    /** CREATE {@code name} in {@code parent}, opened with {@code openFlags} (O_RDWR...), mode e.g. 0644. */
    public FuseTypes.Created create(long parent, String name, int openFlags, int mode) {
        byte[] n = name(name);
        ByteBuffer a = args(Fuse.CREATE_IN_SIZE + n.length).putInt(openFlags | Fcntl.O_CREAT).putInt(Fcntl.S_IFREG | (mode & 07777))
                .putInt(0).putInt(0).put(n);
        Reply r = ok(Fuse.CREATE, 0, call(Fuse.CREATE, parent, a.array(), null, Fuse.ENTRY_OUT_SIZE + Fuse.OPEN_OUT_SIZE, 0));
        ByteBuffer b = need(Fuse.CREATE, r, Fuse.ENTRY_OUT_SIZE + Fuse.OPEN_OUT_SIZE);
        return new FuseTypes.Created(FuseTypes.Entry.decode(b, 0), b.getLong(Fuse.ENTRY_OUT_SIZE), b.getInt(Fuse.ENTRY_OUT_SIZE + 8));
    }

    public FuseTypes.Entry mkdir(long parent, String name, int mode) {
        byte[] n = name(name);
        ByteBuffer a = args(Fuse.MKDIR_IN_SIZE + n.length).putInt(mode & 07777).putInt(0).put(n);
        Reply r = ok(Fuse.MKDIR, 0, call(Fuse.MKDIR, parent, a.array(), null, Fuse.ENTRY_OUT_SIZE, 0));
        return FuseTypes.Entry.decode(need(Fuse.MKDIR, r, Fuse.ENTRY_OUT_SIZE), 0);
    }

    public long open(long nodeid, int openFlags) { return openLike(Fuse.OPEN, nodeid, openFlags); }

    public long opendir(long nodeid) { return openLike(Fuse.OPENDIR, nodeid, Fcntl.O_RDONLY | Fcntl.O_DIRECTORY); }

    private long openLike(int opcode, long nodeid, int openFlags) {
        ByteBuffer a = args(Fuse.OPEN_IN_SIZE).putInt(openFlags).putInt(0);
        Reply r = ok(opcode, 0, call(opcode, nodeid, a.array(), null, Fuse.OPEN_OUT_SIZE, 0));
        return need(opcode, r, Fuse.OPEN_OUT_SIZE).getLong(0);
    }

    /** WRITE {@code data} at {@code offset}; returns the bytes the server says it wrote. */
    public int write(long nodeid, long fh, long offset, byte[] data) {
        if (data.length > maxDataBytes) throw new IllegalArgumentException("write of " + data.length + " bytes exceeds the client's " + maxDataBytes);
        ByteBuffer a = rwArgs(fh, offset, data.length);
        Reply r = ok(Fuse.WRITE, 0, call(Fuse.WRITE, nodeid, a.array(), data, Fuse.WRITE_OUT_SIZE, 0));
        return need(Fuse.WRITE, r, Fuse.WRITE_OUT_SIZE).getInt(0);
    }

    /** READ up to {@code size} bytes at {@code offset}; fewer at the end of the file. */
    public byte[] read(long nodeid, long fh, long offset, int size) {
        if (size > maxDataBytes) throw new IllegalArgumentException("read of " + size + " bytes exceeds the client's " + maxDataBytes);
        return ok(Fuse.READ, 0, call(Fuse.READ, nodeid, rwArgs(fh, offset, size).array(), null, 0, size)).body();
    }

    public List<FuseTypes.DirEntryPlus> readdirplus(long nodeid, long fh, long offset, int size) {
        Reply r = ok(Fuse.READDIRPLUS, 0, call(Fuse.READDIRPLUS, nodeid, rwArgs(fh, offset, size).array(), null, 0, size));
        return FuseTypes.decodeDirentPlus(r.buffer(), r.body().length);
    }

    public void release(long nodeid, long fh) { releaseLike(Fuse.RELEASE, nodeid, fh, Fcntl.O_RDWR); }

    public void releasedir(long nodeid, long fh) { releaseLike(Fuse.RELEASEDIR, nodeid, fh, Fcntl.O_RDONLY); }

    private void releaseLike(int opcode, long nodeid, long fh, int flags) {
        ByteBuffer a = args(Fuse.RELEASE_IN_SIZE).putLong(fh).putInt(flags).putInt(0).putLong(0);
        ok(opcode, 0, call(opcode, nodeid, a.array(), null, 0, 0));
    }

    public void flush(long nodeid, long fh) {
        ByteBuffer a = args(Fuse.FLUSH_IN_SIZE).putLong(fh).putInt(0).putInt(0).putLong(0);
        ok(Fuse.FLUSH, 0, call(Fuse.FLUSH, nodeid, a.array(), null, 0, 0));
    }

    public void fsync(long nodeid, long fh) {
        ByteBuffer a = args(Fuse.FSYNC_IN_SIZE).putLong(fh).putInt(0).putInt(0);
        ok(Fuse.FSYNC, 0, call(Fuse.FSYNC, nodeid, a.array(), null, 0, 0));
    }

    public void unlink(long parent, String name) { ok(Fuse.UNLINK, 0, call(Fuse.UNLINK, parent, name(name), null, 0, 0)); }

    public void rmdir(long parent, String name) { ok(Fuse.RMDIR, 0, call(Fuse.RMDIR, parent, name(name), null, 0, 0)); }

    /** FORGET {@code nlookup} lookups of {@code nodeid}, on the hiprio queue; there is no reply. */
    public void forget(long nodeid, long nlookup) {
        if (hiprio == null) throw new IllegalStateException("no hiprio queue");
        ByteBuffer a = args(Fuse.FORGET_IN_SIZE).putLong(nlookup);
        int len = header(Fuse.FORGET, nodeid, a.array().length, 0);
        MemorySegment.copy(a.array(), 0, in.memory(), ValueLayout.JAVA_BYTE, Fuse.IN_HEADER_SIZE, a.array().length);
        buffers.clear().readable(in.gpa(), len);
        exchange(Fuse.FORGET, hiprio);
    }

    /** SYMLINK {@code name} in {@code parent} pointing at {@code target} (stored as given, never resolved by the server). */
    public FuseTypes.Entry symlink(long parent, String name, String target) {
        byte[] n = name(name), t = name(target);
        byte[] a = concat(n, t);
        Reply r = ok(Fuse.SYMLINK, 0, call(Fuse.SYMLINK, parent, a, null, Fuse.ENTRY_OUT_SIZE, 0));
        return FuseTypes.Entry.decode(need(Fuse.SYMLINK, r, Fuse.ENTRY_OUT_SIZE), 0);
    }

    /** LINK: a new name {@code newName} in {@code newParent} for the inode {@code oldNodeid}. */
    public FuseTypes.Entry link(long oldNodeid, long newParent, String newName) {
        byte[] n = name(newName);
        ByteBuffer a = args(Fuse.LINK_IN_SIZE + n.length).putLong(oldNodeid).put(n);
        Reply r = ok(Fuse.LINK, 0, call(Fuse.LINK, newParent, a.array(), null, Fuse.ENTRY_OUT_SIZE, 0));
        return FuseTypes.Entry.decode(need(Fuse.LINK, r, Fuse.ENTRY_OUT_SIZE), 0);
    }

    /** RENAME (the opcode Linux uses for plain rename(2)). */
    public void rename(long parent, String oldName, long newParent, String newName) {
        byte[] a = concat(args(Fuse.RENAME_IN_SIZE).putLong(newParent).array(), concat(name(oldName), name(newName)));
        ok(Fuse.RENAME, 0, call(Fuse.RENAME, parent, a, null, 0, 0));
    }

    /** RENAME2 with renameat2 flags (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT). */
    public void rename2(long parent, String oldName, long newParent, String newName, int flags) {
        byte[] a = concat(args(Fuse.RENAME2_IN_SIZE).putLong(newParent).putInt(flags).putInt(0).array(), concat(name(oldName), name(newName)));
        ok(Fuse.RENAME2, 0, call(Fuse.RENAME2, parent, a, null, 0, 0));
    }

    /** MKNOD {@code name} with the full {@code mode} (type bits included: S_IFIFO, S_IFCHR...) and device number {@code rdev}. */
    public FuseTypes.Entry mknod(long parent, String name, int mode, int rdev) {
        byte[] n = name(name);
        ByteBuffer a = args(Fuse.MKNOD_IN_SIZE + n.length).putInt(mode).putInt(rdev).putInt(0).putInt(0).put(n);
        Reply r = ok(Fuse.MKNOD, 0, call(Fuse.MKNOD, parent, a.array(), null, Fuse.ENTRY_OUT_SIZE, 0));
        return FuseTypes.Entry.decode(need(Fuse.MKNOD, r, Fuse.ENTRY_OUT_SIZE), 0);
    }

    /** READLINK: the link's target bytes as stored (the server must not follow it). */
    public String readlink(long nodeid) {
        Reply r = ok(Fuse.READLINK, 0, call(Fuse.READLINK, nodeid, new byte[0], null, 0, Fuse.PATH_MAX));
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    /**
     * SETATTR with the FATTR_* bits in {@code valid}; fields whose bit is clear are sent as 0.
     * Times are seconds since the epoch (nanoseconds 0). Returns the attributes after the change.
     */
    public FuseTypes.Attr setattr(long nodeid, int valid, long fh, long size, int mode, int uid, int gid, long atimeSeconds, long mtimeSeconds) {
        ByteBuffer a = args(Fuse.SETATTR_IN_SIZE);
        a.putInt(Fuse.SETATTR_VALID_OFFSET, valid).putLong(Fuse.SETATTR_FH_OFFSET, fh).putLong(Fuse.SETATTR_SIZE_OFFSET, size)
                .putLong(Fuse.SETATTR_ATIME_OFFSET, atimeSeconds).putLong(Fuse.SETATTR_MTIME_OFFSET, mtimeSeconds)
                .putInt(Fuse.SETATTR_MODE_OFFSET, mode).putInt(Fuse.SETATTR_UID_OFFSET, uid).putInt(Fuse.SETATTR_GID_OFFSET, gid);
        Reply r = ok(Fuse.SETATTR, 0, call(Fuse.SETATTR, nodeid, a.array(), null, Fuse.ATTR_OUT_SIZE, 0));
        return FuseTypes.Attr.decode(need(Fuse.SETATTR, r, Fuse.ATTR_OUT_SIZE), Fuse.ATTR_OUT_ATTR_OFFSET);
    }

    /** chmod: SETATTR with FATTR_MODE (permission bits only). */
    public FuseTypes.Attr chmod(long nodeid, int mode) { return setattr(nodeid, Fuse.FATTR_MODE, 0, 0, mode & 07777, 0, 0, 0, 0); }

    /** truncate: SETATTR with FATTR_SIZE (and FATTR_FH when {@code fh} is not negative). */
    public FuseTypes.Attr truncate(long nodeid, long fh, long size) {
        return setattr(nodeid, Fuse.FATTR_SIZE | (fh >= 0 ? Fuse.FATTR_FH : 0), Math.max(fh, 0), size, 0, 0, 0, 0, 0);
    }

    /** SETXATTR {@code name} = {@code value} (flags: XATTR_CREATE 1, XATTR_REPLACE 2); the 16-byte header once SETXATTR_EXT is agreed. */
    public void setxattr(long nodeid, String name, byte[] value, int flags) {
        int hdr = (negotiated & Fuse.SETXATTR_EXT) != 0 ? Fuse.SETXATTR_IN_SIZE : Fuse.SETXATTR_IN_COMPAT_SIZE;
        ByteBuffer h = args(hdr).putInt(value.length).putInt(flags);
        byte[] a = concat(concat(h.array(), name(name)), value);
        ok(Fuse.SETXATTR, 0, call(Fuse.SETXATTR, nodeid, a, null, 0, 0));
    }

    /** GETXATTR: the value, read into a buffer of {@code size} bytes (ERANGE if it is larger). */
    public byte[] getxattr(long nodeid, String name, int size) {
        byte[] a = concat(args(Fuse.GETXATTR_IN_SIZE).putInt(size).putInt(0).array(), name(name));
        return ok(Fuse.GETXATTR, 0, call(Fuse.GETXATTR, nodeid, a, null, 0, size)).body();
    }

    /** LISTXATTR: the NUL-separated names, read into a buffer of {@code size} bytes. */
    public byte[] listxattr(long nodeid, int size) {
        byte[] a = args(Fuse.GETXATTR_IN_SIZE).putInt(size).putInt(0).array();
        return ok(Fuse.LISTXATTR, 0, call(Fuse.LISTXATTR, nodeid, a, null, 0, size)).body();
    }

    public void removexattr(long nodeid, String name) {
        ok(Fuse.REMOVEXATTR, 0, call(Fuse.REMOVEXATTR, nodeid, name(name), null, 0, 0));
    }

    /** STATFS of the file system holding {@code nodeid}. */
    public FuseTypes.StatFs statfs(long nodeid) {
        Reply r = ok(Fuse.STATFS, 0, call(Fuse.STATFS, nodeid, new byte[0], null, Fuse.STATFS_OUT_SIZE, 0));
        return FuseTypes.StatFs.decode(need(Fuse.STATFS, r, Fuse.STATFS_OUT_SIZE));
    }

    /** LSEEK (SEEK_DATA/SEEK_HOLE/SEEK_SET/SEEK_END) on an open file; returns the resulting offset. */
    public long lseek(long nodeid, long fh, long offset, int whence) {
        ByteBuffer a = args(Fuse.LSEEK_IN_SIZE).putLong(fh).putLong(offset).putInt(whence).putInt(0);
        Reply r = ok(Fuse.LSEEK, 0, call(Fuse.LSEEK, nodeid, a.array(), null, Fuse.LSEEK_OUT_SIZE, 0));
        return need(Fuse.LSEEK, r, Fuse.LSEEK_OUT_SIZE).getLong(0);
    }

    /** COPY_FILE_RANGE between two open files; returns the bytes copied. */
    public long copyFileRange(long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut, long offOut, long length, long flags) {
        ByteBuffer a = args(Fuse.COPY_FILE_RANGE_IN_SIZE).putLong(fhIn).putLong(offIn).putLong(nodeOut).putLong(fhOut)
                .putLong(offOut).putLong(length).putLong(flags);
        Reply r = ok(Fuse.COPY_FILE_RANGE, 0, call(Fuse.COPY_FILE_RANGE, nodeIn, a.array(), null, Fuse.WRITE_OUT_SIZE, 0));
        return Integer.toUnsignedLong(need(Fuse.COPY_FILE_RANGE, r, Fuse.WRITE_OUT_SIZE).getInt(0));
    }

    /** FALLOCATE (mode: 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE...). */
    public void fallocate(long nodeid, long fh, long offset, long length, int mode) {
        ByteBuffer a = args(Fuse.FALLOCATE_IN_SIZE).putLong(fh).putLong(offset).putLong(length).putInt(mode).putInt(0);
        ok(Fuse.FALLOCATE, 0, call(Fuse.FALLOCATE, nodeid, a.array(), null, 0, 0));
    }

    /** READDIR (plain fuse_dirent records, no attributes, no lookups counted). */
    public List<FuseTypes.DirEntry> readdir(long nodeid, long fh, long offset, int size) {
        Reply r = ok(Fuse.READDIR, 0, call(Fuse.READDIR, nodeid, rwArgs(fh, offset, size).array(), null, 0, size));
        return FuseTypes.decodeDirent(r.buffer(), r.body().length);
    }

    /** ACCESS with an R_OK/W_OK/X_OK mask. */
    public void access(long nodeid, int mask) {
        ok(Fuse.ACCESS, 0, call(Fuse.ACCESS, nodeid, args(Fuse.ACCESS_IN_SIZE).putInt(mask).putInt(0).array(), null, 0, 0));
    }

    /** STATX is 7.39+; not sent. FSYNCDIR on an open directory. */
    public void fsyncdir(long nodeid, long fh) {
        ByteBuffer a = args(Fuse.FSYNC_IN_SIZE).putLong(fh).putInt(0).putInt(0);
        ok(Fuse.FSYNCDIR, 0, call(Fuse.FSYNCDIR, nodeid, a.array(), null, 0, 0));
    }

    /** BATCH_FORGET of {@code nodeids[i]} by {@code nlookups[i]}, on the hiprio queue (no reply). */
    public void batchForget(long[] nodeids, long[] nlookups) {
        if (hiprio == null) throw new IllegalStateException("no hiprio queue");
        ByteBuffer a = args(Fuse.BATCH_FORGET_IN_SIZE + nodeids.length * Fuse.FORGET_ONE_SIZE).putInt(nodeids.length).putInt(0);
        for (int i = 0; i < nodeids.length; i++) a.putLong(nodeids[i]).putLong(nlookups[i]);
        int len = header(Fuse.BATCH_FORGET, 0, a.array().length, 0);
        MemorySegment.copy(a.array(), 0, in.memory(), ValueLayout.JAVA_BYTE, Fuse.IN_HEADER_SIZE, a.array().length);
        buffers.clear().readable(in.gpa(), len);
        exchange(Fuse.BATCH_FORGET, hiprio);
    }

    /** The INIT flags both sides agreed on (0 before {@link #init}). */
    public long negotiatedFlags() { return negotiated; }

    // ---- any request -----------------------------------------------------------------------------------

    /**
     * Sends opcode {@code opcode} for {@code nodeid} with {@code args} (+ {@code data} as a second readable
     * buffer), offering {@code outArgBytes + readBytes} writable bytes after the out header. Returns the
     * reply whatever its error; throws only when there is no usable reply (timeout, short or lying header).
     */
    public Reply call(int opcode, long nodeid, byte[] args, byte[] data, int outArgBytes, int readBytes) {
        long unique = nextUnique;
        int dataLen = data == null ? 0 : data.length;
        int len = header(opcode, nodeid, args.length, dataLen);
        MemorySegment.copy(args, 0, in.memory(), ValueLayout.JAVA_BYTE, Fuse.IN_HEADER_SIZE, args.length);
        buffers.clear().readable(in.gpa(), len - dataLen);
        if (dataLen > 0) {
            MemorySegment.copy(data, 0, in.memory(), ValueLayout.JAVA_BYTE, 4096, dataLen);
            buffers.readable(in.gpa() + 4096, dataLen);
        }
        int outBytes = Fuse.OUT_HEADER_SIZE + outArgBytes + readBytes;
        out.memory().asSlice(0, Fuse.OUT_HEADER_SIZE).fill((byte) 0);
        buffers.writable(out.gpa(), outBytes);
        int used = exchange(opcode, requests);
        return parse(opcode, unique, used, outBytes);
    }

    /**
     * Sends {@code readable} as the device-readable part exactly as given (headers may lie) and offers
     * {@code writableBytes}. Returns the used length and the bytes the server wrote, unparsed.
     */
    public byte[] raw(byte[] readable, int writableBytes, boolean onHiprio) {
        MemorySegment.copy(readable, 0, in.memory(), ValueLayout.JAVA_BYTE, 0, readable.length);
        buffers.clear().readable(in.gpa(), readable.length);
        if (writableBytes > 0) buffers.writable(out.gpa(), writableBytes);
        out.memory().asSlice(0, writableBytes).fill((byte) 0);
        int used = exchange(readable.length >= 8 ? MemorySegment.ofArray(readable).get(LE_INT, 4) : 0, onHiprio ? hiprio : requests);
        return out.memory().asSlice(0, Math.min(Integer.toUnsignedLong(used), writableBytes)).toArray(ValueLayout.JAVA_BYTE);
    }

    /** A fresh unique id (for {@link #raw} requests). */
    public long nextUnique() { return nextUnique++; }

    /** Writes the in header for a request; returns the total length it claims. */
    private int header(int opcode, long nodeid, int argBytes, int dataBytes) {
        int len = Fuse.IN_HEADER_SIZE + argBytes + dataBytes;
        MemorySegment h = in.memory();
        h.set(LE_INT, Fuse.IN_LEN_OFFSET, len);
        h.set(LE_INT, Fuse.IN_OPCODE_OFFSET, opcode);
        h.set(LE_LONG, Fuse.IN_UNIQUE_OFFSET, nextUnique++);
        h.set(LE_LONG, Fuse.IN_NODEID_OFFSET, nodeid);
        h.set(LE_INT, Fuse.IN_UID_OFFSET, uid);
        h.set(LE_INT, Fuse.IN_GID_OFFSET, gid);
        h.set(LE_INT, Fuse.IN_PID_OFFSET, pid);
        h.set(LE_SHORT, Fuse.IN_TOTAL_EXTLEN_OFFSET, (short) 0);
        h.set(LE_SHORT, Fuse.IN_TOTAL_EXTLEN_OFFSET + 2, (short) 0);
        return len;
    }

    /** Adds the chain in {@link #buffers} to {@code q}, kicks, and waits for its completion; returns the used length. */
    private int exchange(int opcode, VirtQueue q) {
        DriverRing ring = q.ring();
        int id = ring.add(buffers, false);
        if (id < 0) throw new FuseException(opcode, 0, "the queue is full (" + ring.inFlight() + " requests never completed)");
        q.publishAndKick();
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            int got = ring.pollUsed();
            if (got == id) return ring.usedLength();
            if (got == DriverRing.BAD_USED) throw new FuseException(opcode, 0, "invalid used ring: " + ring.lastViolation());
            if (got >= 0) continue;   // a request abandoned earlier (timed out) completing late
            if (ring.enableInterrupts()) {
                ring.disableInterrupts();
                continue;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                ring.disableInterrupts();
                throw new FuseException(opcode, 0, "no reply within " + timeoutMillis + " ms");
            }
            pollFd.set(ValueLayout.JAVA_INT, 0, q.callFd().fd());
            pollFd.set(ValueLayout.JAVA_SHORT, 4, (short) 1);   // POLLIN
            pollFd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            int r = LibC.poll(pollFd, 1, (int) Math.min(left, Integer.MAX_VALUE));
            ring.disableInterrupts();
            if (r < 0 && r != -Errno.EINTR) throw new FuseException(opcode, 0, "poll: " + Errno.describe(-r));
            q.callFd().drain();
        }
    }

    private Reply parse(int opcode, long unique, int usedLength, int offered) {
        long used = Integer.toUnsignedLong(usedLength);
        if (used < Fuse.OUT_HEADER_SIZE) throw new FuseException(opcode, 0, "used length " + used + " is shorter than fuse_out_header");
        if (used > offered) throw new FuseException(opcode, 0, "used length " + used + " exceeds the " + offered + " bytes offered");
        MemorySegment o = out.memory();
        int hlen = o.get(LE_INT, Fuse.OUT_LEN_OFFSET), error = o.get(LE_INT, Fuse.OUT_ERROR_OFFSET);
        long u = o.get(LE_LONG, Fuse.OUT_UNIQUE_OFFSET);
        if (u != unique) throw new FuseException(opcode, 0, "reply unique " + u + " for request " + unique);
        if (Integer.toUnsignedLong(hlen) != used) throw new FuseException(opcode, 0, "out header length " + Integer.toUnsignedString(hlen) + " but used length " + used);
        if (error > 0 || error < -4095) throw new FuseException(opcode, 0, "out header error " + error + " is not a negative errno");
        byte[] body = o.asSlice(Fuse.OUT_HEADER_SIZE, used - Fuse.OUT_HEADER_SIZE).toArray(ValueLayout.JAVA_BYTE);
        return new Reply(error, u, hlen, usedLength, body);
    }

    private static Reply ok(int opcode, int unused, Reply r) {
        if (r.error() != 0) throw new FuseException(opcode, -r.error(), "");
        return r;
    }

    private static ByteBuffer need(int opcode, Reply r, int bytes) {
        if (r.body().length < bytes) throw new FuseException(opcode, 0, "reply of " + r.body().length + " bytes, expected " + bytes);
        return r.buffer();
    }

    private static ByteBuffer rwArgs(long fh, long offset, int size) {
        return args(Fuse.READ_IN_SIZE).putLong(fh).putLong(offset).putInt(size).putInt(0).putLong(0).putInt(0).putInt(0);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static ByteBuffer args(int size) { return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN); }

    private static byte[] name(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    @Override
    public void close() { arena.close(); }
}
