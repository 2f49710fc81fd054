package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The initramfs writer against the newc layout, read back by an independent parser. */
class CpioNewcWriterTest {
    record Entry(String name, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data) {}

    /** Parses a newc archive, checking magic, 4-byte alignment and the trailer. */
    static List<Entry> parse(byte[] archive) {
        List<Entry> entries = new ArrayList<>();
        int at = 0;
        while (true) {
            assertEquals(0, at % 4, "entry at " + at + " is not 4-byte aligned");
            String header = new String(archive, at, 110, StandardCharsets.US_ASCII);
            assertEquals("070701", header.substring(0, 6), "magic at " + at);
            int[] f = new int[13];
            for (int i = 0; i < 13; i++) f[i] = Integer.parseUnsignedInt(header.substring(6 + 8 * i, 14 + 8 * i), 16);
            int nameSize = f[11], fileSize = f[6];
            String name = new String(archive, at + 110, nameSize - 1, StandardCharsets.UTF_8);
            assertEquals(0, archive[at + 110 + nameSize - 1], "name of " + name + " is NUL-terminated");
            int data = (at + 110 + nameSize + 3) & ~3;
            if (name.equals("TRAILER!!!")) {
                assertTrue(data + fileSize <= archive.length);
                return entries;
            }
            entries.add(new Entry(name, f[1], f[4], f[9], f[10], Arrays.copyOfRange(archive, data, data + fileSize)));
            at = (data + fileSize + 3) & ~3;
        }
    }

    @Test
    void entriesReadBackWithParentsFirstAndAligned() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CpioNewcWriter w = new CpioNewcWriter(out);
        w.file("lib/modules/virtio.ko", 0644, "abcde".getBytes(StandardCharsets.UTF_8));
        w.symlink("bin/sh", "busybox");
        w.characterDevice("dev/console", 0600, 5, 1);
        w.directory("lib");  // already written as a parent: not repeated
        w.file("/init", 0755, new byte[] {1, 2, 3});
        w.finish();

        List<Entry> e = parse(out.toByteArray());
        assertEquals(List.of("lib", "lib/modules", "lib/modules/virtio.ko", "bin", "bin/sh", "dev", "dev/console", "init"),
                e.stream().map(Entry::name).toList());
        assertEquals(0040755, e.get(0).mode());
        assertEquals(0100644, e.get(2).mode());
        assertArrayEquals("abcde".getBytes(StandardCharsets.UTF_8), e.get(2).data());
        assertEquals(0120777, e.get(4).mode());
        assertArrayEquals("busybox".getBytes(StandardCharsets.UTF_8), e.get(4).data());
        assertEquals(0020600, e.get(6).mode());
        assertEquals(5, e.get(6).rdevMajor());
        assertEquals(1, e.get(6).rdevMinor());
        assertEquals(0100755, e.get(7).mode());
    }

    @Test
    void sameEntriesGiveSameBytes() throws IOException {
        byte[][] runs = new byte[2][];
        for (int i = 0; i < 2; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CpioNewcWriter w = new CpioNewcWriter(out);
            w.file("etc/x", 0644, new byte[] {9});
            w.finish();
            runs[i] = out.toByteArray();
        }
        assertArrayEquals(runs[0], runs[1]);
    }

    @Test
    void pathEscapingTheArchiveRootIsRefused() {
        CpioNewcWriter w = new CpioNewcWriter(new ByteArrayOutputStream());
        assertThrows(IllegalArgumentException.class, () -> w.file("../etc/passwd", 0644, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> w.file("a/../../b", 0644, new byte[0]));
    }
}
