package org.vhostj.vhost.fuzz;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.ring.DescriptorChain;
import org.vhostj.vhost.ring.DeviceRing;
import org.vhostj.vhost.ring.PackedRing;
import org.vhostj.vhost.ring.RingAddresses;
import org.vhostj.vhost.ring.SplitRing;
import org.vhostj.vhost.testing.TestGuest;

/**
 * Coverage-guided fuzzing of both ring walkers: the fuzzer writes arbitrary descriptor tables, indirect
 * tables and ring indexes into guest memory. Whatever it writes, pop never throws, and every chain it
 * accepts lies inside guest memory, readable before writable, within u32 total length.
 * {@code mvn test} replays the corpus; {@code JAZZER_FUZZ=1 mvn test -Dtest=ChainWalkerFuzzTest} fuzzes.
 */
class ChainWalkerFuzzTest {
    private static final int MEM = 64 * 1024;
    private static final TestGuest GUEST = new TestGuest(MEM);
    private static final GuestMemory MEMORY = GUEST.guestMemory();
    private static final MemorySegment RAM = GUEST.regions().get(0).memory();

    @FuzzTest(maxDuration = "60s")
    void anyRingContentsAreWalkedSafely(FuzzedDataProvider data) {
        boolean packed = data.consumeBoolean();
        int size = 1 << data.consumeInt(0, 6);
        boolean eventIdx = data.consumeBoolean(), indirect = data.consumeBoolean();
        RAM.fill((byte) 0);
        byte[] image = data.consumeBytes(MEM / 4);
        MemorySegment.copy(MemorySegment.ofArray(image), 0, RAM, 0, image.length);
        // scatter a few plausible addresses and lengths so walks get past the first descriptor
        int pokes = data.consumeInt(0, 32);
        for (int i = 0; i < pokes; i++) {
            long at = data.consumeInt(0, MEM / 4 - 8) & ~7L;
            RAM.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, at, data.consumeLong(-64, MEM + 64));
        }
        // rings in the first 16 KiB (desc 0, avail/driver 8192, used/device 12288)
        RingAddresses a = new RingAddresses(size, 0, 8192, 12288, 0, false);
        DeviceRing ring = packed ? new PackedRing(a, eventIdx, indirect, data.consumeInt(0, 0xffff) & (0x8000 | (size - 1)))
                                 : new SplitRing(a, eventIdx, indirect, data.consumeInt(0, 0xffff));
        assertTrue(ring.attach(MEMORY));
        DescriptorChain chain = new DescriptorChain(size);
        int pops = data.consumeInt(1, 3 * size);
        for (int i = 0; i < pops; i++) {
            int r = ring.pop(chain);
            if (r == DeviceRing.POP_EMPTY || r == DeviceRing.POP_RING_FAULT) break;
            if (r == DeviceRing.POP_OK) assertChainInsideMemory(chain);
            assertTrue(chain.head() >= 0 && chain.head() < size, "the used id must be one the ring can take");
            if (data.consumeBoolean()) assertTrue(ring.pushUsed(chain.head(), data.consumeInt()));
            if (data.consumeBoolean()) ring.flushUsed();
            if (data.consumeBoolean()) ring.enableKicks();
        }
    }

    static void assertChainInsideMemory(DescriptorChain chain) {
        for (int i = 0; i < chain.count(); i++) {
            assertTrue(chain.length(i) > 0, "zero-length buffers are skipped");
            assertTrue(chain.offset(i) >= 0 && chain.offset(i) + chain.length(i) <= chain.memory(i).byteSize(), "buffer inside its region");
            assertEquals(i >= chain.readableCount(), chain.isWritable(i));
        }
        assertEquals(chain.readableBytes() + chain.writableBytes(), sum(chain));
        assertTrue(sum(chain) <= 0xffff_ffffL, "total length fits u32");
    }

    private static long sum(DescriptorChain c) {
        long s = 0;
        for (int i = 0; i < c.count(); i++) s += c.length(i);
        return s;
    }
}
