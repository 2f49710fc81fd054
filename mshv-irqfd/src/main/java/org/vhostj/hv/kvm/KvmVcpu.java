package org.vhostj.hv.kvm;

import static org.vhostj.hv.kvm.KvmUapi.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.vhostj.sys.Errno;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;
import org.vhostj.sys.Memfd;

/**
 * One KVM vcpu: the owner of its fd and of the mmapped {@code struct kvm_run}. Used by one platform thread
 * at a time (KVM_RUN is watched by signalling that OS thread, which a virtual thread does not own). The
 * register accessors are x86's (KVM_GET/SET_REGS, KVM_GET/SET_SREGS).
 *
 * <p>Every {@link #run} has a deadline: no guest can stall the caller, whatever it executes.
 */
public final class KvmVcpu implements AutoCloseable {
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();

    private final Fd fd;
    private final int id;
    private final Arena arena;
    private final MemorySegment run;

    private KvmVcpu(Fd fd, int id, Arena arena, MemorySegment run) {
        this.fd = fd;
        this.id = id;
        this.arena = arena;
        this.run = run;
    }

    /** Takes ownership of {@code fd} and maps its kvm_run. */
    static KvmVcpu map(Fd fd, int id, long mmapSizeBytes) {
        Arena arena = Arena.ofShared(); // the watchdog thread writes immediate_exit
        try {
            return new KvmVcpu(fd, id, arena, Memfd.mapShared(fd.value(), 0, mmapSizeBytes, true, arena));
        } catch (RuntimeException e) {
            arena.close();
            fd.close();
            throw e;
        }
    }

    public int id() { return id; }

    /**
     * KVM_RUN until the vcpu exits to userspace, at most {@code timeoutNanos}. Returns the exit reason
     * ({@link KvmUapi#KVM_EXIT_IO} and so on; the exit's details stay readable until the next run). A spurious
     * signal is retried; the deadline ends it with {@link VcpuTimeoutException}.
     */
    public int run(long timeoutNanos) {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("KVM_RUN needs a platform thread: its watchdog signals the OS thread");
        }
        try (RunWatchdog.Armed watchdog = RunWatchdog.arm(LibC.gettid(), run, timeoutNanos)) {
            while (true) {
                int r = LibC.ioctl(fd.value(), KVM_RUN, 0);
                if (r >= 0) return exitReason();
                if (r != -Errno.EINTR) throw new ErrnoException("KVM_RUN", -r, "vcpu " + id);
                if (watchdog.fired()) {
                    throw new VcpuTimeoutException("vcpu " + id + ": KVM_RUN still running after "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms; ended by the watchdog");
                }
            }
        } finally {
            // The watchdog is disarmed (closed above) before this store, so it cannot set the flag again.
            BYTE.setVolatile(run, Run.IMMEDIATE_EXIT_OFFSET, (byte) 0);
        }
    }

    /**
     * Completes the I/O of the last exit without running guest code: KVM finishes a pending PIO/MMIO only on
     * the next KVM_RUN, and immediate_exit makes that KVM_RUN return right after (api.rst, KVM_EXIT_IO).
     * Call it before changing registers after an I/O exit.
     */
    public void completePendingExit() {
        BYTE.setVolatile(run, Run.IMMEDIATE_EXIT_OFFSET, (byte) 1);
        try {
            int r = LibC.ioctl(fd.value(), KVM_RUN, 0);
            if (r < 0 && r != -Errno.EINTR) throw new ErrnoException("KVM_RUN", -r, "vcpu " + id + ", immediate_exit");
        } finally {
            BYTE.setVolatile(run, Run.IMMEDIATE_EXIT_OFFSET, (byte) 0);
        }
    }

    public int exitReason() { return run.get(ValueLayout.JAVA_INT, Run.EXIT_REASON_OFFSET); }

    /** KVM_EXIT_IO: {@link KvmUapi#KVM_EXIT_IO_OUT} or IN. */
    public int ioDirection() { return Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, Run.IO_DIRECTION_OFFSET)); }

    /** KVM_EXIT_IO: access width in bytes (1, 2 or 4). */
    public int ioSizeBytes() { return Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, Run.IO_SIZE_OFFSET)); }

    public int ioPort() { return Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT, Run.IO_PORT_OFFSET)); }

    /** KVM_EXIT_IO: how many accesses (string I/O); 1 for a plain IN/OUT. */
    public int ioCount() { return run.get(ValueLayout.JAVA_INT, Run.IO_COUNT_OFFSET); }

    /** KVM_EXIT_IO OUT: the first value written, zero-extended. */
    public long ioValue() {
        long offset = run.get(ValueLayout.JAVA_LONG, Run.IO_DATA_OFFSET_OFFSET);
        return littleEndian(run, offset, ioSizeBytes());
    }

    public long mmioGpa() { return run.get(ValueLayout.JAVA_LONG, Run.MMIO_PHYS_ADDR_OFFSET); }

    public int mmioLengthBytes() { return run.get(ValueLayout.JAVA_INT, Run.MMIO_LEN_OFFSET); }

    public boolean mmioIsWrite() { return run.get(ValueLayout.JAVA_BYTE, Run.MMIO_IS_WRITE_OFFSET) != 0; }

    /** KVM_EXIT_MMIO write: the value written, zero-extended. */
    public long mmioValue() { return littleEndian(run, Run.MMIO_DATA_OFFSET, Math.min(8, mmioLengthBytes())); }

    /** The union's first u32/u64, which holds the detail of FAIL_ENTRY, UNKNOWN, EXCEPTION and INTERNAL_ERROR. */
    public long exitDetail() { return run.get(ValueLayout.JAVA_LONG, Run.UNION_OFFSET); }

    private static long littleEndian(MemorySegment s, long offset, int widthBytes) {
        long v = 0;
        for (int i = widthBytes - 1; i >= 0; i--) v = (v << 8) | Byte.toUnsignedLong(s.get(ValueLayout.JAVA_BYTE, offset + i));
        return v;
    }

    /**
     * KVM_SET_MP_STATE(RUNNABLE). With an in-kernel LAPIC every vcpu but the boot vcpu (id 0) starts waiting
     * for INIT/SIPI, and KVM_RUN would sleep in the kernel; this lets any vcpu run from its registers.
     */
    public void makeRunnable() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(MpState.LAYOUT);
            s.set(ValueLayout.JAVA_INT, MpState.MP_STATE_OFFSET, KVM_MP_STATE_RUNNABLE);
            int r = LibC.ioctl(fd.value(), KVM_SET_MP_STATE, s);
            if (r < 0) throw new ErrnoException("KVM_SET_MP_STATE", -r, "vcpu " + id + ", RUNNABLE");
        }
    }

    /** KVM_GET_REGS, {@code edit} the {@link KvmUapi.Regs} struct, KVM_SET_REGS. */
    public void updateRegs(Consumer<MemorySegment> edit) { update(KVM_GET_REGS, KVM_SET_REGS, Regs.SIZE, edit, "REGS"); }

    /** KVM_GET_SREGS, {@code edit} the {@link KvmUapi.Sregs} struct, KVM_SET_SREGS. */
    public void updateSregs(Consumer<MemorySegment> edit) { update(KVM_GET_SREGS, KVM_SET_SREGS, Sregs.SIZE, edit, "SREGS"); }

    private void update(long get, long set, long sizeBytes, Consumer<MemorySegment> edit, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(sizeBytes, 8);
            int r = LibC.ioctl(fd.value(), get, s);
            if (r < 0) throw new ErrnoException("KVM_GET_" + what, -r, "vcpu " + id);
            edit.accept(s);
            r = LibC.ioctl(fd.value(), set, s);
            if (r < 0) throw new ErrnoException("KVM_SET_" + what, -r, "vcpu " + id);
        }
    }

    /** Unmaps kvm_run and closes the vcpu fd. Not while another thread is in {@link #run}. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
        fd.close();
    }

    @Override
    public String toString() { return "KvmVcpu[" + id + ", " + fd + "]"; }
}
