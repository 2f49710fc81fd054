package org.vhostj.fs.passthrough;

import java.util.concurrent.atomic.AtomicInteger;
import org.vhostj.sys.LibC;

/**
 * An fd owner that several workers may use at once and that one of them retires: {@link #pin()} before
 * using {@link #fd}, {@link #unpin()} after. Once retired (FORGET to zero, RELEASE, DESTROY) the fd is
 * closed by whoever drops the last pin, so a descriptor is never closed while a syscall uses it (the
 * use-after-free QEMU's C virtiofsd had with FORGET) and a reused fd number is never mistaken for it.
 *
 * <p>pins: -1 closed, otherwise the number of users; retired: no new pin may start.
 */
abstract class Pinned {
    final int fd;
    private final AtomicInteger pins = new AtomicInteger();
    private volatile boolean retired;

    Pinned(int fd) { this.fd = fd; }

    /** Starts a use; false if this object is retired or closed (the caller answers EBADF/ESTALE). */
    final boolean pin() {
        while (true) {
            int p = pins.get();
            if (p < 0 || retired) return false;
            if (pins.compareAndSet(p, p + 1)) {
                if (retired) { unpin(); return false; }
                return true;
            }
        }
    }

    final void unpin() {
        if (pins.decrementAndGet() == 0 && retired) tryClose();
    }

    /** Marks this retired; the fd closes now if unused, else when the last user unpins. */
    final void retire() {
        retired = true;
        tryClose();
    }

    final boolean isRetired() { return retired; }

    private void tryClose() {
        if (pins.compareAndSet(0, -1)) {
            closed();
            LibC.close(fd);
        }
    }

    /** Called once, just before the fd is closed (to drop table entries). */
    void closed() {}
}
