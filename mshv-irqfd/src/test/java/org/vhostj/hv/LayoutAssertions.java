package org.vhostj.hv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** Checks a Java layout against the offsets a uapi header gives, field by field. */
public final class LayoutAssertions {
    private LayoutAssertions() {}

    /** {@code layout}'s field at {@code path} (dotted for nested structs) starts at {@code expectedOffset}. */
    public static void assertOffset(StructLayout layout, String path, long expectedOffset) {
        MemoryLayout.PathElement[] elements = java.util.Arrays.stream(path.split("\\."))
                .map(MemoryLayout.PathElement::groupElement).toArray(MemoryLayout.PathElement[]::new);
        assertEquals(expectedOffset, layout.byteOffset(elements), path);
    }

    public static void assertSize(StructLayout layout, long expectedSize) {
        assertEquals(expectedSize, layout.byteSize(), "sizeof " + layout);
    }
}
