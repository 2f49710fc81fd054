package org.vhostj.vhost.ring;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/** Split rings: notification suppression both ways, and in-flight tracking across a daemon crash. */
class SplitRingNotificationTest {
    static final int SIZE = 8;
    TestGuest guest;
    TestSplitDriver drv;
    DescriptorChain chain = new DescriptorChain(SIZE);
    long buf;

    @BeforeEach
    void setUp() {
        guest = new TestGuest(1 << 20);
        drv = new TestSplitDriver(guest, SIZE);
        buf = guest.alloc(4096, 4096);
        for (int i = 0; i < SIZE; i++) drv.desc(i, buf + 64L * i, 64, DESC_F_WRITE, 0);
    }

    @AfterEach
    void tearDown() { guest.close(); }

    private SplitRing ring(boolean eventIdx, int base) {
        SplitRing r = new SplitRing(drv.addresses(), eventIdx, true, base);
        assertTrue(r.attach(guest.guestMemory()));
        return r;
    }

    private void serveOne(SplitRing r, int head) {
        drv.publish(head);
        assertEquals(DeviceRing.POP_OK, r.pop(chain));
        assertTrue(r.pushUsed(chain.head(), 64));
    }

    @Test
    void withoutEventIdxTheNoInterruptAndNoNotifyFlagsAreHonoured() {
        SplitRing r = ring(false, 0);
        r.disableKicks();
        assertEquals(USED_F_NO_NOTIFY, drv.usedFlags());
        drv.publish(0);
        assertTrue(r.enableKicks(), "a buffer that arrived while kicks were off is reported");
        assertEquals(0, drv.usedFlags());
        assertEquals(DeviceRing.POP_OK, r.pop(chain));
        r.pushUsed(0, 64);
        drv.setAvailFlags(AVAIL_F_NO_INTERRUPT);
        assertFalse(r.flushUsed());
        drv.setAvailFlags(0);
        serveOne(r, 1);
        assertTrue(r.flushUsed());
    }

    @Test
    void withEventIdxTheDeviceInterruptsOnlyWhenUsedPassesUsedEvent() {
        SplitRing r = ring(true, 0);
        drv.setUsedEvent(2);            // "interrupt me once used idx passes 2"
        serveOne(r, 0);
        assertTrue(r.flushUsed(), "the first flush after start always interrupts");
        serveOne(r, 1);
        assertFalse(r.flushUsed(), "used 2 has not passed used_event 2");
        serveOne(r, 2);
        assertTrue(r.flushUsed(), "used went 2 -> 3, past used_event 2");
        serveOne(r, 3);
        assertFalse(r.flushUsed());
        assertFalse(r.enableKicks());
        assertEquals(4, drv.availEvent(), "the device asks for a kick at the next avail index");
    }

    @Test
    void inflightHeadsAreResubmittedInOrderAfterACrash() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment region = a.allocate(SplitInflight.regionSize(SIZE), 64);
            SplitRing first = ring(false, 0);
            assertEquals(0, first.trackInflight(new SplitInflight(region, SIZE)).length, "a fresh region has nothing to resubmit");
            for (int h : new int[] {5, 2, 7}) { drv.publish(h); assertEquals(DeviceRing.POP_OK, first.pop(chain)); }
            assertTrue(first.pushUsed(2, 64));
            first.flushUsed();
            // the daemon dies here with heads 5 and 7 in flight; a new one starts on the same ring and region
            SplitRing second = ring(false, 0);
            int[] resubmit = second.trackInflight(new SplitInflight(region, SIZE));
            assertArrayEquals(new int[] {5, 7}, resubmit, "in the order the driver made them available");
            assertEquals(3, second.base(), "next avail = used idx (1) + in flight (2)");
            for (int h : resubmit) {
                assertEquals(DeviceRing.POP_OK, second.walkHead(h, chain));
                assertTrue(second.pushUsed(h, 64));
            }
            second.flushUsed();
            assertEquals(3, drv.usedIdx());
        }
    }

    @Test
    void aUsedBatchHalfRecordedAtTheCrashIsNotResubmitted() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment region = a.allocate(SplitInflight.regionSize(SIZE), 64);
            SplitRing first = ring(false, 0);
            SplitInflight tracker = new SplitInflight(region, SIZE);
            first.trackInflight(tracker);
            for (int h : new int[] {1, 3}) { drv.publish(h); assertEquals(DeviceRing.POP_OK, first.pop(chain)); }
            // completed and published to the driver, but the daemon died before clearing the inflight flags
            assertTrue(first.pushUsed(1, 64));
            assertTrue(first.pushUsed(3, 64));
            drv.used.set(LE_SHORT, USED_IDX_OFFSET, (short) 2);   // what flushUsed published before the crash
            SplitRing second = ring(false, 0);
            assertEquals(0, second.trackInflight(new SplitInflight(region, SIZE)).length, "both completions reached the driver");
            assertEquals(2, second.base());
        }
    }
}
