package org.vhostj.sys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Owner of one file descriptor. Whoever holds the {@code Fd} closes it, once; {@link #take()} hands the raw
 * descriptor on and leaves this owner empty. Thread-safe: close may race with other closes.
 */
public final class Fd implements AutoCloseable {
    private static final VarHandle FD;
    static {
        try { FD = MethodHandles.lookup().findVarHandle(Fd.class, "fd", int.class); }
        catch (ReflectiveOperationException e) { throw new ExceptionInInitializerError(e); }
    }

    private volatile int fd;

    private Fd(int fd) { this.fd = fd; }

    /** Takes ownership of a raw descriptor (one just returned by a syscall or received over a socket). */
    public static Fd adopt(int fd) {
        if (fd < 0) throw new IllegalArgumentException("not a file descriptor: " + fd);
        return new Fd(fd);
    }

    /** The descriptor, for a syscall. Throws if this owner was closed or its fd taken. */
    public int value() {
        int v = fd;
        if (v < 0) throw new IllegalStateException("file descriptor already closed");
        return v;
    }

    public boolean isOpen() { return fd >= 0; }

    /** Hands the descriptor to the caller, who now owns it; this owner becomes empty. */
    public int take() {
        int v = (int) FD.getAndSet(this, -1);
        if (v < 0) throw new IllegalStateException("file descriptor already closed");
        return v;
    }

    /** A new owner of a duplicate (close-on-exec) of this descriptor. */
    public Fd duplicate() {
        return adopt(ErrnoException.check("fcntl(F_DUPFD_CLOEXEC)", LibC.fcntl(value(), Fcntl.F_DUPFD_CLOEXEC, 3)));
    }

    @Override
    public void close() {
        int v = (int) FD.getAndSet(this, -1);
        if (v >= 0) LibC.close(v);
    }

    @Override
    public String toString() { return "Fd[" + fd + "]"; }
}
