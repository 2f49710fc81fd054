package org.vhostj.fs.passthrough;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Objects by a 64-bit id the guest holds (nodeid, fh): {@code id = generation << 32 | slot}. {@link #get} is
 * lock-free and allocation-free (a volatile array read, an element read and an id compare against the
 * object's own final id); {@link #add} and {@link #remove} run under this table's lock. A slot's generation
 * grows each time it is reused, so a stale id the guest kept never finds the new occupant.
 *
 * <p>Slot 0 is never used (id 0 means "none" in FUSE); {@link #addAt} places the root in slot 1.
 */
final class SlotTable<T extends SlotTable.Entry> {
    /** An object that knows its own id (final, so a reader racing a reuse compares against the right one). */
    interface Entry { long id(); }

    private volatile Object[] items;
    private int[] generation;
    private int[] free = new int[16];
    private int freeCount, next = 2, size;
    private final int maxSlots;

    SlotTable(int initial, int maxSlots) {
        items = new Object[Math.max(initial, 2)];
        generation = new int[items.length];
        this.maxSlots = maxSlots;
    }

    /** The object with {@code id}, or null. */
    @SuppressWarnings("unchecked")
    T get(long id) {
        int slot = (int) id;
        Object[] o = items;   // volatile read: sees every element written before the array was published
        if (slot <= 0 || slot >= o.length) return null;
        Object t = o[slot];
        if (t == null || ((Entry) t).id() != id) return null;
        return (T) t;
    }

    /** Makes an object for a free slot's id and stores it; returns the object, or null when the table is full. */
    synchronized T add(LongFunction<T> make) {
        int slot;
        if (freeCount > 0) slot = free[--freeCount];
        else {
            if (next >= maxSlots) return null;
            slot = next++;
            if (slot >= items.length) grow(Math.min(maxSlots, items.length * 2));
        }
        int gen = ++generation[slot];
        T t = make.apply(((long) gen << 32) | slot);
        Object[] o = items;
        o[slot] = t;
        items = o;   // volatile write publishes the element
        size++;
        return t;
    }

    /** Stores {@code t} at its fixed id's slot (the root, id 1). */
    synchronized void addAt(T t) {
        int slot = (int) t.id();
        if (slot >= items.length) grow(slot + 1);
        Object[] o = items;
        o[slot] = t;
        items = o;
        size++;
    }

    /** Removes {@code t} if it is still stored; returns whether it was. */
    synchronized boolean remove(T t) {
        int slot = (int) t.id();
        Object[] o = items;
        if (slot <= 0 || slot >= o.length || o[slot] != t) return false;
        o[slot] = null;
        items = o;
        if (slot != 1) {
            if (freeCount == free.length) free = Arrays.copyOf(free, free.length * 2);
            free[freeCount++] = slot;
        }
        size--;
        return true;
    }

    synchronized int size() { return size; }

    /** Every stored object (DESTROY, close). */
    @SuppressWarnings("unchecked")
    synchronized List<T> snapshot() {
        List<T> all = new ArrayList<>();
        for (Object o : items) if (o != null) all.add((T) o);
        return all;
    }

    private void grow(int n) {
        items = Arrays.copyOf(items, n);
        generation = Arrays.copyOf(generation, n);
    }
}
