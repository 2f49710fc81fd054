package org.vhostj.fs.passthrough;

import org.vhostj.sys.LibC;

/** The guest's open files by fh. Owns their fds; {@link #pin} checks the handle belongs to the request's nodeid. */
final class HandleTable {
    private final SlotTable<Handle> slots;

    HandleTable(int maxHandles) { slots = new SlotTable<>(1024, maxHandles); }

    /** Takes ownership of {@code fd}; returns the new handle's fh, or 0 when full ({@code fd} is closed). */
    long open(int fd, long nodeid, boolean dir, boolean writable) {
        Handle h = slots.add(fh -> new Handle(fh, fd, nodeid, dir, writable));
        if (h == null) {
            LibC.close(fd);
            return 0;
        }
        return h.fh;
    }

    /** The handle {@code fh} of {@code nodeid}, pinned; null (answer EBADF) if unknown, released or another inode's. */
    Handle pin(long fh, long nodeid) {
        Handle h = slots.get(fh);
        if (h == null || h.nodeid != nodeid || !h.pin()) return null;
        return h;
    }

    /** RELEASE: false if {@code fh} is not {@code nodeid}'s. The fd closes once no request uses it. */
    boolean release(long fh, long nodeid, boolean dir) {
        Handle h = slots.get(fh);
        if (h == null || h.nodeid != nodeid || h.dir != dir || !slots.remove(h)) return false;
        h.retire();
        return true;
    }

    int size() { return slots.size(); }

    void closeAll() {
        for (Handle h : slots.snapshot()) if (slots.remove(h)) h.retire();
    }
}
