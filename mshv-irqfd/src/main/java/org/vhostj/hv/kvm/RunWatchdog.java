package org.vhostj.hv.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.vhostj.sys.LibC;

/**
 * Ends a KVM_RUN that outlives its deadline, the way the KVM API documents: set {@code kvm_run.immediate_exit}
 * (so a KVM_RUN not yet entered returns -EINTR at once) and then signal the thread (so one already inside
 * returns -EINTR, also from a HLT sleeping in the in-kernel irqchip). The signal is SIGPIPE, for which the JVM
 * installs a handler that ignores it: a signal that arrives after KVM_RUN returned is harmless.
 *
 * <p>The timer thread is one shared daemon platform thread, owned by this class.
 */
final class RunWatchdog {
    private RunWatchdog() {}

    static final int SIGPIPE = 13;
    /** Re-signal this often after the deadline, in case a signal landed while the thread was outside KVM_RUN. */
    private static final long RESIGNAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();
    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1,
            r -> Thread.ofPlatform().daemon().name("kvm-run-watchdog").unstarted(r));
    static {
        TIMER.setRemoveOnCancelPolicy(true); // a run that ends in time leaves nothing queued
    }

    /** Starts watching the calling thread ({@code tid}) running the vcpu whose kvm_run is {@code run}. */
    static Armed arm(int tid, MemorySegment run, long timeoutNanos) {
        Armed a = new Armed(tid, run);
        a.future = TIMER.scheduleAtFixedRate(a::fire, Math.max(0, timeoutNanos), RESIGNAL_NANOS, TimeUnit.NANOSECONDS);
        return a;
    }

    /** One watched run. {@link #close()} disarms it: once close returns, no further signal is sent. */
    static final class Armed implements AutoCloseable {
        private final int tid;
        private final MemorySegment run;
        private ScheduledFuture<?> future;
        private boolean armed = true;      // guarded by this
        private volatile boolean fired;

        private Armed(int tid, MemorySegment run) {
            this.tid = tid;
            this.run = run;
        }

        private synchronized void fire() {
            if (!armed) return;
            fired = true;
            // Volatile store: immediate_exit must be visible before the signal; KVM reads it with READ_ONCE
            // on entry (Documentation/virt/kvm/api.rst, "immediate_exit").
            BYTE.setVolatile(run, KvmUapi.Run.IMMEDIATE_EXIT_OFFSET, (byte) 1);
            LibC.tgkill(LibC.getpid(), tid, SIGPIPE);
        }

        boolean fired() { return fired; }

        @Override
        public void close() {
            synchronized (this) { armed = false; }
            future.cancel(false);
        }
    }
}
