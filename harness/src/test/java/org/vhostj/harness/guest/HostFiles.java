package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The host's view of what a guest wrote: digests that guest scripts print too (md5sum). */
public final class HostFiles {
    private HostFiles() {}

    /** MD5 of {@code length} bytes of {@code file} from {@code offset}, as md5sum prints it. */
    public static String md5(Path file, long offset, long length) throws IOException {
        MessageDigest md = md5();
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(offset);
            byte[] buf = new byte[1 << 16];
            long left = length;
            while (left > 0) {
                int n = f.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) break;
                md.update(buf, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** MD5 of the whole {@code file}. */
    public static String md5(Path file) throws IOException { return md5(file, 0, Files.size(file)); }

    /**
     * After a blk-crash run (the backend killed and restarted under the guest's writes): every write the
     * guest saw acknowledged is in {@code image}, the guest counted the same acknowledgements, and writes
     * went on after the restart. Prints the figures under {@code label}.
     */
    public static void assertAcknowledgedWritesIntact(BlkCrashLedger ledger, Path image, GuestResult r, String label) throws IOException {
        assertTrue(r.passed(), r.summary());
        BlkCrashLedger.Verdict v = ledger.verify(image);
        assertTrue(v.intact(), v + "\n" + r.summary());
        assertEquals(Integer.toString(v.acked()), r.value("blk_crash", "acked"));
        assertTrue(v.acked() > 6, "writes went on after the restart: " + v);
        System.out.printf("%s: %d acknowledged writes intact, longest write %d ms (across the restart)%n",
                label, v.acked(), v.maxWriteMillis());
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
