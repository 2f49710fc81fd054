package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Owner of an epoll instance and of its reusable event array. One thread calls {@link #await}; any thread
 * may add, modify or remove descriptors (epoll_ctl is thread-safe in the kernel).
 *
 * <pre>
 * struct epoll_event { uint32_t events; epoll_data_t data; }   // packed: 12 bytes on x86_64, 16 on aarch64
 * </pre>
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x1, EPOLLPRI = 0x2, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10,
            EPOLLRDHUP = 0x2000, EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;
    private static final int CTL_ADD = 1, CTL_DEL = 2, CTL_MOD = 3;

    private static final boolean PACKED = !System.getProperty("os.arch").contains("aarch64");
    public static final long EVENT_SIZE = PACKED ? 12 : 16;
    private static final long DATA_OFFSET = PACKED ? 4 : 8;

    private final Fd epfd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final MemorySegment ctlEvent;
    private final int capacity;

    public Epoll(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("epoll capacity must be positive: " + capacity);
        this.capacity = capacity;
        this.epfd = Fd.adopt(ErrnoException.check("epoll_create1", LibC.epollCreate1(Fcntl.O_CLOEXEC)));
        this.events = arena.allocate(EVENT_SIZE * capacity, 8);
        this.ctlEvent = arena.allocate(16, 8);
    }

    public int fd() { return epfd.value(); }

    /** Watches {@code fd} for {@code eventMask}; {@code token} comes back with each of its events. */
    public void add(int fd, int eventMask, long token) { ctl(CTL_ADD, fd, eventMask, token, "epoll_ctl(ADD)"); }

    public void modify(int fd, int eventMask, long token) { ctl(CTL_MOD, fd, eventMask, token, "epoll_ctl(MOD)"); }

    /** Stops watching {@code fd}; a descriptor that is not watched (or already closed) is not an error. */
    public void remove(int fd) {
        int r;
        synchronized (ctlEvent) { r = LibC.epollCtl(epfd.value(), CTL_DEL, fd, ctlEvent); }
        if (r < 0 && r != -Errno.ENOENT && r != -Errno.EBADF) throw new ErrnoException("epoll_ctl(DEL)", -r);
    }

    private void ctl(int op, int fd, int eventMask, long token, String call) {
        int r;
        synchronized (ctlEvent) {
            ctlEvent.set(ValueLayout.JAVA_INT, 0, eventMask);
            ctlEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, token);
            r = LibC.epollCtl(epfd.value(), op, fd, ctlEvent);
        }
        if (r < 0) throw new ErrnoException(call, -r, "fd " + fd);
    }

    /**
     * Waits for events: {@code timeoutMillis} -1 blocks, 0 polls. Returns how many events are ready (0 on
     * timeout or EINTR); read them with {@link #events(int)} and {@link #token(int)} until the next call.
     */
    public int await(int timeoutMillis) {
        int n = LibC.epollWait(epfd.value(), events, capacity, timeoutMillis);
        if (n == -Errno.EINTR) return 0;
        if (n < 0) throw new ErrnoException("epoll_wait", -n);
        return n;
    }

    public int events(int i) { return events.get(ValueLayout.JAVA_INT_UNALIGNED, i * EVENT_SIZE); }

    public long token(int i) { return events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EVENT_SIZE + DATA_OFFSET); }

    @Override
    public void close() {
        epfd.close();
        arena.close();
    }
}
