package org.vhostj.harness.load;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Ethernet frames the net workload sends, built so that the receiver can tell an intact frame (or one
 * with its MAC addresses swapped, as a macswap forwarder does) from a damaged one:
 * <pre>
 *   dst MAC @0 (02:00:00:00:00:02)   src MAC @6 (02:00:00:00:00:01)   ethertype @12 0x88b5 (local experimental)
 *   u32 magic "VHNT" @14   u16 pair @18   u16 reserved @20   u64 seq @22   u64 check = mix(seq) @30
 *   filler @38..: byte i = (31 i + 7) mod 256
 * </pre>
 */
public final class NetFrame {
    private NetFrame() {}

    public static final int MIN_SIZE = 38;
    static final int DST_OFFSET = 0, SRC_OFFSET = 6, TYPE_OFFSET = 12, MAGIC_OFFSET = 14, PAIR_OFFSET = 18,
            SEQ_OFFSET = 22, CHECK_OFFSET = 30, FILLER_OFFSET = 38;
    static final short ETHERTYPE = (short) 0x88b5;
    static final int MAGIC = 0x544e_4856;   // "VHNT" little-endian
    static final long DST_MAC = 0x0200_0000_0002L, SRC_MAC = 0x0200_0000_0001L;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    public enum Verdict { INTACT, MACS_SWAPPED, MACS_REWRITTEN, BAD }

    static long mix(long seq) {
        long x = seq * 0x9E37_79B9_7F4A_7C15L;
        x ^= x >>> 31;
        x *= 0xBF58_476D_1CE4_E5B9L;
        return x ^ x >>> 29;
    }

    private static void putMac(MemorySegment f, long at, long mac) {
        for (int i = 0; i < 6; i++) f.set(ValueLayout.JAVA_BYTE, at + i, (byte) (mac >>> (8 * (5 - i))));
    }

    private static long getMac(MemorySegment f, long at) {
        long mac = 0;
        for (int i = 0; i < 6; i++) mac = mac << 8 | (f.get(ValueLayout.JAVA_BYTE, at + i) & 0xff);
        return mac;
    }

    /** Writes the constant part of a frame of {@code sizeBytes} for queue pair {@code pair}. */
    public static void template(MemorySegment f, int sizeBytes, int pair) {
        putMac(f, DST_OFFSET, DST_MAC);
        putMac(f, SRC_OFFSET, SRC_MAC);
        f.set(BE_SHORT, TYPE_OFFSET, ETHERTYPE);
        f.set(LE_INT, MAGIC_OFFSET, MAGIC);
        f.set(LE_SHORT, PAIR_OFFSET, (short) pair);
        f.set(LE_SHORT, PAIR_OFFSET + 2, (short) 0);
        for (int i = FILLER_OFFSET; i < sizeBytes; i++) f.set(ValueLayout.JAVA_BYTE, i, (byte) (31 * i + 7));
    }

    /** Stamps sequence number {@code seq} into a templated frame. Data path: two stores. */
    public static void stamp(MemorySegment f, long seq) {
        f.set(LE_LONG, SEQ_OFFSET, seq);
        f.set(LE_LONG, CHECK_OFFSET, mix(seq));
    }

    public static long seq(MemorySegment f) { return f.get(LE_LONG, SEQ_OFFSET); }

    public static int pair(MemorySegment f) { return Short.toUnsignedInt(f.get(LE_SHORT, PAIR_OFFSET)); }

    /**
     * Checks a received frame of {@code lengthBytes} against {@code reference} (a template of the size
     * sent). The filler is compared in one vectorized mismatch; no allocation.
     */
    public static Verdict check(MemorySegment f, long lengthBytes, MemorySegment reference) {
        if (lengthBytes != reference.byteSize()) return Verdict.BAD;
        if (f.get(BE_SHORT, TYPE_OFFSET) != ETHERTYPE || f.get(LE_INT, MAGIC_OFFSET) != MAGIC) return Verdict.BAD;
        long seq = f.get(LE_LONG, SEQ_OFFSET);
        if (f.get(LE_LONG, CHECK_OFFSET) != mix(seq)) return Verdict.BAD;
        if (MemorySegment.mismatch(f, FILLER_OFFSET, lengthBytes, reference, FILLER_OFFSET, lengthBytes) != -1) return Verdict.BAD;
        long dst = getMac(f, DST_OFFSET), src = getMac(f, SRC_OFFSET);
        if (dst == DST_MAC && src == SRC_MAC) return Verdict.INTACT;
        if (dst == SRC_MAC && src == DST_MAC) return Verdict.MACS_SWAPPED;
        return Verdict.MACS_REWRITTEN;
    }
}
