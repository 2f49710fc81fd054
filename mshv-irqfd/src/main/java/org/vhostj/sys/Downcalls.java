package org.vhostj.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * What every class of downcalls in this package shares ({@link LibC}, {@link FsCalls}, {@link NetCalls}):
 * linking a libc function with errno capture, the per-thread capture buffer, and the
 * "result or -errno" convention. Package-private: only {@code sys} holds downcall handles.
 */
final class Downcalls {
    private Downcalls() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup C = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** Per-thread errno capture buffer; threads are few and long-lived, the GC frees a dead thread's buffer. */
    private static final ThreadLocal<MemorySegment> ERRNO_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    /** A libc function whose errno is captured into the buffer passed as the handle's first argument. */
    static MethodHandle fn(String name, FunctionDescriptor desc) {
        return LINKER.downcallHandle(C.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), desc, CAPTURE_ERRNO);
    }

    /** A variadic libc function (ioctl, open, fcntl): arguments from {@code firstVariadic} on are variadic. */
    static MethodHandle variadic(String name, FunctionDescriptor desc, int firstVariadic) {
        return LINKER.downcallHandle(C.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), desc,
                CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** A libc function that cannot fail (no errno capture). */
    static MethodHandle plain(String name, FunctionDescriptor desc) {
        return LINKER.downcallHandle(C.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), desc);
    }

    /** This thread's errno capture buffer. */
    static MemorySegment state() { return ERRNO_STATE.get(); }

    static int errno(MemorySegment state) { return (int) ERRNO.get(state, 0L); }

    /** {@code r}, or {@code -errno} if the call failed (returned a negative value). */
    static long result(long r, MemorySegment state) { return r < 0 ? -errno(state) : r; }

    static int result(int r, MemorySegment state) { return r < 0 ? -errno(state) : r; }

    /** A downcall's checked Throwable as the unchecked failure it really is (a linkage bug, not an errno). */
    static RuntimeException fatal(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
