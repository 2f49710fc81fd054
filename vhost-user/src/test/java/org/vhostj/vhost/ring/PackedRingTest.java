package org.vhostj.vhost.ring;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestPackedDriver;

/** Packed rings: ownership by wrap counters, chains, indirect tables, event suppression, and attacks. */
class PackedRingTest {
    static final int SIZE = 8;
    TestGuest guest;
    TestPackedDriver drv;
    PackedRing ring;
    DescriptorChain chain = new DescriptorChain(64);
    long buf;

    @BeforeEach
    void setUp() {
        guest = new TestGuest(1 << 20);
        drv = new TestPackedDriver(guest, SIZE);
        ring = newRing(false);
        buf = guest.alloc(64 * 1024, 4096);
    }

    private PackedRing newRing(boolean eventIdx) {
        PackedRing r = new PackedRing(new RingAddresses(SIZE, drv.ringGpa, drv.driverEventGpa, drv.deviceEventGpa, 0, false), eventIdx, true, 0x8000);
        assertTrue(r.attach(guest.guestMemory()));
        return r;
    }

    @AfterEach
    void tearDown() { guest.close(); }

    @Test
    void chainsAcrossSeveralWrapsKeepIdsLengthsAndOwnership() {
        // 3-slot chains on an 8-slot ring wrap mid-chain; run enough to flip both wrap counters several times
        for (int round = 0; round < 20; round++) {
            int id = round % SIZE;
            drv.post(id, new long[] {buf, buf + 1000, buf + 2000}, new long[] {10, 20, 300}, new int[] {0, 0, DESC_F_WRITE});
            assertEquals(DeviceRing.POP_OK, ring.pop(chain), "round " + round);
            assertEquals(id, chain.head());
            assertEquals(3, chain.ringSlots());
            assertEquals(30, chain.readableBytes());
            assertEquals(300, chain.writableBytes());
            assertEquals(DeviceRing.POP_EMPTY, ring.pop(chain));
            assertTrue(ring.pushUsed(id, 123));
            ring.flushUsed();
            int[] used = drv.takeUsed();
            assertNotNull(used, "round " + round);
            assertEquals(id, used[0]);
            assertEquals(123, used[1]);
            assertNull(drv.takeUsed());
        }
    }

    @Test
    void outOfOrderCompletionsAreReportedById() {
        drv.post(1, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        drv.post(2, new long[] {buf + 64, buf + 128}, new long[] {8, 8}, new int[] {0, DESC_F_WRITE});
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertTrue(ring.pushUsed(2, 8));
        assertTrue(ring.pushUsed(1, 8));
        ring.flushUsed();
        assertEquals(2, drv.takeUsed()[0]);
        assertEquals(1, drv.takeUsed()[0]);
        assertEquals(0, ring.outstandingCount());
    }

    @Test
    void indirectTableOfPackedDescriptors() {
        long table = guest.alloc(48, 16);
        MemorySegment t = guest.at(table, 48);
        // packed indirect entries: {addr, len, id, flags}; used in order, no NEXT
        t.set(LE_LONG, 0, buf); t.set(LE_INT, 8, 40); t.set(LE_SHORT, 14, (short) 0);
        t.set(LE_LONG, 16, buf + 4096); t.set(LE_INT, 24, 4096); t.set(LE_SHORT, 30, (short) DESC_F_WRITE);
        t.set(LE_LONG, 32, buf + 8192); t.set(LE_INT, 40, 1); t.set(LE_SHORT, 46, (short) DESC_F_WRITE);
        drv.post(4, new long[] {table}, new long[] {48}, new int[] {DESC_F_INDIRECT});
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(1, chain.ringSlots());
        assertEquals(40, chain.readableBytes());
        assertEquals(4097, chain.writableBytes());
    }

    @Test
    void nestedIndirectTable() {
        long table = guest.alloc(32, 16);
        MemorySegment t = guest.at(table, 32);
        t.set(LE_LONG, 0, table); t.set(LE_INT, 8, 32); t.set(LE_SHORT, 14, (short) DESC_F_INDIRECT);
        drv.post(3, new long[] {table}, new long[] {32}, new int[] {DESC_F_INDIRECT});
        assertEquals(DeviceRing.POP_CHAIN_FAULT, ring.pop(chain));
        assertEquals(ChainFault.BAD_INDIRECT, ring.lastFault());
        assertEquals(3, chain.head());
        assertTrue(ring.pushUsed(3, 0), "the failed chain goes back to the driver");
        drv.post(5, new long[] {buf}, new long[] {8}, new int[] {0});
        assertEquals(DeviceRing.POP_OK, ring.pop(chain), "the next chain is served");
    }

    @Test
    void descriptorPastRegionEndFailsOnlyThatChainAndKeepsTheRingInStep() {
        drv.post(0, new long[] {buf, (1 << 20) - 4, buf}, new long[] {8, 64, 8}, new int[] {0, 0, DESC_F_WRITE});
        assertEquals(DeviceRing.POP_CHAIN_FAULT, ring.pop(chain));
        assertEquals(ChainFault.BAD_ADDRESS, ring.lastFault());
        assertEquals(3, chain.ringSlots(), "all slots of the bad chain are consumed");
        assertTrue(ring.pushUsed(0, 0));
        drv.post(1, new long[] {buf}, new long[] {16}, new int[] {DESC_F_WRITE});
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(1, chain.head());
    }

    @Test
    void chainLongerThanTheRingIsALoop() {
        // every slot says NEXT and is available: the walk must stop after one ring's worth
        for (int s = 0; s < SIZE; s++) drv.raw(s, buf, 8, 0, DESC_F_NEXT | PACKED_DESC_F_AVAIL);
        assertEquals(DeviceRing.POP_CHAIN_FAULT, ring.pop(chain));
        assertEquals(ChainFault.LOOP, ring.lastFault());
    }

    @Test
    void bufferIdBeyondRingSizeIsARingFault() {
        drv.raw(0, buf, 8, SIZE + 1, PACKED_DESC_F_AVAIL);
        assertEquals(DeviceRing.POP_RING_FAULT, ring.pop(chain));
    }

    @Test
    void notAvailableSlotIsEmptyAndUsedSlotIsNotAvailable() {
        assertEquals(DeviceRing.POP_EMPTY, ring.pop(chain));
        drv.raw(0, buf, 8, 0, PACKED_DESC_F_AVAIL | PACKED_DESC_F_USED);  // already used in this wrap
        assertEquals(DeviceRing.POP_EMPTY, ring.pop(chain));
        assertFalse(ring.hasAvailable());
    }

    @Test
    void eventSuppressionDisableEnableAndDescriptorEvent() {
        PackedRing r = newRing(true);
        r.disableKicks();
        assertEquals(EVENT_FLAG_DISABLE, drv.deviceEventFlags());
        assertFalse(r.enableKicks());
        assertEquals(EVENT_FLAG_DESC, drv.deviceEventFlags());

        drv.setDriverEvent(0, EVENT_FLAG_DISABLE);
        drv.post(0, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        assertEquals(DeviceRing.POP_OK, r.pop(chain));
        r.pushUsed(0, 8);
        assertFalse(r.flushUsed(), "the driver disabled interrupts");

        drv.setDriverEvent(0, EVENT_FLAG_ENABLE);
        drv.post(1, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        r.pop(chain);
        r.pushUsed(1, 8);
        assertTrue(r.flushUsed());

        // DESC: interrupt only when the used index passes slot 4 (wrap bit 1)
        drv.setDriverEvent(4 | 0x8000, EVENT_FLAG_DESC);
        drv.post(2, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        r.pop(chain);
        r.pushUsed(2, 8);
        assertFalse(r.flushUsed(), "used index 3 has not passed 4");
        drv.post(3, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        drv.post(4, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        r.pop(chain);
        r.pop(chain);
        r.pushUsed(3, 8);
        r.pushUsed(4, 8);
        assertTrue(r.flushUsed(), "used index moved from 3 to 5, past 4");
    }

    /**
     * The driver reaps and posts again while the device is still in one batch, so the used index moves more
     * than a lap between two flushes: the event slot it asked for (slot 0 of the second lap) was written in
     * that batch, and the flush must signal though old = 1, new = 2 alone would say it was not passed.
     */
    @Test
    void usedIndexMovingAWholeLapBetweenFlushesSignals() {
        PackedRing r = newRing(true);
        drv.post(0, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
        assertEquals(DeviceRing.POP_OK, r.pop(chain));
        r.pushUsed(0, 8);
        assertTrue(r.flushUsed(), "first flush");
        assertNotNull(drv.takeUsed());
        drv.setDriverEvent(0, EVENT_FLAG_DESC);   // slot 0, wrap counter 0: the start of the second lap
        for (int i = 1; i <= SIZE + 1; i++) {
            drv.post(i % SIZE, new long[] {buf}, new long[] {8}, new int[] {DESC_F_WRITE});
            assertEquals(DeviceRing.POP_OK, r.pop(chain), "chain " + i);
            assertTrue(r.pushUsed(i % SIZE, 8));
            assertNotNull(drv.takeUsed(), "chain " + i);
        }
        assertTrue(r.flushUsed(), "the used index passed slot 0 of the second lap in this batch");
    }

    @Test
    void baseEncodesAvailAndUsedWithWrapCounters() {
        for (int i = 0; i < SIZE + 2; i++) {
            drv.post(i % SIZE, new long[] {buf}, new long[] {8}, new int[] {0});
            assertEquals(DeviceRing.POP_OK, ring.pop(chain));
            ring.pushUsed(i % SIZE, 0);
        }
        // 10 slots consumed on an 8-slot ring: index 2, wrap counter flipped to 0
        assertEquals(2 | (2 << 16), ring.base());
        PackedRing resumed = new PackedRing(new RingAddresses(SIZE, drv.ringGpa, drv.driverEventGpa, drv.deviceEventGpa, 0, false), false, true, ring.base());
        assertTrue(resumed.attach(guest.guestMemory()));
        drv.post(3, new long[] {buf}, new long[] {8}, new int[] {0});
        assertEquals(DeviceRing.POP_OK, resumed.pop(chain), "a ring resumed from base continues where the old one stopped");
        assertEquals(3, chain.head());
    }

    @Test
    void unpopReturnsTheChainToTheRing() {
        drv.post(6, new long[] {buf, buf + 64}, new long[] {8, 8}, new int[] {0, DESC_F_WRITE});
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        ring.unpop();
        assertEquals(0, ring.outstandingCount());
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(6, chain.head());
    }

    @Test
    void usedElementsOfChainsWithWritableBuffersCarryTheWriteFlag() {
        drv.post(0, new long[] {buf, buf + 64}, new long[] {8, 8}, new int[] {0, DESC_F_WRITE});
        drv.post(1, new long[] {buf}, new long[] {8}, new int[] {0});
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertEquals(DeviceRing.POP_OK, ring.pop(chain));
        assertTrue(ring.pushUsed(0, 8));
        assertTrue(ring.pushUsed(1, 0));
        int first = Short.toUnsignedInt(drv.ring.get(LE_SHORT, 14)), second = Short.toUnsignedInt(drv.ring.get(LE_SHORT, 2 * 16 + 14));
        assertEquals(DESC_F_WRITE, first & DESC_F_WRITE, "the length of a chain the device wrote is valid");
        assertEquals(0, second & DESC_F_WRITE, "a read-only chain's length is reserved");
    }
}
