package org.vhostj.vhost.driver;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Both driver ring layouts against the test-only {@link DeviceModel}, with and without EVENT_IDX. */
class DriverRingTest {
    static final long BASE_GPA = 0x10_0000;
    static final long RAM_BYTES = 4 << 20;

    final Arena arena = Arena.ofShared();
    final MemorySegment ram = arena.allocate(RAM_BYTES, 4096);
    long bump;

    @AfterEach
    void close() { arena.close(); }

    static List<Arguments> layouts() {
        return List.of(Arguments.of(false, false), Arguments.of(false, true), Arguments.of(true, false), Arguments.of(true, true));
    }

    RingArea area(long bytes, long align) {
        bump = (bump + align - 1) & -align;
        RingArea a = new RingArea(ram.asSlice(bump, bytes), BASE_GPA + bump);
        bump += bytes;
        return a;
    }

    DriverRing ring(boolean packed, boolean eventIdx, int size, int maxIndirect) {
        if (packed) {
            return new DriverPackedRing(size, eventIdx, area(DriverPackedRing.descriptorAreaBytes(size), 16),
                    area(4, 4), area(4, 4), area(DriverPackedRing.indirectAreaBytes(size, maxIndirect), 16), maxIndirect);
        }
        return new DriverSplitRing(size, eventIdx, area(DriverSplitRing.descriptorAreaBytes(size), 16),
                area(DriverSplitRing.driverAreaBytes(size), 2), area(DriverSplitRing.deviceAreaBytes(size), 4),
                area(DriverSplitRing.indirectAreaBytes(size, maxIndirect), 16), maxIndirect);
    }

    long buffer(int bytes) { return area(bytes, 8).gpa(); }

    MemorySegment at(long gpa, long len) { return ram.asSlice(gpa - BASE_GPA, len); }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void echoRoundTripThroughDirectAndIndirectChains(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 4);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        long in1 = buffer(5), in2 = buffer(7), out1 = buffer(4), out2 = buffer(16);
        at(in1, 5).copyFrom(MemorySegment.ofArray("hello".getBytes()));
        at(in2, 7).copyFrom(MemorySegment.ofArray(", world".getBytes()));
        BufferList b = new BufferList(4).readable(in1, 5).readable(in2, 7).writable(out1, 4).writable(out2, 16);
        for (boolean indirect : new boolean[] {false, true}) {
            at(out1, 4).fill((byte) 0);
            at(out2, 16).fill((byte) 0);
            int id = ring.add(b, indirect);
            assertTrue(id >= 0 && id < 8);
            assertNull(dev.pop(), "nothing is visible before publish");
            assertTrue(ring.publish(), "a device that suppresses nothing wants a kick");
            DeviceModel.Chain c = dev.pop();
            assertNull(c.fault());
            assertEquals(id, c.id());
            assertEquals(packed && !indirect ? 4 : 1, c.slots(), "ring slots taken");
            assertEquals(12, c.readableBytes());
            assertEquals(20, c.writableBytes());
            dev.push(c, dev.echo(c));
            dev.flushUsed();
            assertEquals(id, ring.pollUsed());
            assertEquals(12, ring.usedLength());
            assertEquals(DriverRing.NONE, ring.pollUsed());
            assertEquals("hell", new String(at(out1, 4).toArray(ValueLayout.JAVA_BYTE)));
            assertEquals("o, world", new String(at(out2, 8).toArray(ValueLayout.JAVA_BYTE)));
            assertEquals(0, ring.inFlight());
            assertEquals(8, ring.freeDescriptors());
        }
        assertEquals(0, ring.violations());
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void fullRingRefusesThenRecoversAfterCompletion(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 4);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        long buf = buffer(64);
        BufferList three = new BufferList(4).readable(buf, 16).writable(buf + 16, 16).writable(buf + 32, 16);
        assertTrue(ring.add(three, false) >= 0);
        assertTrue(ring.add(three, false) >= 0);
        assertEquals(2, ring.freeDescriptors());
        assertEquals(DriverRing.NO_SPACE, ring.add(three, false), "3 descriptors do not fit in 2");
        int indirectId = ring.add(three, true);
        assertTrue(indirectId >= 0, "an indirect chain takes one descriptor");
        ring.publish();
        for (int i = 0; i < 3; i++) {
            DeviceModel.Chain c = dev.pop();
            dev.push(c, 0);
        }
        dev.flushUsed();
        for (int i = 0; i < 3; i++) assertTrue(ring.pollUsed() >= 0);
        assertEquals(8, ring.freeDescriptors());
        assertTrue(ring.add(three, false) >= 0);
        assertThrows(IllegalArgumentException.class, () -> ring.add(new BufferList(9).readable(buf, 1).readable(buf, 1)
                .readable(buf, 1).readable(buf, 1).readable(buf, 1), true), "more than the indirect table holds");
    }

    /** Random chain lengths, random completion order, many laps: index wrap (split u16) and wrap counters (packed). */
    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void outOfOrderCompletionsOverManyLapsKeepBookkeepingExact(boolean packed, boolean eventIdx) {
        int size = packed ? 12 : 16;   // packed rings need not be a power of 2
        DriverRing ring = ring(packed, eventIdx, size, 4);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        Random rnd = new Random(42);
        long data = buffer(64 * size);
        BufferList b = new BufferList(size);
        Set<Integer> inFlight = new HashSet<>();
        List<DeviceModel.Chain> held = new ArrayList<>();
        long completed = 0;
        while (completed < 70_000) {
            while (true) {
                boolean indirect = rnd.nextInt(4) == 0;
                int n = 1 + rnd.nextInt(indirect ? 4 : 3);
                b.clear();
                for (int i = 0; i < n; i++) b.add(data + 64L * rnd.nextInt(size), 8, i == n - 1);
                int id = ring.add(b, indirect);
                if (id == DriverRing.NO_SPACE) break;
                assertTrue(inFlight.add(id), "id " + id + " handed out twice");
            }
            ring.publish();
            for (DeviceModel.Chain c; (c = dev.pop()) != null; ) {
                assertNull(c.fault());
                held.add(c);
            }
            Collections.shuffle(held, rnd);
            int k = 1 + rnd.nextInt(held.size());
            // a packed device completes out of order too; it still writes its used slots in sequence
            for (int i = 0; i < k; i++) dev.push(held.remove(held.size() - 1), 8);
            dev.flushUsed();
            for (int id; (id = ring.pollUsed()) != DriverRing.NONE; ) {
                assertTrue(id >= 0, () -> "violation: " + ring.lastViolation());
                assertTrue(inFlight.remove(id), "completed id " + id + " was not in flight");
                assertEquals(8, ring.usedLength());
                completed++;
            }
            assertEquals(inFlight.size(), ring.inFlight());
        }
        for (DeviceModel.Chain c : held) dev.push(c, 8);
        dev.flushUsed();
        while (ring.pollUsed() >= 0) completed++;
        assertEquals(0, ring.inFlight());
        assertEquals(size, ring.freeDescriptors(), "every descriptor came back");
        assertEquals(0, ring.violations());
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void kickIsSkippedWhileTheDeviceSuppressesIt(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 1);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        BufferList b = new BufferList(1).writable(buffer(8), 8);
        if (!eventIdx) {
            dev.suppressKicks(true);
            ring.add(b, false);
            assertFalse(ring.publish(), "NO_NOTIFY / DISABLE: no kick");
            dev.suppressKicks(false);
            ring.add(b, false);
            assertTrue(ring.publish());
            assertFalse(ring.publish(), "nothing new: no kick");
            return;
        }
        // EVENT_IDX: the device (which consumed nothing yet) asks for a kick when entry 2 becomes available
        dev.kickAt(2);
        ring.add(b, false);
        assertFalse(ring.publish(), "entry 0 is before the event");
        ring.add(b, false);
        assertFalse(ring.publish(), "entry 1 is before the event");
        ring.add(b, false);
        assertTrue(ring.publish(), "entry 2 is the event");
        ring.add(b, false);
        assertFalse(ring.publish(), "past the event, the device has not asked again");
        // a batch that jumps over the event kicks (packed: the batch also wraps the ring, flipping the counter)
        dev.kickAt(5);
        for (int i = 0; i < 4; i++) ring.add(b, false);
        assertTrue(ring.publish(), "entries 4..7 cover event 5");
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void interruptSuppressionReachesTheDeviceAndEnableReportsPendingWork(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 1);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        BufferList b = new BufferList(1).writable(buffer(8), 8);
        assertFalse(ring.enableInterrupts(), "nothing used yet");
        for (int i = 0; i < 3; i++) ring.add(b, false);
        ring.publish();
        dev.push(dev.pop(), 1);
        assertTrue(dev.flushUsed(), "interrupts enabled: the device must notify");
        assertTrue(ring.pollUsed() >= 0);
        ring.disableInterrupts();
        dev.push(dev.pop(), 1);
        assertFalse(dev.flushUsed(), "interrupts disabled: no notification");
        assertTrue(ring.enableInterrupts(), "a completion arrived while disabled: poll before sleeping");
        assertTrue(ring.pollUsed() >= 0);
        assertFalse(ring.enableInterrupts());
        dev.push(dev.pop(), 1);
        assertTrue(dev.flushUsed(), "re-enabled: the next completion notifies");
        assertTrue(ring.pollUsed() >= 0);
        assertEquals(0, ring.inFlight());
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void deviceReturningAnIdNotInFlightIsAViolation(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 1);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        BufferList b = new BufferList(1).writable(buffer(8), 8);
        int id = ring.add(b, false);
        ring.publish();
        DeviceModel.Chain c = dev.pop();
        dev.push(new DeviceModel.Chain(id + 1, 1, c.buffers(), null), 0);
        dev.flushUsed();
        assertEquals(DriverRing.BAD_USED, ring.pollUsed());
        assertEquals(1, ring.violations());
        assertTrue(ring.lastViolation().contains("not"), ring.lastViolation());
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void usedLengthAboveTheWritableBytesIsAViolationButCompletes(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 1);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        int id = ring.add(new BufferList(2).readable(buffer(8), 8).writable(buffer(8), 8), false);
        ring.publish();
        dev.push(dev.pop(), 16);
        dev.flushUsed();
        assertEquals(id, ring.pollUsed());
        assertEquals(1, ring.violations());
        assertEquals(8, ring.freeDescriptors());
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void everyCorruptionIsSeenAsAFaultByADeviceAndItsDescriptorsComeBack(boolean packed, boolean eventIdx) {
        DriverRing ring = ring(packed, eventIdx, 8, 4);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        long buf = buffer(64);
        BufferList b = new BufferList(3).readable(buf, 16).writable(buf + 16, 16).writable(buf + 32, 16);
        for (ChainCorruption c : ChainCorruption.values()) {
            if (!c.appliesTo(packed)) {
                assertThrows(IllegalArgumentException.class, () -> ring.addCorrupt(b, c));
                continue;
            }
            if (c == ChainCorruption.UNTERMINATED_CHAIN) continue;   // poisons the ring: checked separately
            int id = ring.addCorrupt(b, c);
            assertTrue(id >= 0);
            ring.publish();
            DeviceModel.Chain chain = dev.pop();
            assertNotNull(chain.fault(), c + " must be a fault for the device, got " + chain.buffers());
            assertEquals(id, chain.id());
            dev.push(chain, 0);
            dev.flushUsed();
            assertEquals(id, ring.pollUsed(), c + ": " + ring.lastViolation());
            assertEquals(8, ring.freeDescriptors(), c + " gave back all its descriptors");
        }
        // the ring still carries good requests after every attack
        int id = ring.add(b, false);
        ring.publish();
        DeviceModel.Chain chain = dev.pop();
        assertNull(chain.fault());
        dev.push(chain, 0);
        dev.flushUsed();
        assertEquals(id, ring.pollUsed());
        assertEquals(0, ring.violations());
    }

    @Test
    void packedUsedLengthWithoutTheWriteFlagIsIgnored() {
        DriverRing ring = ring(true, false, 8, 1);
        DeviceModel.Packed dev = (DeviceModel.Packed) DeviceModel.of(ring, ram, BASE_GPA);
        int id = ring.add(new BufferList(1).readable(buffer(8), 8), false);
        ring.publish();
        dev.push(dev.pop(), 0);
        dev.desc.set(DeviceModel.LE_INT, 8, 76);   // a device that reports the readable length of a TX buffer
        assertEquals(id, ring.pollUsed());
        assertEquals(0, ring.usedLength(), "reserved without VIRTQ_DESC_F_WRITE");
        assertEquals(0, ring.violations());
    }

    @Test
    void packedUnterminatedChainRunsIntoAnUnavailableSlot() {
        DriverRing ring = ring(true, false, 8, 1);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        ring.addCorrupt(new BufferList(2).readable(buffer(8), 8).writable(buffer(8), 8), ChainCorruption.UNTERMINATED_CHAIN);
        ring.publish();
        assertEquals("chain continues into a slot not available", dev.pop().fault());
    }

    @Test
    void splitAvailIndexJumpIsSeenByTheDevice() {
        DriverSplitRing ring = (DriverSplitRing) ring(false, false, 8, 1);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        ring.corruptAvailIndex(9);
        assertEquals("avail index jump", dev.pop().fault());
    }

    @Test
    void vringBaseFollowsPublishedEntriesAndThePackedWrapCounter() {
        DriverRing split = ring(false, false, 8, 1);
        DriverRing packed = ring(true, false, 4, 1);
        assertEquals(0, split.vringBase());
        assertEquals(0x8000, packed.vringBase(), "packed rings start with wrap counter 1");
        BufferList b = new BufferList(2).writable(buffer(8), 8).writable(buffer(8), 8);
        split.add(b, false);
        packed.add(b, false);
        assertEquals(0, split.vringBase(), "unpublished entries do not count");
        assertEquals(0x8000, packed.vringBase());
        split.publish();
        packed.publish();
        assertEquals(1, split.vringBase());
        assertEquals(0x8002, packed.vringBase());
        packed.add(b, false);
        packed.publish();
        assertEquals(0, packed.vringBase(), "4 slots used: slot 0, wrap counter 0");
    }

    /** The device runs on its own thread, polling: ordering bugs show up as corrupted or lost data. */
    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @MethodSource("layouts")
    void concurrentDeviceThreadSeesEveryRequestIntact(boolean packed, boolean eventIdx) throws Exception {
        int size = 64;
        DriverRing ring = ring(packed, eventIdx, size, 2);
        DeviceModel dev = DeviceModel.of(ring, ram, BASE_GPA);
        long in = buffer(8 * size), out = buffer(8 * size);
        int total = 30_000;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> deviceError = new AtomicReference<>();
        Thread device = new Thread(() -> {
            while (!stop.get()) {
                DeviceModel.Chain c = dev.pop();
                if (c == null) { Thread.yield(); continue; }   // yield: the test may share its cores
                if (c.fault() != null) { deviceError.set(c.fault()); return; }
                dev.push(c, dev.echo(c));
                dev.flushUsed();
            }
        }, "device-model");
        device.start();
        BufferList b = new BufferList(2);
        ArrayDeque<Integer> free = new ArrayDeque<>();
        int[] slotOf = new int[size];
        long[] valueOf = new long[size];
        for (int i = 0; i < size; i++) free.add(i);
        long sent = 0, received = 0;
        try {
            while (received < total) {
                assertNull(deviceError.get());
                while (sent < total && !free.isEmpty()) {
                    int slot = free.peek();
                    ram.set(ValueLayout.JAVA_LONG, in - BASE_GPA + 8L * slot, sent);
                    b.clear().readable(in + 8L * slot, 8).writable(out + 8L * slot, 8);
                    int id = ring.add(b, (sent & 1) == 0);
                    if (id < 0) break;
                    free.poll();
                    slotOf[id] = slot;
                    valueOf[id] = sent++;
                }
                ring.publish();
                boolean any = false;
                for (int id; (id = ring.pollUsed()) != DriverRing.NONE; ) {
                    assertTrue(id >= 0, ring::lastViolation);
                    assertEquals(valueOf[id], ram.get(ValueLayout.JAVA_LONG, out - BASE_GPA + 8L * slotOf[id]));
                    free.add(slotOf[id]);
                    received++;
                    any = true;
                }
                if (!any) Thread.yield();
            }
        } finally {
            stop.set(true);
            device.join();
        }
        assertEquals(0, ring.violations());
    }
}
