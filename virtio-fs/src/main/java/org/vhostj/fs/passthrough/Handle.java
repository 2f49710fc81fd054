package org.vhostj.fs.passthrough;

/**
 * An open file or directory the guest holds by {@code fh}: an fd opened for I/O (never O_PATH) through
 * /proc/self/fd from the inode {@code nodeid}. Requests must name the same nodeid, else EBADF
 * (virtiofsd's find_handle check). Directory handles serialize lseek+getdents on their own monitor.
 */
final class Handle extends Pinned implements SlotTable.Entry {
    final long fh;
    final long nodeid;
    final boolean dir;
    final boolean writable;

    Handle(long fh, int fd, long nodeid, boolean dir, boolean writable) {
        super(fd);
        this.fh = fh;
        this.nodeid = nodeid;
        this.dir = dir;
        this.writable = writable;
    }

    @Override public long id() { return fh; }
}
