package org.vhostj.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** MAC addresses as 48-bit longs in wire order (the first byte is the most significant). */
public final class Macs {
    private Macs() {}

    public static final long BROADCAST = 0xffff_ffff_ffffL;
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    public static long read(MemorySegment m, long at) {
        return (Integer.toUnsignedLong(m.get(BE_INT, at)) << 16) | Short.toUnsignedInt(m.get(BE_SHORT, at + 4));
    }

    public static void write(MemorySegment m, long at, long mac) {
        m.set(BE_INT, at, (int) (mac >>> 16));
        m.set(BE_SHORT, at + 4, (short) mac);
    }

    /** Group bit (multicast or broadcast): bit 0 of the first byte. */
    public static boolean isMulticast(long mac) { return (mac & 0x0100_0000_0000L) != 0; }

    /** Parses "52:54:00:12:34:56"; throws IllegalArgumentException. */
    public static long parse(String s) {
        String[] p = s.split("[:-]");
        if (p.length != 6) throw new IllegalArgumentException("a MAC address is 6 hex bytes separated by ':': " + s);
        long mac = 0;
        for (String b : p) {
            if (b.length() != 2) throw new IllegalArgumentException("bad MAC byte '" + b + "' in " + s);
            mac = mac << 8 | HexFormat.fromHexDigits(b);
        }
        return mac;
    }

    public static String format(long mac) {
        StringBuilder b = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            b.append(HexFormat.of().toHexDigits((byte) (mac >>> (8 * i))));
            if (i > 0) b.append(':');
        }
        return b.toString();
    }

    /** A random locally administered unicast address (02:xx:...). */
    public static long random() {
        long r = ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL;
        return (r & ~0x0300_0000_0000L) | 0x0200_0000_0000L;
    }
}
