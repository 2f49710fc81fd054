package org.vhostj.fs.passthrough;

import java.util.HashMap;
import java.util.List;
import org.vhostj.sys.LibC;

/**
 * The inodes the guest knows, by nodeid (lock-free {@link #get}) and by host identity (dev, ino, mnt_id),
 * so one host inode has one nodeid however it was reached. Owns every inode fd. Lookup counts change only
 * under this table's lock, so a LOOKUP racing a FORGET that drops the count to zero either revives the
 * inode before it is retired or finds it gone and makes a new one.
 */
final class InodeTable {
    private record Key(long dev, long ino, long mntId) {}

    private final SlotTable<Inode> slots;
    private final HashMap<Key, Inode> byKey = new HashMap<>();
    final Inode root;

    /** Takes ownership of {@code rootFd} (an O_PATH fd of the shared directory). */
    InodeTable(int rootFd, long dev, long ino, long mntId, int maxInodes) {
        slots = new SlotTable<>(1024, maxInodes);
        root = new Inode(org.vhostj.fs.fuse.Fuse.ROOT_ID, rootFd, dev, ino, mntId, org.vhostj.sys.Fcntl.S_IFDIR);
        root.lookups = 1;
        slots.addAt(root);
        byKey.put(new Key(dev, ino, mntId), root);
    }

    /** The inode for {@code nodeid}, or null (stale or never handed out). Does not pin. */
    Inode get(long nodeid) { return slots.get(nodeid); }

    /** Pins the inode for {@code nodeid}; null if unknown or retired. The caller unpins. */
    Inode pin(long nodeid) {
        Inode i = slots.get(nodeid);
        return i != null && i.pin() ? i : null;
    }

    /**
     * Records one lookup of the host inode just opened as {@code fd} (whose ownership passes here): the
     * known inode with that identity gets the lookup and {@code fd} is closed, or a new inode keeps
     * {@code fd}. Returns the inode, pinned, or null when the table is full ({@code fd} is closed).
     */
    synchronized Inode intern(int fd, long dev, long ino, long mntId, int type) {
        Key k = new Key(dev, ino, mntId);
        Inode known = byKey.get(k);
        if (known != null && known.pin()) {
            known.lookups++;
            LibC.close(fd);
            return known;
        }
        Inode made = slots.add(id -> new Inode(id, fd, dev, ino, mntId, type));
        if (made == null) {
            LibC.close(fd);
            return null;
        }
        made.lookups = 1;
        made.pin();
        byKey.put(k, made);
        return made;
    }

    /** Adds one lookup to an inode the caller has pinned (LINK of a known inode, "." lookups). */
    synchronized boolean addLookup(Inode i) {
        if (i.isRetired()) return false;
        i.lookups++;
        return true;
    }

    /** FORGET: drops {@code count} lookups (clamped); at zero the inode is retired. The root is never forgotten. */
    synchronized void forget(long nodeid, long count) {
        Inode i = slots.get(nodeid);
        if (i == null || i == root) return;
        long left = Long.compareUnsigned(count, i.lookups) >= 0 ? 0 : i.lookups - count;
        i.lookups = left;
        if (left == 0) drop(i);
    }

    private void drop(Inode i) {
        slots.remove(i);
        byKey.remove(new Key(i.dev, i.ino, i.mntId), i);
        i.retire();
    }

    /** DESTROY: forgets every inode but the root. */
    synchronized void forgetAll() {
        for (Inode i : slots.snapshot()) if (i != root) drop(i);
    }

    synchronized int size() { return slots.size(); }

    /** Retires every inode, the root too (the device is closing). */
    synchronized void close() {
        List<Inode> all = slots.snapshot();
        for (Inode i : all) drop(i);
    }
}
