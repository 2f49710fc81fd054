package org.vhostj.fs.passthrough;

import static org.vhostj.fs.fuse.Fuse.*;
import static org.vhostj.sys.Errno.*;
import static org.vhostj.sys.Fcntl.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.FsCalls;
import org.vhostj.sys.IovecArray;
import org.vhostj.sys.LibC;
import org.vhostj.sys.Statx;

/**
 * A passthrough filesystem over one host directory, the FUSE server's backend. Owns the inode table (O_PATH
 * fds keyed by dev/ino/mnt_id), the handle table, an O_PATH fd of the shared root and an fd of
 * /proc/self/fd. Thread-safe: every worker calls it with its own {@link Scratch}.
 *
 * <p>Confinement, in layers:
 * <ul>
 * <li>The server has already checked every name: one component, no '/', no NUL, not empty, at most
 *     NAME_MAX; "." and ".." reach only {@link #lookup}, where ".." of the root is the root.</li>
 * <li>Every name is opened relative to a parent inode fd with openat2 and
 *     {@code RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_SYMLINKS} plus {@code O_NOFOLLOW}: the kernel
 *     refuses to leave the parent or follow any symlink. Other calls are *at() relative to the parent fd
 *     with a single checked component; no guest path is ever resolved from the shared root by string.</li>
 * <li>Inodes are O_PATH fds; I/O fds are reopened through /proc/self/fd/N from the exact inode the guest
 *     looked up (a symlink swapped in after LOOKUP does not matter), and only for regular files and
 *     directories: FIFOs, sockets and device nodes are never opened (CVE-2020-35517). MKNOD creates FIFOs
 *     and sockets but refuses device nodes (EPERM).</li>
 * <li>LINK links only inodes in the table, all of which were reached beneath the root.</li>
 * </ul>
 * Each method returns 0 or a count on success and {@code -errno} on failure; none throws for guest input.
 */
public final class PassthroughFs implements AutoCloseable {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int STATX_MASK = Statx.STATX_BASIC_STATS | Statx.STATX_MNT_ID;
    private static final long RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
    /** Open flags the guest may pass through; O_DIRECT, O_NOATIME, O_CREAT/O_EXCL and anything unknown are dropped. */
    private static final int OPEN_FLAGS_KEPT = O_ACCMODE | O_APPEND | O_TRUNC | O_NONBLOCK | O_SYNC | O_DSYNC | O_LARGEFILE;
    private static final int UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;
    public static final int MAX_INODES = 1 << 20, MAX_HANDLES = 1 << 20;

    private final FsConfig config;
    private final InodeTable inodes;
    private final HandleTable handles = new HandleTable(MAX_HANDLES);
    private final int procSelfFd;
    private final int rootReadFd;
    private final boolean switchCredentials;

    /** Opens {@code sharedDir} (setup: throws {@link ErrnoException} or IllegalArgumentException). */
    public PassthroughFs(Path sharedDir, FsConfig config) {
        this.config = config;
        int root = -1, proc = -1, rootRead = -1;
        try (Arena a = Arena.ofConfined()) {
            root = ErrnoException.check("open(" + sharedDir + ")",
                    LibC.openat(AT_FDCWD, a.allocateFrom(sharedDir.toString()), O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
            MemorySegment st = a.allocate(Statx.SIZE, 8);
            ErrnoException.check("statx(" + sharedDir + ")", LibC.statx(root, a.allocateFrom(""), AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MASK, st));
            if ((Statx.mode(st) & S_IFMT) != S_IFDIR) throw new IllegalArgumentException("not a directory: " + sharedDir);
            proc = ErrnoException.check("open(/proc/self/fd)",
                    LibC.openat(AT_FDCWD, a.allocateFrom("/proc/self/fd"), O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
            rootRead = ErrnoException.check("open(" + sharedDir + ", O_RDONLY)",
                    LibC.openat(root, a.allocateFrom("."), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
            inodes = new InodeTable(root, dev(st), Statx.ino(st), Statx.mntId(st), MAX_INODES);
        } catch (RuntimeException e) {
            for (int fd : new int[] {root, proc, rootRead}) if (fd >= 0) LibC.close(fd);
            throw e;
        }
        procSelfFd = proc;
        rootReadFd = rootRead;
        switchCredentials = LibC.geteuid() == 0;
    }

    public FsConfig config() { return config; }

    /** Inodes the guest holds, the root included (for tests and metrics). */
    public int inodeCount() { return inodes.size(); }

    public int handleCount() { return handles.size(); }

    private static long dev(MemorySegment st) {
        return (Integer.toUnsignedLong(Statx.devMajor(st)) << 32) | Integer.toUnsignedLong(Statx.devMinor(st));
    }

    private static int stat(Scratch s, int fd) {
        return LibC.statx(fd, s.empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MASK, s.statx);
    }

    /** openat2 beneath {@code dirfd}, never following a symlink; EAGAIN (a concurrent rename) is retried. */
    private static int openBeneath(Scratch s, int dirfd, MemorySegment name, int flags, int mode) {
        FsCalls.openHow(s.how, flags | O_NOFOLLOW | O_CLOEXEC, mode, RESOLVE);
        int fd;
        int tries = 0;
        do fd = FsCalls.openat2(dirfd, name, s.how); while (fd == -EAGAIN && ++tries < 8);
        return fd;
    }

    /** Reopens inode fd {@code fd} for I/O through /proc/self/fd (only call it for regular files and directories). */
    private int reopen(Scratch s, int fd, int flags) {
        return LibC.openat(procSelfFd, s.fdName(fd), (flags & ~O_NOFOLLOW) | O_CLOEXEC, 0);
    }

    private boolean asGuest(int uid, int gid) {
        if (!switchCredentials || (uid == 0 && gid == 0)) return false;
        FsCalls.setfsgid(gid);
        FsCalls.setfsuid(uid);
        return true;
    }

    private static void asDaemon(boolean switched) {
        if (!switched) return;
        FsCalls.setfsuid(0);
        FsCalls.setfsgid(0);
    }

    // ---- replies ---------------------------------------------------------------------------------------

    private static int encodeDev(int major, int minor) {   // the kernel's new_encode_dev
        return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
    }

    /** Writes a fuse_attr for the statx in {@code s} at {@code off}. */
    private static void fillAttr(Scratch s, MemorySegment out, long off) {
        MemorySegment st = s.statx;
        out.set(LE_LONG, off + ATTR_INO_OFFSET, Statx.ino(st));
        out.set(LE_LONG, off + ATTR_SIZE_OFFSET, Statx.size(st));
        out.set(LE_LONG, off + ATTR_BLOCKS_OFFSET, Statx.blocks(st));
        out.set(LE_LONG, off + ATTR_ATIME_OFFSET, Statx.seconds(st, Statx.ATIME_OFFSET));
        out.set(LE_LONG, off + ATTR_MTIME_OFFSET, Statx.seconds(st, Statx.MTIME_OFFSET));
        out.set(LE_LONG, off + ATTR_CTIME_OFFSET, Statx.seconds(st, Statx.CTIME_OFFSET));
        out.set(LE_INT, off + ATTR_ATIMENSEC_OFFSET, Statx.nanos(st, Statx.ATIME_OFFSET));
        out.set(LE_INT, off + ATTR_MTIMENSEC_OFFSET, Statx.nanos(st, Statx.MTIME_OFFSET));
        out.set(LE_INT, off + ATTR_CTIMENSEC_OFFSET, Statx.nanos(st, Statx.CTIME_OFFSET));
        out.set(LE_INT, off + ATTR_MODE_OFFSET, Statx.mode(st));
        out.set(LE_INT, off + ATTR_NLINK_OFFSET, Statx.nlink(st));
        out.set(LE_INT, off + ATTR_UID_OFFSET, Statx.uid(st));
        out.set(LE_INT, off + ATTR_GID_OFFSET, Statx.gid(st));
        out.set(LE_INT, off + ATTR_RDEV_OFFSET, encodeDev(Statx.rdevMajor(st), Statx.rdevMinor(st)));
        out.set(LE_INT, off + ATTR_BLKSIZE_OFFSET, Statx.blksize(st));
        out.set(LE_INT, off + ATTR_FLAGS_OFFSET, 0);
    }

    /** Writes a fuse_entry_out for {@code inode} (its statx is in {@code s}) at {@code off}. */
    private void fillEntry(Scratch s, Inode inode, MemorySegment out, long off) {
        long t = config.cache().timeoutSeconds;
        out.set(LE_LONG, off + ENTRY_NODEID_OFFSET, inode.nodeid);
        out.set(LE_LONG, off + ENTRY_GENERATION_OFFSET, 0);
        out.set(LE_LONG, off + ENTRY_VALID_OFFSET, t);
        out.set(LE_LONG, off + ENTRY_ATTR_VALID_OFFSET, t);
        out.set(LE_INT, off + ENTRY_VALID_NSEC_OFFSET, 0);
        out.set(LE_INT, off + ENTRY_ATTR_VALID_NSEC_OFFSET, 0);
        fillAttr(s, out, off + ENTRY_ATTR_OFFSET);
    }

    private int openFlags(boolean dir) {
        return switch (config.cache()) {
            case NEVER -> dir ? 0 : FOPEN_DIRECT_IO;
            case METADATA -> dir ? FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE : FOPEN_DIRECT_IO;
            case AUTO -> 0;
            case ALWAYS -> dir ? FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE : FOPEN_KEEP_CACHE;
        };
    }

    // ---- lookup and forget -----------------------------------------------------------------------------

    /** Opens {@code name} beneath {@code dirfd} as O_PATH and records the lookup; the inode goes to s.found, pinned. */
    private int lookupInto(Scratch s, int dirfd, MemorySegment name) {
        int fd = openBeneath(s, dirfd, name, O_PATH, 0);
        if (fd < 0) return fd;
        return intern(s, fd);
    }

    /** Takes ownership of O_PATH {@code fd}: stats it and records one lookup in s.found (pinned). */
    private int intern(Scratch s, int fd) {
        int r = stat(s, fd);
        if (r < 0) {
            LibC.close(fd);
            return r;
        }
        Inode i = inodes.intern(fd, dev(s.statx), Statx.ino(s.statx), Statx.mntId(s.statx), Statx.mode(s.statx) & S_IFMT);
        if (i == null) return -ENFILE;
        s.found = i;
        return 0;
    }

    /**
     * Replies an entry for s.found (and unpins it). {@code statted}: s.statx already holds its attributes
     * ({@link #intern} just took them from an fd of the same host inode), so no second statx is needed;
     * otherwise it is stat'ed here, and on a failed stat the lookup is undone.
     */
    private int entryReply(Scratch s, MemorySegment out, long off, boolean statted) {
        Inode i = s.found;
        s.found = null;
        try {
            if (!statted) {
                int r = stat(s, i.fd);
                if (r < 0) {
                    inodes.forget(i.nodeid, 1);
                    return r;
                }
            }
            fillEntry(s, i, out, off);
            return 0;
        } finally {
            i.unpin();
        }
    }

    private static boolean isDot(MemorySegment name) {
        return name.get(ValueLayout.JAVA_BYTE, 0) == '.' && name.get(ValueLayout.JAVA_BYTE, 1) == 0;
    }

    private static boolean isDotDot(MemorySegment name) {
        return name.get(ValueLayout.JAVA_BYTE, 0) == '.' && name.get(ValueLayout.JAVA_BYTE, 1) == '.'
                && name.get(ValueLayout.JAVA_BYTE, 2) == 0;
    }

    /** LOOKUP {@code name} in {@code parent}: a fuse_entry_out at {@code off}. "..": of the root is the root. */
    public int lookup(Scratch s, long parent, MemorySegment name, MemorySegment out, long off) {
        Inode p = inodes.pin(parent);
        if (p == null) return -ESTALE;
        try {
            if (!p.isDir()) return -ENOTDIR;
            int r;
            boolean statted = true;
            if (isDot(name) || (isDotDot(name) && p == inodes.root)) {
                if (!p.pin()) return -ESTALE;
                if (!inodes.addLookup(p)) { p.unpin(); return -ESTALE; }
                s.found = p;
                statted = false;
                r = 0;
            } else if (isDotDot(name)) {
                // The parent of a directory below the root is inside the share (or the root itself).
                int fd = LibC.openat(p.fd, s.dotdot, O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY, 0);
                r = fd < 0 ? fd : intern(s, fd);
            } else {
                r = lookupInto(s, p.fd, name);
            }
            return r < 0 ? r : entryReply(s, out, off, statted);
        } finally {
            p.unpin();
        }
    }

    /** FORGET / BATCH_FORGET one entry. */
    public void forget(long nodeid, long nlookup) { inodes.forget(nodeid, nlookup); }

    /** DESTROY: the guest unmounted; every handle and every inode but the root goes. */
    public void destroy() {
        handles.closeAll();
        inodes.forgetAll();
    }

    // ---- attributes ------------------------------------------------------------------------------------

    /** GETATTR: a fuse_attr_out at {@code off}. */
    public int getattr(Scratch s, long nodeid, MemorySegment out, long off) {
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int r = stat(s, i.fd);
            if (r < 0) return r;
            attrOut(s, out, off);
            return 0;
        } finally {
            i.unpin();
        }
    }

    private void attrOut(Scratch s, MemorySegment out, long off) {
        out.set(LE_LONG, off + ATTR_OUT_VALID_OFFSET, config.cache().timeoutSeconds);
        out.set(LE_INT, off + ATTR_OUT_VALID_NSEC_OFFSET, 0);
        out.set(LE_INT, off + ATTR_OUT_VALID_NSEC_OFFSET + 4, 0);
        fillAttr(s, out, off + ATTR_OUT_ATTR_OFFSET);
    }

    /**
     * SETATTR with the fuse_setattr_in at {@code in}+{@code inOff}: mode, owner, size, times; then a
     * fuse_attr_out at {@code off}.
     */
    public int setattr(Scratch s, long nodeid, MemorySegment in, long inOff, MemorySegment out, long off) {
        int valid = in.get(LE_INT, inOff + SETATTR_VALID_OFFSET);
        if (config.readonly() && (valid & (FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME | FATTR_MTIME
                | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) != 0) return -EROFS;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        Handle h = null;
        try {
            if ((valid & FATTR_FH) != 0) {
                h = handles.pin(in.get(LE_LONG, inOff + SETATTR_FH_OFFSET), nodeid);
                if (h == null) return -EBADF;
            }
            int r;
            if ((valid & FATTR_MODE) != 0) {
                int mode = in.get(LE_INT, inOff + SETATTR_MODE_OFFSET) & 07777;
                r = h != null ? LibC.fchmod(h.fd, mode) : LibC.fchmodat(procSelfFd, s.fdName(i.fd), mode, 0);
                if (r < 0) return r;
            }
            if ((valid & (FATTR_UID | FATTR_GID)) != 0) {
                int uid = (valid & FATTR_UID) != 0 ? in.get(LE_INT, inOff + SETATTR_UID_OFFSET) : -1;
                int gid = (valid & FATTR_GID) != 0 ? in.get(LE_INT, inOff + SETATTR_GID_OFFSET) : -1;
                r = LibC.fchownat(i.fd, s.empty, uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
                if (r < 0) return r;
            }
            if ((valid & FATTR_SIZE) != 0) {
                long size = in.get(LE_LONG, inOff + SETATTR_SIZE_OFFSET);
                if (h != null) r = LibC.ftruncate(h.fd, size);
                else if (!i.isRegular()) r = i.isDir() ? -EISDIR : -EINVAL;
                else {
                    int fd = reopen(s, i.fd, O_WRONLY);
                    if (fd < 0) return fd;
                    r = LibC.ftruncate(fd, size);
                    LibC.close(fd);
                }
                if (r < 0) return r;
            }
            if ((valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) != 0) {
                setTime(s.times, 0, valid, FATTR_ATIME, FATTR_ATIME_NOW, in.get(LE_LONG, inOff + SETATTR_ATIME_OFFSET),
                        in.get(LE_INT, inOff + SETATTR_ATIMENSEC_OFFSET));
                setTime(s.times, 16, valid, FATTR_MTIME, FATTR_MTIME_NOW, in.get(LE_LONG, inOff + SETATTR_MTIME_OFFSET),
                        in.get(LE_INT, inOff + SETATTR_MTIMENSEC_OFFSET));
                r = h != null ? LibC.futimens(h.fd, s.times) : LibC.utimensat(procSelfFd, s.fdName(i.fd), s.times, 0);
                if (r < 0) return r;
            }
            r = stat(s, i.fd);
            if (r < 0) return r;
            attrOut(s, out, off);
            return 0;
        } finally {
            if (h != null) h.unpin();
            i.unpin();
        }
    }

    private static void setTime(MemorySegment times, long at, int valid, int set, int now, long sec, int nsec) {
        if ((valid & now) != 0) { times.set(ValueLayout.JAVA_LONG, at, 0); times.set(ValueLayout.JAVA_LONG, at + 8, UTIME_NOW); }
        else if ((valid & set) != 0) { times.set(ValueLayout.JAVA_LONG, at, sec); times.set(ValueLayout.JAVA_LONG, at + 8, Integer.toUnsignedLong(nsec)); }
        else { times.set(ValueLayout.JAVA_LONG, at, 0); times.set(ValueLayout.JAVA_LONG, at + 8, UTIME_OMIT); }
    }

    /** READLINK: the target's bytes (no NUL) at {@code off}, at most {@code max}; returns the length. */
    public int readlink(Scratch s, long nodeid, MemorySegment out, long off, int max) {
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            if (i.type != S_IFLNK) return -EINVAL;
            return (int) LibC.readlinkat(i.fd, s.empty, out.asSlice(off, max), max);
        } finally {
            i.unpin();
        }
    }

    /** ACCESS: checks {@code mask} for the request's uid/gid against the inode's mode (no supplementary groups). */
    public int access(Scratch s, long nodeid, int mask, int uid, int gid) {
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int r = stat(s, i.fd);
            if (r < 0) return r;
            mask &= 7;
            if (mask == 0) return 0;
            if ((mask & FsCalls.W_OK) != 0 && config.readonly()) return -EROFS;
            int mode = Statx.mode(s.statx);
            if (uid == 0) {
                return (mask & FsCalls.X_OK) != 0 && (mode & 0111) == 0 && !i.isDir() ? -EACCES : 0;
            }
            int bits = uid == Statx.uid(s.statx) ? mode >> 6 : gid == Statx.gid(s.statx) ? mode >> 3 : mode;
            return (mask & ~bits & 7) != 0 ? -EACCES : 0;
        } finally {
            i.unpin();
        }
    }

    /** STATFS: a fuse_kstatfs at {@code off}. */
    public int statfs(Scratch s, long nodeid, MemorySegment out, long off) {
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int r = FsCalls.fstatfs(i.fd, s.statfs);
            if (r < 0) return r;
            MemorySegment st = s.statfs;
            out.set(LE_LONG, off + STATFS_BLOCKS_OFFSET, st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_BLOCKS_OFFSET));
            out.set(LE_LONG, off + STATFS_BFREE_OFFSET, st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_BFREE_OFFSET));
            out.set(LE_LONG, off + STATFS_BAVAIL_OFFSET, st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_BAVAIL_OFFSET));
            out.set(LE_LONG, off + STATFS_FILES_OFFSET, st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_FILES_OFFSET));
            out.set(LE_LONG, off + STATFS_FFREE_OFFSET, st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_FFREE_OFFSET));
            out.set(LE_INT, off + STATFS_BSIZE_OFFSET, (int) st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_BSIZE_OFFSET));
            out.set(LE_INT, off + STATFS_NAMELEN_OFFSET, (int) st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_NAMELEN_OFFSET));
            out.set(LE_INT, off + STATFS_FRSIZE_OFFSET, (int) st.get(ValueLayout.JAVA_LONG, FsCalls.STATFS_FRSIZE_OFFSET));
            out.asSlice(off + 52, KSTATFS_SIZE - 52).fill((byte) 0);
            return 0;
        } finally {
            i.unpin();
        }
    }

    // ---- creating and removing names -------------------------------------------------------------------

    /** MKNOD: regular files, FIFOs and sockets; device nodes are refused with EPERM. */
    public int mknod(Scratch s, long parent, MemorySegment name, int mode, int rdev, int uid, int gid, MemorySegment out, long off) {
        int type = mode & S_IFMT;
        if (type == S_IFCHR || type == S_IFBLK) return -EPERM;
        if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return -EINVAL;
        return create(s, parent, name, uid, gid, out, off, 0, mode & (S_IFMT | 07777), null);
    }

    public int mkdir(Scratch s, long parent, MemorySegment name, int mode, int uid, int gid, MemorySegment out, long off) {
        return create(s, parent, name, uid, gid, out, off, 1, mode & 07777, null);
    }

    /** SYMLINK {@code name} → {@code target} (any bytes: the target is never followed here). */
    public int symlink(Scratch s, long parent, MemorySegment name, MemorySegment target, int uid, int gid, MemorySegment out, long off) {
        return create(s, parent, name, uid, gid, out, off, 2, 0, target);
    }

    private int create(Scratch s, long parent, MemorySegment name, int uid, int gid, MemorySegment out, long off,
                       int kind, int mode, MemorySegment target) {
        if (config.readonly()) return -EROFS;
        Inode p = inodes.pin(parent);
        if (p == null) return -ESTALE;
        try {
            if (!p.isDir()) return -ENOTDIR;
            boolean switched = asGuest(uid, gid);
            int r;
            try {
                r = switch (kind) {
                    case 0 -> LibC.mknodat(p.fd, name, mode, 0);
                    case 1 -> LibC.mkdirat(p.fd, name, mode);
                    default -> LibC.symlinkat(target, p.fd, name);
                };
            } finally {
                asDaemon(switched);
            }
            if (r < 0) return r;
            r = lookupInto(s, p.fd, name);
            return r < 0 ? r : entryReply(s, out, off, true);
        } finally {
            p.unpin();
        }
    }

    public int unlink(Scratch s, long parent, MemorySegment name, boolean dir) {
        if (config.readonly()) return -EROFS;
        Inode p = inodes.pin(parent);
        if (p == null) return -ESTALE;
        try {
            return LibC.unlinkat(p.fd, name, dir ? AT_REMOVEDIR : 0);
        } finally {
            p.unpin();
        }
    }

    public int rename(Scratch s, long oldParent, MemorySegment oldName, long newParent, MemorySegment newName, int flags) {
        if (config.readonly()) return -EROFS;
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) != 0) return -EINVAL;
        Inode a = inodes.pin(oldParent);
        if (a == null) return -ESTALE;
        try {
            Inode b = inodes.pin(newParent);
            if (b == null) return -ESTALE;
            try {
                return LibC.renameat2(a.fd, oldName, b.fd, newName, flags);
            } finally {
                b.unpin();
            }
        } finally {
            a.unpin();
        }
    }

    /** LINK a known inode under {@code newParent}; an entry for it at {@code off}. */
    public int link(Scratch s, long nodeid, long newParent, MemorySegment newName, MemorySegment out, long off) {
        if (config.readonly()) return -EROFS;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            if (i.isDir()) return -EPERM;
            Inode p = inodes.pin(newParent);
            if (p == null) return -ESTALE;
            try {
                int r = LibC.linkat(procSelfFd, s.fdName(i.fd), p.fd, newName, AT_SYMLINK_FOLLOW);
                if (r < 0) return r;
                r = lookupInto(s, p.fd, newName);
                return r < 0 ? r : entryReply(s, out, off, true);
            } finally {
                p.unpin();
            }
        } finally {
            i.unpin();
        }
    }

    // ---- open files ------------------------------------------------------------------------------------

    private int checkOpenFlags(int flags) {
        if (config.readonly() && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0)) return -EROFS;
        return 0;
    }

    private void openOut(MemorySegment out, long off, long fh, boolean dir) {
        out.set(LE_LONG, off, fh);
        out.set(LE_INT, off + 8, openFlags(dir));
        out.set(LE_INT, off + 12, 0);
    }

    /** OPEN: a fuse_open_out at {@code off}. Only regular files (and directories read-only) are opened. */
    public int open(Scratch s, long nodeid, int flags, MemorySegment out, long off) {
        int r = checkOpenFlags(flags);
        if (r < 0) return r;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            boolean dir = i.isDir();
            if (!i.isRegular() && !dir) return i.type == S_IFLNK ? -ELOOP : -ENXIO;
            if (dir && (flags & O_ACCMODE) != O_RDONLY) return -EISDIR;
            int fd = reopen(s, i.fd, flags & OPEN_FLAGS_KEPT);
            if (fd < 0) return fd;
            long fh = handles.open(fd, nodeid, dir, (flags & O_ACCMODE) != O_RDONLY);
            if (fh == 0) return -ENFILE;
            openOut(out, off, fh, dir);
            return 0;
        } finally {
            i.unpin();
        }
    }

    /**
     * CREATE {@code name} in {@code parent}: a fuse_entry_out then a fuse_open_out at {@code off}. The file is
     * created with O_EXCL; if it exists and the guest did not ask O_EXCL, the existing inode is opened only
     * if it is a regular file (an existing FIFO or device node is never opened).
     */
    public int create(Scratch s, long parent, MemorySegment name, int flags, int mode, int uid, int gid, MemorySegment out, long off) {
        if (config.readonly()) return -EROFS;
        Inode p = inodes.pin(parent);
        if (p == null) return -ESTALE;
        try {
            if (!p.isDir()) return -ENOTDIR;
            int kept = flags & OPEN_FLAGS_KEPT;
            boolean switched = asGuest(uid, gid);
            int fd;
            try {
                fd = openBeneath(s, p.fd, name, kept | O_CREAT | O_EXCL, mode & 07777);
            } finally {
                asDaemon(switched);
            }
            int r;
            boolean statted = true;   // s.statx holds the file's attributes from intern
            if (fd >= 0) {
                int pathFd = LibC.openat(procSelfFd, s.fdName(fd), O_PATH | O_CLOEXEC, 0);
                if (pathFd < 0) { LibC.close(fd); return pathFd; }
                r = intern(s, pathFd);
                if (r < 0) { LibC.close(fd); return r; }
            } else {
                if (fd != -EEXIST || (flags & O_EXCL) != 0) return fd;
                r = lookupInto(s, p.fd, name);
                if (r < 0) return r;
                Inode found = s.found;
                if (!found.isRegular()) {
                    s.found = null;
                    found.unpin();
                    inodes.forget(found.nodeid, 1);
                    return found.isDir() ? -EISDIR : -EEXIST;
                }
                fd = reopen(s, found.fd, kept);
                if (fd < 0) {
                    s.found = null;
                    found.unpin();
                    inodes.forget(found.nodeid, 1);
                    return fd;
                }
                statted = (kept & O_TRUNC) == 0;   // O_TRUNC changed the size after the lookup's statx
            }
            Inode created = s.found;
            long fh = handles.open(fd, created.nodeid, false, (kept & O_ACCMODE) != O_RDONLY);
            r = entryReply(s, out, off, statted);
            if (r < 0 || fh == 0) {
                if (fh != 0) handles.release(fh, created.nodeid, false);
                return r < 0 ? r : -ENFILE;
            }
            openOut(out, off + ENTRY_OUT_SIZE, fh, false);
            return 0;
        } finally {
            p.unpin();
        }
    }

    /** OPENDIR: a fuse_open_out at {@code off}. */
    public int opendir(Scratch s, long nodeid, MemorySegment out, long off) {
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            if (!i.isDir()) return -ENOTDIR;
            int fd = reopen(s, i.fd, O_RDONLY | O_DIRECTORY);
            if (fd < 0) return fd;
            long fh = handles.open(fd, nodeid, true, false);
            if (fh == 0) return -ENFILE;
            openOut(out, off, fh, true);
            return 0;
        } finally {
            i.unpin();
        }
    }

    public int release(long nodeid, long fh, boolean dir) { return handles.release(fh, nodeid, dir) ? 0 : -EBADF; }

    /** FLUSH: nothing to do (no POSIX locks are offered), but the handle must be the inode's. */
    public int flush(long nodeid, long fh) {
        Handle h = handles.pin(fh, nodeid);
        if (h == null) return -EBADF;
        h.unpin();
        return 0;
    }

    public int fsync(long nodeid, long fh, boolean datasync) {
        Handle h = handles.pin(fh, nodeid);
        if (h == null) return -EBADF;
        try {
            return datasync ? LibC.fdatasync(h.fd) : LibC.fsync(h.fd);
        } finally {
            h.unpin();
        }
    }

    public int syncfs(long nodeid) {
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        i.unpin();
        return LibC.syncfs(rootReadFd);
    }

    // ---- data ------------------------------------------------------------------------------------------

    /**
     * READ into the iovecs (guest memory) at {@code offset}; returns the bytes read (short only at end of
     * file) or -errno. No copy on the Java heap: preadv2 writes straight into guest pages.
     */
    public long read(long nodeid, long fh, long offset, IovecArray iov) { return transfer(false, nodeid, fh, offset, iov); }

    /** WRITE from the iovecs (guest memory) at {@code offset}; returns the bytes written or -errno. */
    public long write(long nodeid, long fh, long offset, IovecArray iov) { return transfer(true, nodeid, fh, offset, iov); }

    private long transfer(boolean write, long nodeid, long fh, long offset, IovecArray iov) {
        // a u64 offset past 2^63 is negative here, and preadv2/pwritev2 take -1 as "the file position"
        if (offset < 0 || offset + iov.totalBytes() < 0) return -EINVAL;
        Handle h = handles.pin(fh, nodeid);
        if (h == null) return -EBADF;
        try {
            long total = 0, want = iov.totalBytes();
            int first = 0;
            while (total < want) {
                MemorySegment vec = first == 0 ? iov.segment() : iov.from(first);
                int count = iov.count() - first;
                long n = write ? LibC.pwritev2(h.fd, vec, count, offset + total, 0) : LibC.preadv2(h.fd, vec, count, offset + total, 0);
                if (n == -EINTR) continue;
                if (n < 0) return total > 0 ? total : n;
                if (n == 0) break;
                total += n;
                if (total < want) first = iov.advance(first, n);
            }
            return total;
        } finally {
            h.unpin();
        }
    }

    public int fallocate(long nodeid, long fh, int mode, long offset, long length) {
        if (config.readonly()) return -EROFS;
        Handle h = handles.pin(fh, nodeid);
        if (h == null) return -EBADF;
        try {
            return LibC.fallocate(h.fd, mode, offset, length);
        } finally {
            h.unpin();
        }
    }

    public long lseek(long nodeid, long fh, long offset, int whence) {
        if (whence < SEEK_SET || whence > SEEK_HOLE) return -EINVAL;
        Handle h = handles.pin(fh, nodeid);
        if (h == null) return -EBADF;
        try {
            return LibC.lseek(h.fd, offset, whence);
        } finally {
            h.unpin();
        }
    }

    public long copyFileRange(Scratch s, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut, long offOut, long len, int flags) {
        if (config.readonly()) return -EROFS;
        Handle a = handles.pin(fhIn, nodeIn);
        if (a == null) return -EBADF;
        try {
            Handle b = handles.pin(fhOut, nodeOut);
            if (b == null) return -EBADF;
            try {
                s.offIn.set(ValueLayout.JAVA_LONG, 0, offIn);
                s.offOut.set(ValueLayout.JAVA_LONG, 0, offOut);
                return LibC.copyFileRange(a.fd, s.offIn, b.fd, s.offOut, len, flags);
            } finally {
                b.unpin();
            }
        } finally {
            a.unpin();
        }
    }

    // ---- directories -----------------------------------------------------------------------------------

    /**
     * READDIR / READDIRPLUS from {@code offset} (a d_off the host gave): fuse_dirent (or fuse_direntplus)
     * records at {@code out}+{@code off}, at most {@code size} bytes; returns the bytes written. A PLUS entry
     * counts as a lookup of the child ("." and ".." excepted, which carry nodeid 0).
     */
    public int readdir(Scratch s, long nodeid, long fh, long offset, int size, boolean plus, MemorySegment out, long off) {
        Handle h = handles.pin(fh, nodeid);
        if (h == null) return -EBADF;
        try {
            if (!h.dir) return -ENOTDIR;
            synchronized (h) {   // lseek + getdents on one fd: one reader at a time per handle
                long r = LibC.lseek(h.fd, offset, SEEK_SET);
                if (r < 0) return (int) r;
                int written = 0;
                MemorySegment d = s.dents;
                int bufBytes = Math.min(Scratch.DENTS_BYTES, Math.max(size, 1024));
                fill:
                while (true) {
                    long n = LibC.getdents64(h.fd, d, bufBytes);
                    if (n < 0) return written > 0 ? written : (int) n;
                    if (n == 0) break;
                    for (int pos = 0; pos < n; ) {
                        long ino = d.get(ValueLayout.JAVA_LONG, pos);
                        long next = d.get(ValueLayout.JAVA_LONG, pos + 8);
                        int reclen = Short.toUnsignedInt(d.get(ValueLayout.JAVA_SHORT, pos + 16));
                        int type = Byte.toUnsignedInt(d.get(ValueLayout.JAVA_BYTE, pos + 18));
                        int nameAt = pos + 19, nameLen = 0;
                        while (nameLen < reclen - 19 && d.get(ValueLayout.JAVA_BYTE, nameAt + nameLen) != 0) nameLen++;
                        int recBytes = direntAlign((plus ? DIRENTPLUS_SIZE : DIRENT_SIZE) + nameLen);
                        if (written + recBytes > size) break fill;
                        long at = off + written;
                        long dirent = at;
                        if (plus) {
                            dirent = at + ENTRY_OUT_SIZE;
                            boolean dots = nameLen <= 2 && d.get(ValueLayout.JAVA_BYTE, nameAt) == '.'
                                    && (nameLen == 1 || d.get(ValueLayout.JAVA_BYTE, nameAt + 1) == '.');
                            if (dots) {
                                out.asSlice(at, ENTRY_OUT_SIZE).fill((byte) 0);
                                out.set(LE_LONG, at + ENTRY_ATTR_OFFSET + ATTR_INO_OFFSET, ino);
                                out.set(LE_INT, at + ENTRY_ATTR_OFFSET + ATTR_MODE_OFFSET, type << 12);
                            } else {
                                MemorySegment.copy(d, nameAt, s.name2, 0, nameLen + 1);
                                int e = lookupInto(s, h.fd, s.name2);
                                if (e == 0) e = entryReply(s, out, at, true);
                                if (e == -ENOENT) { pos += reclen; continue; }   // removed meanwhile: skip it
                                if (e < 0) { if (written > 0) break fill; return e; }
                            }
                        }
                        out.set(LE_LONG, dirent + DIRENT_INO_OFFSET, ino);
                        out.set(LE_LONG, dirent + DIRENT_OFF_OFFSET, next);
                        out.set(LE_INT, dirent + DIRENT_NAMELEN_OFFSET, nameLen);
                        out.set(LE_INT, dirent + DIRENT_TYPE_OFFSET, type);
                        MemorySegment.copy(d, nameAt, out, dirent + DIRENT_NAME_OFFSET, nameLen);
                        long end = dirent + DIRENT_NAME_OFFSET + nameLen, padTo = at + recBytes;
                        if (padTo > end) out.asSlice(end, padTo - end).fill((byte) 0);
                        written += recBytes;
                        pos += reclen;
                    }
                }
                return written;
            }
        } finally {
            h.unpin();
        }
    }

    // ---- extended attributes ---------------------------------------------------------------------------

    /**
     * Opens an xattr-capable fd for the inode: regular files and directories are reopened read-only through
     * /proc/self/fd; other types (symlinks, FIFOs, devices) are never opened, so their xattrs are not
     * reachable (-ENOTSUP... reported per operation).
     */
    private int xattrFd(Scratch s, Inode i) {
        if (!i.isRegular() && !i.isDir()) return -EOPNOTSUPP;
        return reopen(s, i.fd, (i.isDir() ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_NONBLOCK);
    }

    /** GETXATTR {@code name} into {@code value} (at most {@code size} bytes; 0: just the length). */
    public long getxattr(Scratch s, long nodeid, MemorySegment name, MemorySegment value, int size) {
        if (!config.xattr()) return -ENOSYS;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int fd = xattrFd(s, i);
            if (fd == -EOPNOTSUPP) return -ENODATA;
            if (fd < 0) return fd;
            long r = LibC.fgetxattr(fd, name, size == 0 ? MemorySegment.NULL : value, size);
            LibC.close(fd);
            return r;
        } finally {
            i.unpin();
        }
    }

    public long listxattr(Scratch s, long nodeid, MemorySegment value, int size) {
        if (!config.xattr()) return -ENOSYS;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int fd = xattrFd(s, i);
            if (fd == -EOPNOTSUPP) return 0;
            if (fd < 0) return fd;
            long r = LibC.flistxattr(fd, size == 0 ? MemorySegment.NULL : value, size);
            LibC.close(fd);
            return r;
        } finally {
            i.unpin();
        }
    }

    public int setxattr(Scratch s, long nodeid, MemorySegment name, MemorySegment value, int size, int flags) {
        if (!config.xattr()) return -ENOSYS;
        if (config.readonly()) return -EROFS;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int fd = xattrFd(s, i);
            if (fd < 0) return fd;
            int r = LibC.fsetxattr(fd, name, value, size, flags);
            LibC.close(fd);
            return r;
        } finally {
            i.unpin();
        }
    }

    public int removexattr(Scratch s, long nodeid, MemorySegment name) {
        if (!config.xattr()) return -ENOSYS;
        if (config.readonly()) return -EROFS;
        Inode i = inodes.pin(nodeid);
        if (i == null) return -ESTALE;
        try {
            int fd = xattrFd(s, i);
            if (fd < 0) return fd;
            int r = LibC.fremovexattr(fd, name);
            LibC.close(fd);
            return r;
        } finally {
            i.unpin();
        }
    }

    @Override
    public void close() {
        handles.closeAll();
        inodes.close();
        LibC.close(procSelfFd);
        LibC.close(rootReadFd);
    }
}
