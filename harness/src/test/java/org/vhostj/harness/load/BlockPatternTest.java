package org.vhostj.harness.load;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class BlockPatternTest {
    @Test
    void patternNamesItsBlockAndGenerationAndCatchesEveryKindOfDifference() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096, 8);
            BlockPattern.fill(buf, 77, 3, 4096);
            assertTrue(BlockPattern.check(buf, 77, 3, 4096));
            assertFalse(BlockPattern.check(buf, 77, 4, 4096), "stale generation");
            assertFalse(BlockPattern.check(buf, 78, 3, 4096), "misdirected block");
            assertEquals("block 77 generation 3", BlockPattern.describe(buf, 4096));
            buf.set(ValueLayout.JAVA_BYTE, 4000, (byte) (buf.get(ValueLayout.JAVA_BYTE, 4000) ^ 1));
            assertFalse(BlockPattern.check(buf, 77, 3, 4096), "one flipped bit");
            assertEquals("block 77 generation 3, corrupted at byte 4000", BlockPattern.describe(buf, 4096));
            buf.fill((byte) 0);
            assertEquals("all zeroes", BlockPattern.describe(buf, 4096));
        }
    }
}
