package org.vhostj.sys;

/**
 * A system call failed during setup or on the control path. Carries the call's name and the errno, so a
 * log line says which call failed and why ({@code "mmap: ENOMEM (Cannot allocate memory)"}). Data-path
 * wrappers in {@link LibC} return {@code -errno} instead of throwing.
 */
public final class ErrnoException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    public ErrnoException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    public ErrnoException(String call, int errno, String detail) {
        super(call + "(" + detail + "): " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    public String call() { return call; }

    public int errno() { return errno; }

    /** Throws for a negative {@code -errno} return value, passes anything else through. */
    public static long check(String call, long result) {
        if (result < 0) throw new ErrnoException(call, (int) -result);
        return result;
    }

    public static int check(String call, int result) {
        if (result < 0) throw new ErrnoException(call, -result);
        return result;
    }
}
