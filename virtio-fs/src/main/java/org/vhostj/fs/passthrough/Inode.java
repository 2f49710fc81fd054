package org.vhostj.fs.passthrough;

/**
 * One host inode the guest knows: an {@code O_PATH|O_NOFOLLOW} fd reached by LOOKUP (or a create) beneath
 * the shared root, keyed by (dev, ino, mnt_id). {@code type} (S_IFMT bits) never changes for an inode, so
 * it decides once whether the inode may ever be opened for I/O (only regular files and directories).
 *
 * <p>{@link #lookups} is the FUSE lookup count, changed only under the {@link InodeTable}'s lock: each entry
 * reply adds one, FORGET subtracts what the guest says (clamped at zero). At zero the inode leaves the
 * table and is retired; its fd closes when its last user unpins.
 */
final class Inode extends Pinned implements SlotTable.Entry {
    final long nodeid;
    final long dev, ino, mntId;
    final int type;
    long lookups;

    Inode(long nodeid, int fd, long dev, long ino, long mntId, int type) {
        super(fd);
        this.nodeid = nodeid;
        this.dev = dev;
        this.ino = ino;
        this.mntId = mntId;
        this.type = type;
    }

    @Override public long id() { return nodeid; }

    boolean isDir() { return type == org.vhostj.sys.Fcntl.S_IFDIR; }

    boolean isRegular() { return type == org.vhostj.sys.Fcntl.S_IFREG; }

    @Override
    public String toString() { return "inode[" + Long.toHexString(nodeid) + " dev " + dev + " ino " + ino + " fd " + fd + "]"; }
}
