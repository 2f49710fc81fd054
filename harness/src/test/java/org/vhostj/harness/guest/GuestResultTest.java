package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GuestResultTest {
    private static GuestResult result(int rc, boolean timedOut, List<String> lines) {
        return new GuestResult(rc, timedOut, 0, lines, Path.of("/nonexistent.log"), 2500, 1.2, 4000, List.of("qemu"), null);
    }

    @Test
    void resultLinesParseIntoKeyValues() {
        GuestResult r = result(0, false, List.of("RESULT blk_verify ok=1 md5=abc mb=16", "RESULT net_ping sent=10 received=9"));
        assertTrue(r.passed());
        assertEquals(Map.of("ok", "1", "md5", "abc", "mb", "16"), r.result("blk_verify"));
        assertEquals("9", r.value("net_ping", "received"));
        assertTrue(r.result("fs_verify").isEmpty());
        assertThrows(IllegalStateException.class, () -> r.value("net_ping", "lost"));
    }

    @Test
    void nonZeroExitOrTimeoutIsNotAPass() {
        assertFalse(result(1, false, List.of()).passed());
        assertFalse(result(0, true, List.of()).passed());
        assertFalse(result(-1, false, List.of()).passed());
    }
}
