package org.vhostj.harness.fuse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.vhostj.fs.fuse.Fuse;

/** Decoded FUSE replies (fuse.h layouts in {@link Fuse}). Control-path types: they copy. */
public final class FuseTypes {
    private FuseTypes() {}

    /** fuse_attr. */
    public record Attr(long ino, long size, long blocks, long mtime, int mode, int nlink, int uid, int gid) {
        static Attr decode(ByteBuffer b, int at) {
            return new Attr(b.getLong(at + Fuse.ATTR_INO_OFFSET), b.getLong(at + Fuse.ATTR_SIZE_OFFSET), b.getLong(at + Fuse.ATTR_BLOCKS_OFFSET),
                    b.getLong(at + Fuse.ATTR_MTIME_OFFSET), b.getInt(at + Fuse.ATTR_MODE_OFFSET), b.getInt(at + Fuse.ATTR_NLINK_OFFSET),
                    b.getInt(at + Fuse.ATTR_UID_OFFSET), b.getInt(at + Fuse.ATTR_GID_OFFSET));
        }
    }

    /** fuse_entry_out: a looked-up inode (one more lookup to FORGET). */
    public record Entry(long nodeid, long generation, Attr attr) {
        static Entry decode(ByteBuffer b, int at) {
            return new Entry(b.getLong(at + Fuse.ENTRY_NODEID_OFFSET), b.getLong(at + Fuse.ENTRY_GENERATION_OFFSET),
                    Attr.decode(b, at + Fuse.ENTRY_ATTR_OFFSET));
        }
    }

    /** CREATE's reply: fuse_entry_out then fuse_open_out. */
    public record Created(Entry entry, long fh, int openFlags) {}

    /** fuse_init_out (fields past the server's minor version read as 0). */
    public record InitReply(int major, int minor, int maxReadahead, long flags, int maxBackground, int maxWrite, int timeGran, int maxPages) {}

    /** One fuse_direntplus. */
    public record DirEntryPlus(Entry entry, long ino, long offset, int type, String name) {}

    /** One fuse_dirent (READDIR). */
    public record DirEntry(long ino, long offset, int type, String name) {}

    /** fuse_kstatfs. */
    public record StatFs(long blocks, long bfree, long bavail, long files, long ffree, int bsize, int namelen, int frsize) {
        static StatFs decode(ByteBuffer b) {
            return new StatFs(b.getLong(Fuse.STATFS_BLOCKS_OFFSET), b.getLong(Fuse.STATFS_BFREE_OFFSET), b.getLong(Fuse.STATFS_BAVAIL_OFFSET),
                    b.getLong(Fuse.STATFS_FILES_OFFSET), b.getLong(Fuse.STATFS_FFREE_OFFSET), b.getInt(Fuse.STATFS_BSIZE_OFFSET),
                    b.getInt(Fuse.STATFS_NAMELEN_OFFSET), b.getInt(Fuse.STATFS_FRSIZE_OFFSET));
        }
    }

    static List<DirEntry> decodeDirent(ByteBuffer b, int length) {
        List<DirEntry> out = new ArrayList<>();
        int at = 0;
        while (at + Fuse.DIRENT_SIZE <= length) {
            int namelen = b.getInt(at + Fuse.DIRENT_NAMELEN_OFFSET);
            if (namelen < 0 || namelen > Fuse.NAME_MAX || at + Fuse.DIRENT_NAME_OFFSET + namelen > length) {
                throw new FuseException(Fuse.READDIR, 0, "dirent at " + at + " has a name of " + namelen + " bytes");
            }
            byte[] name = new byte[namelen];
            b.get(at + Fuse.DIRENT_NAME_OFFSET, name);
            out.add(new DirEntry(b.getLong(at + Fuse.DIRENT_INO_OFFSET), b.getLong(at + Fuse.DIRENT_OFF_OFFSET),
                    b.getInt(at + Fuse.DIRENT_TYPE_OFFSET), new String(name, StandardCharsets.UTF_8)));
            at += Fuse.direntAlign(Fuse.DIRENT_SIZE + namelen);
        }
        return out;
    }

    static List<DirEntryPlus> decodeDirentPlus(ByteBuffer b, int length) {
        List<DirEntryPlus> out = new ArrayList<>();
        int at = 0;
        while (at + Fuse.DIRENTPLUS_SIZE <= length) {
            Entry e = Entry.decode(b, at);
            int d = at + Fuse.ENTRY_OUT_SIZE;
            int namelen = b.getInt(d + Fuse.DIRENT_NAMELEN_OFFSET);
            if (namelen < 0 || namelen > Fuse.NAME_MAX || d + Fuse.DIRENT_NAME_OFFSET + namelen > length) {
                throw new FuseException(Fuse.READDIRPLUS, 0, "direntplus at " + at + " has a name of " + namelen + " bytes");
            }
            byte[] name = new byte[namelen];
            b.get(d + Fuse.DIRENT_NAME_OFFSET, name);
            out.add(new DirEntryPlus(e, b.getLong(d + Fuse.DIRENT_INO_OFFSET), b.getLong(d + Fuse.DIRENT_OFF_OFFSET),
                    b.getInt(d + Fuse.DIRENT_TYPE_OFFSET), new String(name, StandardCharsets.UTF_8)));
            at += Fuse.ENTRY_OUT_SIZE + Fuse.direntAlign(Fuse.DIRENT_SIZE + namelen);
        }
        return out;
    }

    static ByteBuffer le(byte[] a) { return ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN); }
}
