package org.vhostj.vhost.ring;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/**
 * The split ring reads a burst's avail entries and head descriptors ahead ({@link SplitRing#AHEAD} at a
 * time): chains still come out in avail order with their own buffers, across refills, unpops and entries the
 * driver adds meanwhile.
 */
class SplitRingLookAheadTest {
    static final int SIZE = 64;
    TestGuest guest;
    TestSplitDriver drv;
    SplitRing ring;
    DescriptorChain chain = new DescriptorChain(SIZE);
    long buf;

    @BeforeEach
    void setUp() {
        guest = new TestGuest(1 << 20);
        drv = new TestSplitDriver(guest, SIZE);
        ring = new SplitRing(drv.addresses(), false, true, 0);
        assertTrue(ring.attach(guest.guestMemory()));
        buf = guest.alloc(SIZE * 256L, 4096);
    }

    @AfterEach
    void tearDown() { guest.close(); }

    /** Publishes head {@code h}: one writable buffer of 100 + h bytes at its own place. */
    private void post(int h) {
        drv.desc(h, buf + 256L * h, 100 + h, DESC_F_WRITE, 0);
        drv.publish(h);
    }

    private void assertPops(int head) {
        assertEquals(DeviceRing.POP_OK, ring.pop(chain), "head " + head);
        assertEquals(head, chain.head());
        assertEquals(1, chain.count());
        assertEquals(100 + head, chain.writableBytes());
        assertEquals(buf + 256L * head, chain.gpa(0), "head " + head + "'s own buffer, not a neighbour's");
    }

    @Test
    void moreChainsThanOneLookAheadComeOutInOrder() {
        int n = SplitRing.AHEAD + 9;
        for (int h = 0; h < n; h++) post(h);
        for (int h = 0; h < n; h++) assertPops(h);
        assertEquals(DeviceRing.POP_EMPTY, ring.pop(chain));
    }

    @Test
    void anUnpoppedChainComesBackTheSameAcrossARefill() {
        int n = SplitRing.AHEAD + 2;
        for (int h = 0; h < n; h++) post(h);
        for (int h = 0; h < SplitRing.AHEAD; h++) assertPops(h);
        assertPops(SplitRing.AHEAD);          // the second look-ahead starts here
        ring.unpop();
        assertPops(SplitRing.AHEAD);
        ring.unpop();
        ring.unpop();                          // back before the second look-ahead's start
        assertPops(SplitRing.AHEAD - 1);
        assertPops(SplitRing.AHEAD);
        assertPops(SplitRing.AHEAD + 1);
    }

    @Test
    void entriesPublishedAfterTheLookAheadAreServedToo() {
        for (int h = 0; h < 3; h++) post(h);
        assertPops(0);
        for (int h = 3; h < 6; h++) post(h);
        for (int h = 1; h < 6; h++) assertPops(h);
        assertEquals(DeviceRing.POP_EMPTY, ring.pop(chain));
    }

    @Test
    void aLongChainInTheWindowIsWalkedAndABadHeadFaultsOnlyWhenReached() {
        post(0);
        drv.desc(1, buf + 256, 10, DESC_F_NEXT, 2);
        drv.desc(2, buf + 512, 20, DESC_F_WRITE, 0);
        drv.publish(1);
        drv.publish(SIZE + 3);   // not a descriptor
        assertPops(0);
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(1, chain.head());
        assertEquals(10, chain.readableBytes());
        assertEquals(20, chain.writableBytes());
        assertEquals(DeviceRing.POP_RING_FAULT, ring.pop(chain));
        assertEquals(ChainFault.BAD_INDEX, ring.lastFault());
    }
}
