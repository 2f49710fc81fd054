package org.vhostj.vhost.driver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny device side of both ring layouts, written for these tests only (the real one is
 * org.vhostj.vhost.ring): pops chains, walks them with bounds and loop checks, returns used elements,
 * and implements both directions of notification suppression. Guest memory is one segment at {@code baseGpa}.
 */
abstract class DeviceModel {
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final VarHandle U16 = LE_SHORT.varHandle();

    /** One buffer of a popped chain. */
    record Buffer(long gpa, long length, boolean writable) {}

    /** A popped chain: its id, the ring slots it took (packed), its buffers, or the fault that stopped the walk. */
    record Chain(int id, int slots, List<Buffer> buffers, String fault) {
        long readableBytes() { return buffers.stream().filter(b -> !b.writable).mapToLong(Buffer::length).sum(); }
        long writableBytes() { return buffers.stream().filter(Buffer::writable).mapToLong(Buffer::length).sum(); }
    }

    final MemorySegment ram;
    final long baseGpa;
    final int size;
    final boolean eventIdx;

    DeviceModel(MemorySegment ram, long baseGpa, int size, boolean eventIdx) {
        this.ram = ram;
        this.baseGpa = baseGpa;
        this.size = size;
        this.eventIdx = eventIdx;
    }

    static DeviceModel of(DriverRing ring, MemorySegment ram, long baseGpa) {
        return ring.packed() ? new Packed(ring, ram, baseGpa) : new Split(ring, ram, baseGpa);
    }

    /** Offset of [gpa, gpa+len) in ram, or -1 if outside. */
    long offsetOf(long gpa, long len) {
        long off = gpa - baseGpa;
        return Long.compareUnsigned(off, ram.byteSize()) < 0 && Long.compareUnsigned(len, ram.byteSize() - off) <= 0 ? off : -1;
    }

    abstract Chain pop();

    abstract void push(Chain chain, int usedLength);

    /** Publishes used elements pushed so far; returns whether the driver wants an interrupt for them. */
    abstract boolean flushUsed();

    /** Device-side kick suppression: without EVENT_IDX a flag, with it an event index of "next available + ahead". */
    abstract void suppressKicks(boolean suppress);

    /** With EVENT_IDX: ask for a kick once the driver makes available the entry at (next avail + ahead). */
    abstract void kickAt(int ahead);

    /** Echo: copies the readable bytes into the writable buffers; returns bytes written. */
    int echo(Chain c) {
        byte[] data = new byte[(int) c.readableBytes()];
        int at = 0;
        for (Buffer b : c.buffers) {
            if (b.writable) continue;
            MemorySegment.copy(ram, ValueLayout.JAVA_BYTE, offsetOf(b.gpa, b.length), data, at, (int) b.length);
            at += (int) b.length;
        }
        int written = 0;
        for (Buffer b : c.buffers) {
            if (!b.writable || written == data.length) continue;
            int n = (int) Math.min(b.length, data.length - written);
            MemorySegment.copy(data, written, ram, ValueLayout.JAVA_BYTE, offsetOf(b.gpa, b.length), n);
            written += n;
        }
        return written;
    }

    static final class Split extends DeviceModel {
        final MemorySegment desc, avail, used;
        int lastAvail, usedIdx, signalledUsed;

        Split(DriverRing ring, MemorySegment ram, long baseGpa) {
            super(ram, baseGpa, ring.size(), ring.eventIdx());
            desc = ring.descriptorArea().memory();
            avail = ring.driverArea().memory();
            used = ring.deviceArea().memory();
        }

        @Override
        Chain pop() {
            int availIdx = Short.toUnsignedInt((short) U16.getAcquire(avail, 2L));
            if (availIdx == lastAvail) return null;
            if (((availIdx - lastAvail) & 0xffff) > size) return new Chain(-1, 0, List.of(), "avail index jump");
            int head = Short.toUnsignedInt(avail.get(LE_SHORT, 4L + 2L * (lastAvail & (size - 1))));
            lastAvail = (lastAvail + 1) & 0xffff;
            if (eventIdx) U16.setRelease(used, 4L + 8L * size, (short) lastAvail);   // keep kicks coming one by one
            List<Buffer> bufs = new ArrayList<>();
            return new Chain(head, 1, bufs, walk(head, bufs));
        }

        /** Walks a chain with a budget of one visit per table entry; returns the fault or null. */
        String walk(int head, List<Buffer> bufs) {
            MemorySegment table = desc;
            long base = 0;
            int tableSize = size, budget = size, index = head;
            boolean inIndirect = false;
            while (true) {
                if (index >= tableSize) return "descriptor index " + index + " out of range";
                if (budget-- == 0) return "descriptor loop";
                long at = base + index * 16L;
                long gpa = table.get(LE_LONG, at), len = Integer.toUnsignedLong(table.get(LE_INT, at + 8));
                int flags = Short.toUnsignedInt(table.get(LE_SHORT, at + 12));
                if ((flags & 4) != 0) {
                    if (inIndirect) return "nested indirect";
                    if ((flags & 1) != 0) return "indirect with next";
                    if (len == 0 || len % 16 != 0) return "indirect length " + len;
                    long off = offsetOf(gpa, len);
                    if (off < 0) return "indirect table outside memory";
                    table = ram;
                    base = off;
                    tableSize = budget = (int) (len / 16);
                    index = 0;
                    inIndirect = true;
                    continue;
                }
                if (offsetOf(gpa, len) < 0) return "buffer outside memory";
                bufs.add(new Buffer(gpa, len, (flags & 2) != 0));
                if ((flags & 1) == 0) return null;
                index = Short.toUnsignedInt(table.get(LE_SHORT, at + 14));
            }
        }

        @Override
        void push(Chain chain, int usedLength) {
            long at = 4L + 8L * (usedIdx & (size - 1));
            used.set(LE_INT, at, chain.id());
            used.set(LE_INT, at + 4, usedLength);
            usedIdx = (usedIdx + 1) & 0xffff;
        }

        @Override
        boolean flushUsed() {
            int old = signalledUsed;
            U16.setRelease(used, 2L, (short) usedIdx);
            signalledUsed = usedIdx;
            VarHandle.fullFence();
            if (eventIdx) return DriverRing.needEvent(Short.toUnsignedInt(avail.get(LE_SHORT, 4L + 2L * size)), usedIdx, old);
            return (avail.get(LE_SHORT, 0) & 1) == 0;
        }

        @Override
        void suppressKicks(boolean suppress) { U16.setRelease(used, 0L, (short) (suppress ? 1 : 0)); }

        @Override
        void kickAt(int ahead) { U16.setRelease(used, 4L + 8L * size, (short) (lastAvail + ahead)); }
    }

    static final class Packed extends DeviceModel {
        final MemorySegment desc, driverEvent, deviceEvent;
        int nextAvail, nextUsed, signalledUsed;
        boolean availWrap = true, usedWrap = true, signalledWrap = true;

        Packed(DriverRing ring, MemorySegment ram, long baseGpa) {
            super(ram, baseGpa, ring.size(), ring.eventIdx());
            desc = ring.descriptorArea().memory();
            driverEvent = ring.driverArea().memory();
            deviceEvent = ring.deviceArea().memory();
        }

        boolean availableAt(int slot, boolean wrap) {
            int f = Short.toUnsignedInt((short) U16.getAcquire(desc, slot * 16L + 14));
            boolean a = (f & (1 << 7)) != 0, u = (f & (1 << 15)) != 0;
            return a == wrap && u != wrap;
        }

        @Override
        Chain pop() {
            if (!availableAt(nextAvail, availWrap)) return null;
            List<Buffer> bufs = new ArrayList<>();
            int slots = 0, id;
            String fault = null;
            while (true) {
                long at = nextAvail * 16L;
                if (slots > 0 && !availableAt(nextAvail, availWrap)) { fault = "chain continues into a slot not available"; id = -1; break; }
                long gpa = desc.get(LE_LONG, at);
                long len = Integer.toUnsignedLong(desc.get(LE_INT, at + 8));
                id = Short.toUnsignedInt(desc.get(LE_SHORT, at + 12));
                int flags = Short.toUnsignedInt(desc.get(LE_SHORT, at + 14));
                slots++;
                if (++nextAvail == size) { nextAvail = 0; availWrap = !availWrap; }
                if ((flags & 4) != 0) {
                    fault = walkIndirect(gpa, len, bufs);
                    break;
                }
                if (offsetOf(gpa, len) < 0) fault = "buffer outside memory";
                else bufs.add(new Buffer(gpa, len, (flags & 2) != 0));
                if ((flags & 1) == 0) break;
                if (slots == size) { fault = "chain longer than the ring"; break; }
            }
            return new Chain(id, slots, bufs, fault);
        }

        String walkIndirect(long gpa, long len, List<Buffer> bufs) {
            if (len == 0 || len % 16 != 0) return "indirect length " + len;
            long off = offsetOf(gpa, len);
            if (off < 0) return "indirect table outside memory";
            for (long i = 0; i < len / 16; i++) {
                long at = off + i * 16;
                int flags = Short.toUnsignedInt(ram.get(LE_SHORT, at + 14));
                if ((flags & 4) != 0) return "nested indirect";
                long bg = ram.get(LE_LONG, at), bl = Integer.toUnsignedLong(ram.get(LE_INT, at + 8));
                if (offsetOf(bg, bl) < 0) return "buffer outside memory";
                bufs.add(new Buffer(bg, bl, (flags & 2) != 0));
            }
            return null;
        }

        @Override
        void push(Chain chain, int usedLength) {
            long at = nextUsed * 16L;
            desc.set(LE_SHORT, at + 12, (short) chain.id());
            desc.set(LE_INT, at + 8, usedLength);
            int flags = (usedWrap ? (1 << 7) | (1 << 15) : 0) | (usedLength != 0 ? 2 : 0);   // WRITE: len is valid
            U16.setRelease(desc, at + 14, (short) flags);
            nextUsed += chain.slots();
            if (nextUsed >= size) { nextUsed -= size; usedWrap = !usedWrap; }
        }

        @Override
        boolean flushUsed() {
            int oldSlot = signalledUsed;
            boolean oldWrap = signalledWrap;
            signalledUsed = nextUsed;
            signalledWrap = usedWrap;
            VarHandle.fullFence();
            int flags = driverEvent.get(LE_SHORT, 2) & 3;
            if (flags != 2) return flags == 0;
            int offWrap = Short.toUnsignedInt(driverEvent.get(LE_SHORT, 0));
            int event = offWrap & 0x7fff;
            if (((offWrap >>> 15) != 0) != usedWrap) event -= size;
            int old = oldSlot - (oldWrap == usedWrap ? 0 : size);
            return DriverRing.needEvent(event & 0xffff, nextUsed, old & 0xffff);
        }

        @Override
        void suppressKicks(boolean suppress) { U16.setRelease(deviceEvent, 2L, (short) (suppress ? 1 : 0)); }

        @Override
        void kickAt(int ahead) {
            int slot = nextAvail + ahead;
            boolean wrap = availWrap;
            if (slot >= size) { slot -= size; wrap = !wrap; }
            deviceEvent.set(LE_SHORT, 0, (short) (slot | (wrap ? 1 << 15 : 0)));
            U16.setRelease(deviceEvent, 2L, (short) 2);
        }
    }
}
