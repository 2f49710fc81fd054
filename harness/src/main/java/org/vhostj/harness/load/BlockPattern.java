package org.vhostj.harness.load;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The verification pattern of a block: word 0 is a magic, word 1 names the block and the write generation
 * that produced it, every other word is a hash of (block, generation, word). A read-back that differs says
 * which block and generation it actually holds, so a misdirected or stale write is told from corruption.
 */
public final class BlockPattern {
    private BlockPattern() {}

    static final long MAGIC = 0x5648_4152_4e45_5353L;   // "VHARNESS"
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    static long word(long block, int generation, long i) {
        long x = block * 0x9E37_79B9_7F4A_7C15L + generation * 0xC2B2_AE3D_27D4_EB4FL + i;
        x ^= x >>> 33;
        x *= 0xFF51_AFD7_ED55_8CCDL;
        x ^= x >>> 33;
        return x;
    }

    /** Writes the pattern of ({@code block}, {@code generation}) over {@code lengthBytes} (a multiple of 16). */
    public static void fill(MemorySegment buf, long block, int generation, int lengthBytes) {
        buf.set(LE_LONG, 0, MAGIC);
        buf.set(LE_LONG, 8, header(block, generation));
        for (long i = 2; i < lengthBytes / 8; i++) buf.set(LE_LONG, i * 8, word(block, generation, i));
    }

    private static long header(long block, int generation) { return (block << 24) | (generation & 0xffffffL); }

    /** True if {@code buf} holds exactly the pattern of ({@code block}, {@code generation}). */
    public static boolean check(MemorySegment buf, long block, int generation, int lengthBytes) {
        if (buf.get(LE_LONG, 0) != MAGIC || buf.get(LE_LONG, 8) != header(block, generation)) return false;
        for (long i = 2; i < lengthBytes / 8; i++) if (buf.get(LE_LONG, i * 8) != word(block, generation, i)) return false;
        return true;
    }

    /** What a mismatching buffer holds, for the report. */
    public static String describe(MemorySegment buf, int lengthBytes) {
        if (buf.get(LE_LONG, 0) != MAGIC) {
            boolean zero = true;
            for (long i = 0; i < lengthBytes / 8 && zero; i++) zero = buf.get(LE_LONG, i * 8) == 0;
            return zero ? "all zeroes" : "no pattern (first word 0x" + Long.toHexString(buf.get(LE_LONG, 0)) + ")";
        }
        long h = buf.get(LE_LONG, 8);
        long block = h >>> 24;
        int gen = (int) (h & 0xffffff);
        for (long i = 2; i < lengthBytes / 8; i++) {
            if (buf.get(LE_LONG, i * 8) != word(block, gen, i)) return "block " + block + " generation " + gen + ", corrupted at byte " + i * 8;
        }
        return "block " + block + " generation " + gen;
    }
}
