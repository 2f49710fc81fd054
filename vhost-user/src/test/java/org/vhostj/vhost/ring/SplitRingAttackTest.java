package org.vhostj.vhost.ring;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/** Hostile split-ring chains: each fails that request only, and the next good chain is served. */
class SplitRingAttackTest {
    static final int SIZE = 16;
    TestGuest guest;
    TestSplitDriver drv;
    SplitRing ring;
    GuestMemory mem;
    DescriptorChain chain = new DescriptorChain(SIZE);
    long buf;

    @BeforeEach
    void setUp() {
        guest = new TestGuest(1 << 20);
        drv = new TestSplitDriver(guest, SIZE);
        mem = guest.guestMemory();
        ring = new SplitRing(drv.addresses(), false, true, 0);
        assertTrue(ring.attach(mem));
        buf = guest.alloc(64 * 1024, 4096);
    }

    @AfterEach
    void tearDown() { guest.close(); }

    /** After a failed chain, a good one on the same ring still works. */
    private void assertGoodChainServed() {
        drv.desc(10, buf, 100, DESC_F_NEXT, 11);
        drv.desc(11, buf + 4096, 200, DESC_F_WRITE, 0);
        drv.publish(10);
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(10, chain.head());
        assertEquals(100, chain.readableBytes());
        assertEquals(200, chain.writableBytes());
        assertTrue(ring.pushUsed(10, 200));
        ring.flushUsed();
    }

    private void assertChainFault(ChainFault expected, int head) {
        drv.publish(head);
        assertEquals(DeviceRing.POP_CHAIN_FAULT, ring.pop(chain));
        assertEquals(expected, ring.lastFault());
        assertEquals(head, chain.head());
        assertTrue(ring.pushUsed(head, 0), "a failed chain is still returned to the driver");
        ring.flushUsed();
        drv.awaitUsedQuietly();
        assertGoodChainServed();
    }

    @Test
    void descriptorLoopFailsOnlyThatRequest() {
        drv.desc(0, buf, 8, DESC_F_NEXT, 1);
        drv.desc(1, buf, 8, DESC_F_NEXT, 0);
        assertChainFault(ChainFault.LOOP, 0);
    }

    @Test
    void selfLoopOnOneDescriptor() {
        drv.desc(3, buf, 8, DESC_F_NEXT, 3);
        assertChainFault(ChainFault.LOOP, 3);
    }

    @Test
    void nextIndexBeyondTable() {
        drv.desc(0, buf, 8, DESC_F_NEXT, SIZE + 5);
        assertChainFault(ChainFault.BAD_INDEX, 0);
    }

    @Test
    void descriptorPastRegionEnd() {
        drv.desc(0, (1 << 20) - 10, 20, 0, 0);
        assertChainFault(ChainFault.BAD_ADDRESS, 0);
    }

    @Test
    void descriptorAddressWrapsAroundTheAddressSpace() {
        drv.desc(0, -16L, 64, 0, 0);
        assertChainFault(ChainFault.BAD_ADDRESS, 0);
    }

    @Test
    void readableAfterWritableIsRejected() {
        drv.desc(0, buf, 8, DESC_F_WRITE | DESC_F_NEXT, 1);
        drv.desc(1, buf + 8, 8, 0, 0);
        assertChainFault(ChainFault.ORDER, 0);
    }

    @Test
    void totalLengthBeyond4GiBIsRejected() {
        // a sparse 3 GiB region: two descriptors of 2.5 GiB each are each valid, but their sum overflows u32
        try (TestGuest big = new TestGuest(1 << 20)) {
            big.addRegion(1L << 32, 3L << 30);
            TestSplitDriver d = new TestSplitDriver(big, SIZE);
            SplitRing r = new SplitRing(d.addresses(), false, true, 0);
            assertTrue(r.attach(big.guestMemory()));
            d.desc(0, 1L << 32, 0xa000_0000L, DESC_F_WRITE | DESC_F_NEXT, 1);
            d.desc(1, 1L << 32, 0xa000_0000L, DESC_F_WRITE, 0);
            d.publish(0);
            assertEquals(DeviceRing.POP_CHAIN_FAULT, r.pop(chain));
            assertEquals(ChainFault.TOO_LONG, r.lastFault());
        }
    }

    @Test
    void nestedIndirectTable() {
        long table = guest.alloc(64, 16), inner = guest.alloc(32, 16);
        MemorySegment t = guest.at(table, 64);
        TestSplitDriver.indirectEntry(t, 0, inner, 32, DESC_F_INDIRECT, 0);
        drv.desc(0, table, 64, DESC_F_INDIRECT, 0);
        assertChainFault(ChainFault.BAD_INDIRECT, 0);
    }

    @Test
    void indirectTableLengthNotAMultipleOf16() {
        long table = guest.alloc(64, 16);
        drv.desc(0, table, 40, DESC_F_INDIRECT, 0);
        assertChainFault(ChainFault.BAD_INDIRECT, 0);
    }

    @Test
    void indirectWithNextFlag() {
        long table = guest.alloc(64, 16);
        drv.desc(0, table, 32, DESC_F_INDIRECT | DESC_F_NEXT, 1);
        assertChainFault(ChainFault.BAD_INDIRECT, 0);
    }

    @Test
    void loopInsideIndirectTable() {
        long table = guest.alloc(64, 16);
        MemorySegment t = guest.at(table, 64);
        TestSplitDriver.indirectEntry(t, 0, buf, 8, DESC_F_NEXT, 1);
        TestSplitDriver.indirectEntry(t, 1, buf, 8, DESC_F_NEXT, 0);
        drv.desc(0, table, 32, DESC_F_INDIRECT, 0);
        assertChainFault(ChainFault.LOOP, 0);
    }

    @Test
    void indirectTableOutsideMemory() {
        drv.desc(0, 0x4000_0000L, 64, DESC_F_INDIRECT, 0);
        assertChainFault(ChainFault.BAD_ADDRESS, 0);
    }

    @Test
    void validIndirectChainIsWalked() {
        long table = guest.alloc(48, 16);
        MemorySegment t = guest.at(table, 48);
        TestSplitDriver.indirectEntry(t, 0, buf, 16, DESC_F_NEXT, 1);
        TestSplitDriver.indirectEntry(t, 1, buf + 100, 0, DESC_F_NEXT, 2);          // zero-length: skipped
        TestSplitDriver.indirectEntry(t, 2, buf + 4096, 512, DESC_F_WRITE, 0);
        drv.desc(5, table, 48, DESC_F_INDIRECT, 0);
        drv.publish(5);
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(2, chain.count());
        assertEquals(16, chain.readableBytes());
        assertEquals(512, chain.writableBytes());
    }

    @Test
    void availIndexJumpStopsOnlyThatQueue() {
        drv.setAvailIdx(SIZE + 1);
        assertEquals(DeviceRing.POP_RING_FAULT, ring.pop(chain));
    }

    @Test
    void headIndexOutOfRangeIsARingFault() {
        drv.publish(SIZE + 3);
        assertEquals(DeviceRing.POP_RING_FAULT, ring.pop(chain));
    }

    @Test
    void headAlreadyInFlightIsARingFault() {
        drv.desc(0, buf, 8, 0, 0);
        drv.publish(0);
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        drv.publish(0);
        assertEquals(DeviceRing.POP_RING_FAULT, ring.pop(chain), "the driver offered a head the device still holds");
    }

    @Test
    void completingAHeadTwiceOrNeverHandedOutIsRefused() {
        drv.desc(0, buf, 8, 0, 0);
        drv.publish(0);
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertTrue(ring.pushUsed(0, 0));
        assertFalse(ring.pushUsed(0, 0));
        assertFalse(ring.pushUsed(7, 0));
        assertFalse(ring.pushUsed(SIZE, 0));
    }

    @Test
    void bufferSpanningTwoAdjacentRegionsBecomesTwoEntries() {
        TestGuest two = new TestGuest(1 << 20);
        try {
            two.addRegion(1 << 20, 1 << 20);
            TestSplitDriver d = new TestSplitDriver(two, SIZE);
            SplitRing r = new SplitRing(d.addresses(), false, true, 0);
            assertTrue(r.attach(two.guestMemory()));
            d.desc(0, (1 << 20) - 100, 300, DESC_F_WRITE, 0);
            d.publish(0);
            assertEquals(DeviceRing.POP_OK, r.pop(chain));
            assertEquals(2, chain.count());
            assertEquals(100, chain.length(0));
            assertEquals(200, chain.length(1));
            assertEquals(1 << 20, chain.gpa(1));
        } finally {
            two.close();
        }
    }

    @Test
    void ringOutsideMemoryIsRefusedAtAttach() {
        SplitRing r = new SplitRing(new RingAddresses(SIZE, (1 << 20) - 64, drv.availGpa, drv.usedGpa, 0, false), false, true, 0);
        assertFalse(r.attach(mem));
        SplitRing misaligned = new SplitRing(new RingAddresses(SIZE, drv.descGpa, drv.availGpa + 1, drv.usedGpa, 0, false), false, true, 0);
        assertFalse(misaligned.attach(mem));
    }

    @Test
    void chainLongerThanCapacityIsTooLong() {
        DescriptorChain small = new DescriptorChain(2);
        for (int i = 0; i < 3; i++) drv.desc(i, buf + 16L * i, 8, i < 2 ? DESC_F_NEXT : 0, i + 1);
        drv.publish(0);
        assertEquals(DeviceRing.POP_CHAIN_FAULT, ring.pop(small));
        assertEquals(ChainFault.TOO_LONG, ring.lastFault());
    }
}
