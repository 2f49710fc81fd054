package org.vhostj.harness.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Files outside the shared directory that an escape would touch: {@code canary/} next to {@code shared/}
 * (secret.txt, sub/inner.txt, an empty dir, a user.* xattr), and the run directory that holds both.
 * {@link #plant} sets every atime before its mtime, so under relatime any read or listing moves it;
 * {@link #assertUntouched} first stats everything (atime, mtime, ctime, nlink, size, mode), then lists
 * and reads, so the check itself disturbs nothing it checks. Owned by one test.
 */
final class Canary {
    static final String SECRET = "CANARY-SECRET-do-not-leak\n";
    static final String XATTR = "user.canary", XATTR_VALUE = "canary-xattr";
    private static final FileTime OLD_ATIME = FileTime.fromMillis(946_684_800_000L);   // 2000-01-01
    private static final FileTime OLD_MTIME = FileTime.fromMillis(978_307_200_000L);   // 2001-01-01

    final Path runDir, dir, secret;
    private final Map<String, String> before = new TreeMap<>();
    private final List<String> runDirNames;
    private final boolean xattrs;

    private Canary(Path runDir, Path dir, List<String> runDirNames, boolean xattrs) throws IOException {
        this.runDir = runDir;
        this.dir = dir;
        this.secret = dir.resolve("secret.txt");
        this.runDirNames = runDirNames;
        this.xattrs = xattrs;
    }

    /** Plants canary/ in {@code runDir} (next to the shared directory) and records its state. */
    static Canary plant(Path runDir) throws IOException {
        Path dir = Files.createDirectory(runDir.resolve("canary"));
        Files.writeString(dir.resolve("secret.txt"), SECRET);
        Files.createDirectory(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub").resolve("inner.txt"), SECRET);
        Files.createDirectory(dir.resolve("empty"));
        boolean xattrs;
        try {
            Files.getFileAttributeView(dir.resolve("secret.txt"), UserDefinedFileAttributeView.class)
                    .write(XATTR, ByteBuffer.wrap(XATTR_VALUE.getBytes(StandardCharsets.UTF_8)));
            xattrs = true;
        } catch (IOException | UnsupportedOperationException e) {
            xattrs = false;
        }
        List<Path> all = walk(dir);
        for (Path p : all.reversed()) {   // children first: setting a child's times does not move the parent's
            Files.setLastModifiedTime(p, OLD_MTIME);
            Files.setAttribute(p, "basic:lastAccessTime", OLD_ATIME, LinkOption.NOFOLLOW_LINKS);
        }
        List<String> names;
        try (Stream<Path> s = Files.list(runDir)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        Canary c = new Canary(runDir, dir, names, xattrs);
        for (Path p : all) c.before.put(dir.relativize(p).toString(), stat(p));
        return c;
    }

    boolean hasXattr() { return xattrs; }

    /**
     * Nothing in canary/ was read, written, listed, linked, chmod'ed or renamed, nothing new appeared in
     * it, and the run directory holds only what it held plus the backend's socket and log.
     */
    void assertUntouched(String... allowedNewInRunDir) throws IOException {
        Map<String, String> after = new TreeMap<>();
        for (String rel : before.keySet()) {
            Path p = rel.isEmpty() ? dir : dir.resolve(rel);
            after.put(rel, Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? stat(p) : "(gone)");
        }
        assertEquals(before, after, "canary metadata (atime/mtime/ctime/nlink/size/mode) outside the shared directory");
        List<String> now = new ArrayList<>();
        for (Path p : walk(dir)) now.add(dir.relativize(p).toString());
        assertEquals(new ArrayList<>(before.keySet()), now, "canary directory listing");
        assertEquals(SECRET, Files.readString(secret), "canary content");
        assertEquals(SECRET, Files.readString(dir.resolve("sub").resolve("inner.txt")), "canary content");
        List<String> names;
        try (Stream<Path> s = Files.list(runDir)) {
            names = new ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        names.removeAll(List.of(allowedNewInRunDir));
        names.removeIf(n -> n.endsWith(".sock") || n.endsWith(".log"));
        List<String> expected = new ArrayList<>(runDirNames);
        expected.removeIf(n -> n.endsWith(".sock") || n.endsWith(".log"));
        assertEquals(expected, names, "nothing new next to the shared directory");
        if (xattrs) {
            var v = Files.getFileAttributeView(secret, UserDefinedFileAttributeView.class);
            assertEquals(List.of(XATTR), v.list(), "canary xattrs");
            ByteBuffer b = ByteBuffer.allocate(64);
            v.read(XATTR, b);
            assertEquals(XATTR_VALUE, new String(b.array(), 0, b.position(), StandardCharsets.UTF_8), "canary xattr value");
        }
        // this check read and listed the canary: record the new times so a later check compares with them
        for (String rel : before.keySet()) before.put(rel, stat(rel.isEmpty() ? dir : dir.resolve(rel)));
    }

    private static String stat(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:lastAccessTime,lastModifiedTime,ctime,nlink,size,mode,ino", LinkOption.NOFOLLOW_LINKS);
        return "atime=" + a.get("lastAccessTime") + " mtime=" + a.get("lastModifiedTime") + " ctime=" + a.get("ctime")
                + " nlink=" + a.get("nlink") + " size=" + a.get("size") + " mode=" + Integer.toOctalString((Integer) a.get("mode"))
                + " ino=" + a.get("ino");
    }

    private static List<Path> walk(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.sorted().toList();
        }
    }
}
