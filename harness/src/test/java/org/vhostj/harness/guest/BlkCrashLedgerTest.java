package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host-side check of the blk crash case, on images written here the way the guest writes them. */
class BlkCrashLedgerTest {
    @TempDir Path dir;

    /** Writes the record the guest would write for (run, seq, lba) into {@code disk}; returns its md5. */
    private static String writeRecord(byte[] disk, String run, long seq, long lba) throws Exception {
        byte[] rec = new byte[4096];
        byte[] header = String.format("%-63s\n", "VHOSTJ-CRASH run=" + run + " seq=" + seq + " lba=" + lba).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(header, 0, rec, 0, 64);
        byte[] random = new byte[4000];
        new Random(seq).nextBytes(random);
        System.arraycopy(random, 0, rec, 64, 4000);
        MessageDigest md = MessageDigest.getInstance("MD5");
        md.update(rec, 0, 4064);
        String sum = HexFormat.of().formatHex(md.digest());
        System.arraycopy(sum.getBytes(StandardCharsets.US_ASCII), 0, rec, 4064, 32);
        System.arraycopy(rec, 0, disk, (int) (lba * 4096), 4096);
        return sum;
    }

    private Path image(byte[] disk) throws IOException {
        Path p = dir.resolve("disk.raw");
        Files.write(p, disk);
        return p;
    }

    @Test
    void everyAcknowledgedRecordPresentIsIntact() throws Exception {
        byte[] disk = new byte[64 * 4096];
        BlkCrashLedger ledger = new BlkCrashLedger();
        ledger.accept("BLK-CRASH-BEGIN run=abcd1234 writers=1 secs=5 lba0=8 blocks=64");
        for (int seq = 0; seq < 5; seq++) {
            String sum = writeRecord(disk, "abcd1234", seq, 8 + seq);
            ledger.accept("ACK seq=" + seq + " lba=" + (8 + seq) + " sum=" + sum + " ms=" + (10 * seq));
        }
        ledger.accept("EIO seq=5 lba=13 rc=1: I/O error");   // not acknowledged: never checked
        BlkCrashLedger.Verdict v = ledger.verify(image(disk));
        assertTrue(v.intact(), v.toString());
        assertEquals(5, v.acked());
        assertEquals(40, v.maxWriteMillis());
    }

    @Test
    void acknowledgedRecordMissingFromImageIsReportedLost() throws Exception {
        byte[] disk = new byte[64 * 4096];
        BlkCrashLedger ledger = new BlkCrashLedger();
        ledger.accept("BLK-CRASH-BEGIN run=abcd1234 writers=1 secs=5 lba0=8 blocks=64");
        String s0 = writeRecord(disk, "abcd1234", 0, 8);
        String s1 = writeRecord(disk, "abcd1234", 1, 9);
        ledger.accept("ACK seq=0 lba=8 sum=" + s0 + " ms=1");
        ledger.accept("ACK seq=1 lba=9 sum=" + s1 + " ms=1");
        ledger.accept("ACK seq=2 lba=10 sum=" + s1 + " ms=1");  // acknowledged, never reached the image
        disk[9 * 4096 + 100] ^= 1;                               // seq 1: one flipped bit
        BlkCrashLedger.Verdict v = ledger.verify(image(disk));
        assertFalse(v.intact());
        assertEquals(2, v.lost().size(), v.toString());
        assertEquals(1, v.lost().get(0).seq());
        assertEquals(2, v.lost().get(1).seq());
    }

    @Test
    void recordFromAnEarlierRunDoesNotCount() throws Exception {
        byte[] disk = new byte[16 * 4096];
        BlkCrashLedger ledger = new BlkCrashLedger();
        String old = writeRecord(disk, "00000001", 0, 8);
        ledger.accept("BLK-CRASH-BEGIN run=00000002 writers=1 secs=5 lba0=8 blocks=16");
        ledger.accept("ACK seq=0 lba=8 sum=" + old + " ms=1");
        assertFalse(ledger.verify(image(disk)).intact());
    }
}
