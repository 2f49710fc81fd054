package org.vhostj.harness.load;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The content of the fs workload's data file: the 8-byte word at file offset {@code o} is a hash of {@code o}. */
final class FilePattern {
    private FilePattern() {}

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static long word(long fileOffset) { return NetFrame.mix(fileOffset ^ 0x5EED_F11EL); }

    /** Fills {@code lengthBytes} (a multiple of 8) of {@code buf} with the file's content from {@code fileOffset} (8-aligned). */
    static void fill(MemorySegment buf, long fileOffset, int lengthBytes) {
        for (int i = 0; i < lengthBytes; i += 8) buf.set(LE_LONG, i, word(fileOffset + i));
    }

    /** The first offset (relative to buf) that differs, or -1. */
    static long mismatch(MemorySegment buf, long fileOffset, long lengthBytes) {
        for (long i = 0; i + 8 <= lengthBytes; i += 8) if (buf.get(LE_LONG, i) != word(fileOffset + i)) return i;
        return -1;
    }

    static byte[] bytes(long fileOffset, int lengthBytes) {
        byte[] b = new byte[lengthBytes];
        fill(MemorySegment.ofArray(b), fileOffset, lengthBytes);
        return b;
    }
}
