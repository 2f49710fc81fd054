package org.vhostj.harness.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host half of {@link GuestCase#BLK_CRASH}: a console listener that records every "ACK" line (a
 * record the guest wrote with O_DIRECT and flushed, so the backend acknowledged it), and a check of
 * the backend's image against them. Fed on the console reader thread, read on the test thread.
 *
 * <pre>
 * record at 4 KiB block lba:  bytes 0..63      "VHOSTJ-CRASH run=R seq=N lba=L", space-padded, '\n'
 *                             bytes 64..4063   random
 *                             bytes 4064..4095 md5 (hex) of bytes 0..4063
 * </pre>
 */
public final class BlkCrashLedger implements Consumer<String> {
    public static final int RECORD_SIZE = 4096;
    private static final int SUM_OFFSET = 4064;
    private static final Pattern BEGIN = Pattern.compile("^BLK-CRASH-BEGIN run=([0-9a-f]+)");
    private static final Pattern ACK = Pattern.compile("^ACK seq=(\\d+) lba=(\\d+) sum=([0-9a-f]{32}) ms=(\\d+)");

    /** One acknowledged write. */
    public record Ack(long seq, long lba, String md5, long writeMillis) {}

    /** The image checked against the acknowledged writes; {@code lost} lists the ACKs the image does not hold. */
    public record Verdict(String run, int acked, List<Ack> lost, long maxWriteMillis) {
        public boolean intact() {
            return acked > 0 && lost.isEmpty();
        }
    }

    private final List<Ack> acks = new ArrayList<>();
    private String run = "";

    @Override
    public synchronized void accept(String line) {
        Matcher m = ACK.matcher(line);
        if (m.find()) {
            acks.add(new Ack(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3), Long.parseLong(m.group(4))));
            notifyAll();
            return;
        }
        m = BEGIN.matcher(line);
        if (m.find()) run = m.group(1);
    }

    public synchronized List<Ack> acks() {
        return List.copyOf(acks);
    }

    /** Checks each acknowledged record in {@code image} (a raw disk image, read after the backend stopped). */
    public synchronized Verdict verify(Path image) throws IOException {
        List<Ack> lost = new ArrayList<>();
        long maxMillis = 0;
        ByteBuffer block = ByteBuffer.allocate(RECORD_SIZE);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            for (Ack a : acks) {
                maxMillis = Math.max(maxMillis, a.writeMillis());
                block.clear();
                long at = a.lba() * RECORD_SIZE;
                while (block.hasRemaining() && ch.read(block, at + block.position()) > 0) { /* read the whole block */ }
                if (block.hasRemaining() || !holds(block.array(), a)) lost.add(a);
            }
        }
        return new Verdict(run, acks.size(), List.copyOf(lost), maxMillis);
    }

    private boolean holds(byte[] record, Ack a) {
        String header = new String(record, 0, 64, StandardCharsets.US_ASCII);
        if (!header.startsWith("VHOSTJ-CRASH run=" + run + " seq=" + a.seq() + " lba=" + a.lba() + " ")) return false;
        String stored = new String(record, SUM_OFFSET, 32, StandardCharsets.US_ASCII);
        return stored.equals(a.md5()) && md5(record, SUM_OFFSET).equals(a.md5());
    }

    private static String md5(byte[] bytes, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(bytes, 0, length);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
