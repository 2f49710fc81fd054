package org.vhostj.harness.frontend;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.vhostj.sys.Memfd;
import org.vhostj.vhost.driver.RingArea;

class GuestRamTest {
    @Test
    void regionsAreSharedMemfdsThatASecondMappingSees() {
        try (GuestRam ram = GuestRam.create(2, 1 << 20); Arena other = Arena.ofConfined()) {
            RingArea a = ram.allocate(64, 64, 1);
            assertEquals(ram.regions().get(1).gpa(), a.gpa(), "allocated in the preferred region");
            a.memory().set(ValueLayout.JAVA_LONG, 8, 0x1234_5678_9abcL);
            // what a backend does with the fd from SET_MEM_TABLE
            MemorySegment backendView = Memfd.mapShared(ram.regions().get(1).fd().value(), 0, 1 << 20, false, other);
            assertEquals(0x1234_5678_9abcL, backendView.get(ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void regionsHaveHolesBetweenThemAndTranslationsAgree() {
        try (GuestRam ram = GuestRam.create(3, 1 << 20)) {
            GuestRam.Region r0 = ram.regions().get(0), r1 = ram.regions().get(1);
            assertEquals(0, r0.gpa());
            assertTrue(r1.gpa() >= r0.gpaEnd() + GuestRam.REGION_ALIGN - (1 << 20), "a hole separates regions");
            assertNull(ram.regionOf(r0.gpaEnd(), 1), "the hole is not guest memory");
            assertNull(ram.regionOf(ram.unmappedGpa(), 1));
            assertNull(ram.regionOf(r0.gpaEnd() - 8, 16), "a range across a region end is not in one region");
            RingArea a = ram.allocate(4096, 4096, 2);
            assertEquals(a.memory().address(), ram.frontendVaOf(a.gpa()));
            assertEquals(a.memory().address(), ram.at(a.gpa(), 16).address());
        }
    }

    @Test
    void allocationRespectsAlignmentAndSpillsToTheNextRegion() {
        try (GuestRam ram = GuestRam.create(2, 8192)) {
            RingArea a = ram.allocate(10, 1, 0);
            RingArea b = ram.allocate(16, 16, 0);
            assertEquals(16, b.gpa() - a.gpa());
            RingArea c = ram.allocate(8170, 8, 0);
            assertEquals(ram.regions().get(1).gpa(), c.gpa(), "region 0 is full: the next one serves");
            assertThrows(IllegalStateException.class, () -> ram.allocate(8192, 8, 0));
        }
    }

    @Test
    void adjacentRegionsAreBackToBack() {
        try (GuestRam ram = GuestRam.create(2, 1 << 16, true)) {
            assertEquals(ram.regions().get(0).gpaEnd(), ram.regions().get(1).gpa());
        }
    }
}
