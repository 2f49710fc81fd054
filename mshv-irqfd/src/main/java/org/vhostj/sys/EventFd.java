package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Owner of an eventfd: the kick and call descriptors of a virtqueue, irqfds and ioeventfds, and loop
 * wakeups. {@link #signal()} and {@link #read()} are data-path calls: they return {@code -errno} rather than
 * throw, and may be called from any thread.
 */
public final class EventFd implements AutoCloseable {
    public static final int EFD_SEMAPHORE = 1, EFD_NONBLOCK = 04000, EFD_CLOEXEC = 02000000;

    private static final ThreadLocal<MemorySegment> WORD =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_LONG));

    private final Fd fd;

    private EventFd(Fd fd) { this.fd = fd; }

    /** A new non-blocking, close-on-exec eventfd with counter 0. */
    public static EventFd create() { return create(EFD_NONBLOCK | EFD_CLOEXEC); }

    public static EventFd create(int flags) {
        return new EventFd(Fd.adopt(ErrnoException.check("eventfd", LibC.eventfd(0, flags))));
    }

    /** Takes ownership of a descriptor that should be an eventfd (e.g. received from a frontend). */
    public static EventFd adopt(Fd fd) { return new EventFd(fd); }

    public int fd() { return fd.value(); }

    public Fd owner() { return fd; }

    /** Adds {@code value} to the counter. Returns 0, or {@code -errno} (EAGAIN: the counter would overflow). */
    public int write(long value) {
        MemorySegment w = WORD.get();
        w.set(ValueLayout.JAVA_LONG, 0, value);
        long r = LibC.write(fd.value(), w, 8);
        return r < 0 ? (int) r : 0;
    }

    /** Adds 1: wakes whoever polls this eventfd. */
    public int signal() { return write(1); }

    /** Reads and clears the counter. Returns the counter, or {@code -errno} (-EAGAIN when it was zero). */
    public long read() {
        MemorySegment w = WORD.get();
        long r = LibC.read(fd.value(), w, 8);
        return r < 0 ? r : w.get(ValueLayout.JAVA_LONG, 0);
    }

    /** Clears the counter, whatever it held. */
    public void drain() { read(); }

    @Override
    public void close() { fd.close(); }

    @Override
    public String toString() { return "EventFd[" + (fd.isOpen() ? fd.value() : "closed") + "]"; }
}
