package org.vhostj.harness.cli;

import java.util.Locale;
import picocli.CommandLine;

/** Parses sizes such as {@code 4k}, {@code 1M}, {@code 64m}, {@code 2g} or plain bytes (binary units). */
public final class Sizes implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        return parse(value);
    }

    public static long parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.endsWith("ib")) v = v.substring(0, v.length() - 2);
        else if (v.endsWith("b") && v.length() > 1 && !Character.isDigit(v.charAt(v.length() - 2))) v = v.substring(0, v.length() - 1);
        long mul = 1;
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> mul = 1L << 10;
                case 'm' -> mul = 1L << 20;
                case 'g' -> mul = 1L << 30;
                case 't' -> mul = 1L << 40;
                default -> { }
            }
        }
        if (mul != 1) v = v.substring(0, v.length() - 1);
        try {
            long n = Long.parseLong(v);
            if (n < 0) throw new NumberFormatException();
            return Math.multiplyExact(n, mul);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CommandLine.TypeConversionException("not a size: '" + value + "' (examples: 4096, 4k, 1M, 2g)");
        }
    }
}
