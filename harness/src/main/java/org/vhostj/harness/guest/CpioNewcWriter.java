package org.vhostj.harness.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs. Owned by the thread
 * that builds the archive; it does not own (or close) the stream. Timestamps, owners and inode numbers
 * are fixed, so the same entries give the same bytes. Parent directories are written before the first
 * entry inside them, because the kernel's unpacker does not create missing parents.
 *
 * <pre>
 * struct cpio_newc_header {      // 110 bytes of ASCII: "070701" then 13 fields of 8 hex digits
 *     char c_magic[6];           // "070701"
 *     char c_ino[8], c_mode[8], c_uid[8], c_gid[8], c_nlink[8], c_mtime[8], c_filesize[8];
 *     char c_devmajor[8], c_devminor[8], c_rdevmajor[8], c_rdevminor[8];
 *     char c_namesize[8];        // including the terminating NUL
 *     char c_check[8];           // 0 for newc
 * };                             // then the name and NUL, padded to 4; then the data, padded to 4
 * </pre>
 */
final class CpioNewcWriter {
    static final int HEADER_SIZE = 110;
    private static final String MAGIC = "070701";
    private static final String TRAILER = "TRAILER!!!";
    private static final int S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000, S_IFCHR = 0020000;

    private final OutputStream out;
    private final Set<String> directories = new HashSet<>();
    private long written;
    private int nextInode = 1;

    CpioNewcWriter(OutputStream out) {
        this.out = out;
    }

    /** A directory {@code path} (relative, "a/b") with its parents, unless already written. */
    void directory(String path) throws IOException {
        path = relative(path);
        if (path.isEmpty() || directories.contains(path)) return;
        parentsOf(path);
        directories.add(path);
        entry(path, S_IFDIR | 0755, 2, 0, 0, new byte[0]);
    }

    void file(String path, int permissions, byte[] data) throws IOException {
        path = relative(path);
        parentsOf(path);
        entry(path, S_IFREG | (permissions & 07777), 1, 0, 0, data);
    }

    void file(String path, int permissions, Path source) throws IOException {
        file(path, permissions, Files.readAllBytes(source));
    }

    void symlink(String path, String target) throws IOException {
        path = relative(path);
        parentsOf(path);
        entry(path, S_IFLNK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    void characterDevice(String path, int permissions, int major, int minor) throws IOException {
        path = relative(path);
        parentsOf(path);
        entry(path, S_IFCHR | (permissions & 07777), 1, major, minor, new byte[0]);
    }

    /** Writes the trailer entry; the archive is complete after this. */
    void finish() throws IOException {
        entry(TRAILER, 0, 1, 0, 0, new byte[0]);
        out.flush();
    }

    private void parentsOf(String path) throws IOException {
        int slash = path.lastIndexOf('/');
        if (slash > 0) directory(path.substring(0, slash));
    }

    private static String relative(String path) {
        String p = path;
        while (p.startsWith("/")) p = p.substring(1);
        while (p.endsWith("/")) p = p.substring(0, p.length() - 1);
        if (p.contains("//") || p.equals("..") || p.startsWith("../") || p.contains("/../")) {
            throw new IllegalArgumentException("cpio entry path " + path + " is not a plain relative path");
        }
        return p;
    }

    private void entry(String name, int mode, int links, int rdevMajor, int rdevMinor, byte[] data) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(HEADER_SIZE).append(MAGIC);
        int inode = name.equals(TRAILER) ? 0 : nextInode++;
        for (long field : new long[] {inode, mode, 0, 0, links, 0, data.length, 0, 0, rdevMajor, rdevMinor,
                nameBytes.length + 1, 0}) {
            h.append(String.format("%08x", field));
        }
        write(h.toString().getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        write(new byte[] {0});
        pad();
        write(data);
        pad();
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        written += bytes.length;
    }

    private void pad() throws IOException {
        int fill = (int) ((4 - (written & 3)) & 3);
        if (fill > 0) write(new byte[fill]);
    }
}
