package org.vhostj.hv.kvm;

import static org.vhostj.hv.kvm.KvmUapi.*;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.vhostj.hv.Doorbell;
import org.vhostj.hv.IoSpace;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;

/**
 * A few bytes of guest code that ring doorbells: on one vcpu of a {@link KvmVm}, it performs a list of MMIO
 * writes and port OUTs {@code repeat} times, then ends with an OUT to {@link #END_PORT}, which no doorbell may
 * use. A write that an ioeventfd consumes never reaches userspace; every other write comes back as a KVM
 * exit, which {@link #run} records and resumes. So a test registers an ioeventfd, runs the guest, and checks
 * both the eventfd and {@link Outcome#userspaceWrites()}.
 *
 * <p>The guest runs in flat 32-bit protected mode without paging (set through KVM_SET_SREGS; no boot code),
 * so MMIO doorbells may be anywhere in the low 4 GiB outside its 64 KiB of RAM at guest physical 0. The code
 * ends with an OUT rather than HLT because with an in-kernel irqchip HLT sleeps in the kernel and KVM_RUN
 * would not return; every KVM_RUN is bounded by a deadline anyway.
 *
 * <p>Owns the guest RAM (a memfd mapping in memory slot {@link #MEMORY_SLOT}) and the vcpu; not the VM. One
 * TinyGuest per VM at a time. Run it from one platform thread. x86_64 only.
 * <pre>{@code
 * try (KvmVm vm = kvm.createVm(); EventFd kick = EventFd.create()) {
 *     Doorbell bell = Doorbell.mmio(0xfe00_0000L, 2);
 *     vm.assignIoeventfd(kick, bell);
 *     try (TinyGuest guest = TinyGuest.ringing(vm, bell, 0, 1)) {
 *         assertEquals(List.of(), guest.run(Duration.ofSeconds(5)).userspaceWrites());
 *     }
 *     assertEquals(1, kick.read());
 * }
 * }</pre>
 */
public final class TinyGuest implements AutoCloseable {
    public static final long RAM_GPA = 0, RAM_SIZE = 64 * 1024, CODE_GPA = 0x1000;
    public static final int MEMORY_SLOT = 0;
    /** The guest's last act is an OUT of one byte to this port: register no doorbell here. */
    public static final int END_PORT = 0x0FFF;
    private static final long LOW_4G = 1L << 32;

    /** One write the guest performs: a width of 1, 2 or 4 bytes, an MMIO gpa outside guest RAM or a port. */
    public record GuestWrite(IoSpace space, long guestAddress, int widthBytes, long value) {
        public GuestWrite {
            if (widthBytes != 1 && widthBytes != 2 && widthBytes != 4) {
                throw new IllegalArgumentException("a tiny guest writes 1, 2 or 4 bytes, not " + widthBytes);
            }
            if (widthBytes < 8 && (value >>> (8 * widthBytes)) != 0) {
                throw new IllegalArgumentException("value 0x" + Long.toHexString(value) + " does not fit in " + widthBytes + " bytes");
            }
            if (space == IoSpace.MMIO && (guestAddress < RAM_GPA + RAM_SIZE || guestAddress + widthBytes > LOW_4G)) {
                throw new IllegalArgumentException("MMIO write must lie between the guest's RAM (64 KiB at 0) and 4 GiB: gpa 0x"
                        + Long.toHexString(guestAddress));
            }
            if (space == IoSpace.PIO && (guestAddress < 0 || guestAddress + widthBytes > 0x10000
                    || (guestAddress <= END_PORT && END_PORT < guestAddress + widthBytes))) {
                throw new IllegalArgumentException("port write must fit the port space and avoid END_PORT: port 0x"
                        + Long.toHexString(guestAddress));
            }
        }

        public static GuestWrite mmio(long gpa, int widthBytes, long value) { return new GuestWrite(IoSpace.MMIO, gpa, widthBytes, value); }

        public static GuestWrite pio(int port, int widthBytes, long value) { return new GuestWrite(IoSpace.PIO, port, widthBytes, value); }
    }

    /** A guest write the kernel handed to userspace (KVM_EXIT_MMIO or KVM_EXIT_IO) instead of consuming it. */
    public record UserspaceWrite(IoSpace space, long guestAddress, int widthBytes, long value) {}

    /** What one run saw; every write not listed was consumed inside the kernel. */
    public record Outcome(List<UserspaceWrite> userspaceWrites) {}

    private final KvmVm vm;
    private final Fd ram;
    private final Arena arena;
    private final KvmVcpu vcpu;
    private boolean ranBefore;

    private TinyGuest(KvmVm vm, Fd ram, Arena arena, KvmVcpu vcpu) {
        this.vm = vm;
        this.ram = ram;
        this.arena = arena;
        this.vcpu = vcpu;
    }

    /** A guest that performs {@code writes} in order, {@code repeat} times (at least once), then ends. */
    public static TinyGuest create(KvmVm vm, List<GuestWrite> writes, int repeat) {
        if (!Kvm.isX86()) throw new UnsupportedOperationException("the tiny guest is x86 code");
        return load(vm, assemble(writes, repeat));
    }

    /**
     * A guest that writes {@code value} to {@code doorbell} {@code times} times, at the doorbell's width (4
     * bytes for a width-0 doorbell).
     */
    public static TinyGuest ringing(KvmVm vm, Doorbell doorbell, long value, int times) {
        int width = doorbell.lengthBytes() == 0 ? 4 : doorbell.lengthBytes();
        return create(vm, List.of(new GuestWrite(doorbell.space(), doorbell.guestAddress(), width, value)), times);
    }

    /** Loads raw 32-bit code at {@link #CODE_GPA}; for tests that need a guest which never ends. */
    static TinyGuest load(KvmVm vm, byte[] code) {
        if (CODE_GPA + code.length > RAM_SIZE) throw new IllegalArgumentException("guest code too long: " + code.length + " bytes");
        Fd ram = Memfd.create("tiny-guest", RAM_SIZE);
        Arena arena = Arena.ofShared();
        boolean mapped = false;
        try {
            MemorySegment memory = Memfd.mapShared(ram.value(), 0, RAM_SIZE, true, arena);
            MemorySegment.copy(code, 0, memory, ValueLayout.JAVA_BYTE, CODE_GPA, code.length);
            vm.mapMemory(MEMORY_SLOT, RAM_GPA, memory);
            mapped = true;
            return new TinyGuest(vm, ram, arena, vm.createVcpu());
        } catch (RuntimeException e) {
            if (mapped) vm.unmapMemory(MEMORY_SLOT); // before the RAM goes: KVM must not keep a slot onto it
            arena.close();
            ram.close();
            throw e;
        }
    }

    /**
     * Runs the guest from its first instruction to its final OUT, resuming after every write it hands to
     * userspace, all within {@code timeout} ({@link VcpuTimeoutException} otherwise). May be called again.
     * A guest that stops any other way (HLT, shutdown, emulation failure) is an {@link IllegalStateException}.
     */
    public Outcome run(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (ranBefore) vcpu.completePendingExit();
        ranBefore = true;
        vcpu.makeRunnable(); // a second TinyGuest on an irqchip VM gets vcpu 1, which would wait for a SIPI
        vcpu.updateSregs(TinyGuest::flatProtectedMode);
        vcpu.updateRegs(r -> {
            r.fill((byte) 0);
            r.set(ValueLayout.JAVA_LONG, Regs.RIP_OFFSET, CODE_GPA);
            r.set(ValueLayout.JAVA_LONG, Regs.RFLAGS_OFFSET, 0x2); // bit 1 is reserved and reads as 1
        });
        List<UserspaceWrite> seen = new ArrayList<>();
        while (true) {
            int reason = vcpu.run(deadline - System.nanoTime());
            if (reason == KVM_EXIT_IO && vcpu.ioDirection() == KVM_EXIT_IO_OUT) {
                if (vcpu.ioPort() == END_PORT) return new Outcome(List.copyOf(seen));
                seen.add(new UserspaceWrite(IoSpace.PIO, vcpu.ioPort(), vcpu.ioSizeBytes(), vcpu.ioValue()));
            } else if (reason == KVM_EXIT_MMIO && vcpu.mmioIsWrite()) {
                seen.add(new UserspaceWrite(IoSpace.MMIO, vcpu.mmioGpa(), vcpu.mmioLengthBytes(), vcpu.mmioValue()));
            } else {
                throw new IllegalStateException("tiny guest stopped with " + exitName(reason) + " (detail 0x"
                        + Long.toHexString(vcpu.exitDetail()) + ") on " + vm);
            }
        }
    }

    /**
     * CS: base 0, limit 4 GiB, 32-bit code (type 11: execute/read, accessed); DS, ES, FS, GS, SS: the same
     * as 32-bit data (type 3: read/write, accessed); CR0.PE set, paging off.
     */
    private static void flatProtectedMode(MemorySegment sregs) {
        flatSegment(sregs, Sregs.CS_OFFSET, 0x08, 11);
        for (long data : new long[] {Sregs.DS_OFFSET, Sregs.ES_OFFSET, Sregs.FS_OFFSET, Sregs.GS_OFFSET, Sregs.SS_OFFSET}) {
            flatSegment(sregs, data, 0x10, 3);
        }
        sregs.set(ValueLayout.JAVA_LONG, Sregs.CR0_OFFSET, sregs.get(ValueLayout.JAVA_LONG, Sregs.CR0_OFFSET) | 1); // PE
    }

    private static void flatSegment(MemorySegment s, long at, int selector, int type) {
        s.set(ValueLayout.JAVA_LONG, at + Segment.BASE_OFFSET, 0);
        s.set(ValueLayout.JAVA_INT, at + Segment.LIMIT_OFFSET, 0xFFFF_FFFF);
        s.set(ValueLayout.JAVA_SHORT, at + Segment.SELECTOR_OFFSET, (short) selector);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.TYPE_OFFSET, (byte) type);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.PRESENT_OFFSET, (byte) 1);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.DPL_OFFSET, (byte) 0);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.DB_OFFSET, (byte) 1);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.S_OFFSET, (byte) 1);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.L_OFFSET, (byte) 0);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.G_OFFSET, (byte) 1);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.AVL_OFFSET, (byte) 0);
        s.set(ValueLayout.JAVA_BYTE, at + Segment.UNUSABLE_OFFSET, (byte) 0);
    }

    /**
     * <pre>
     *         mov ecx, repeat            B9 id
     * again:  (each write)               see below
     *         dec ecx                    49
     *         jnz again                  0F 85 cd
     *         mov dx, END_PORT           66 BA iw
     *         out dx, al                 EE
     * halt:   hlt                        F4
     *         jmp halt                   EB FD
     * MMIO:   mov byte  [gpa], imm8      C6 05 gpa ib
     *         mov word  [gpa], imm16     66 C7 05 gpa iw
     *         mov dword [gpa], imm32     C7 05 gpa id
     * PIO:    mov dx, port               66 BA iw
     *         mov al/ax/eax, imm         B0 ib | 66 B8 iw | B8 id
     *         out dx, al/ax/eax          EE | 66 EF | EF
     * </pre>
     */
    static byte[] assemble(List<GuestWrite> writes, int repeat) {
        if (repeat < 1) throw new IllegalArgumentException("repeat must be at least 1: " + repeat);
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        code.write(0xB9);
        le(code, repeat, 4);
        int again = code.size();
        for (GuestWrite w : writes) {
            if (w.space() == IoSpace.MMIO) {
                switch (w.widthBytes()) {
                    case 1 -> { code.write(0xC6); code.write(0x05); le(code, w.guestAddress(), 4); le(code, w.value(), 1); }
                    case 2 -> { code.write(0x66); code.write(0xC7); code.write(0x05); le(code, w.guestAddress(), 4); le(code, w.value(), 2); }
                    default -> { code.write(0xC7); code.write(0x05); le(code, w.guestAddress(), 4); le(code, w.value(), 4); }
                }
            } else {
                code.write(0x66); code.write(0xBA); le(code, w.guestAddress(), 2);
                switch (w.widthBytes()) {
                    case 1 -> { code.write(0xB0); le(code, w.value(), 1); code.write(0xEE); }
                    case 2 -> { code.write(0x66); code.write(0xB8); le(code, w.value(), 2); code.write(0x66); code.write(0xEF); }
                    default -> { code.write(0xB8); le(code, w.value(), 4); code.write(0xEF); }
                }
            }
        }
        code.write(0x49);
        code.write(0x0F); code.write(0x85);
        le(code, again - (code.size() + 4), 4); // rel32 from the end of this jnz
        code.write(0x66); code.write(0xBA); le(code, END_PORT, 2);
        code.write(0xEE);
        code.write(0xF4);
        code.write(0xEB); code.write(0xFD);
        return code.toByteArray();
    }

    private static void le(ByteArrayOutputStream out, long value, int bytes) {
        for (int i = 0; i < bytes; i++) out.write((int) (value >>> (8 * i)) & 0xFF);
    }

    /** Deletes the memory slot, closes the vcpu, unmaps and closes the guest RAM. Leaves the VM open. */
    @Override
    public void close() {
        try {
            if (vm.isOpen()) vm.unmapMemory(MEMORY_SLOT); // else the VM dies with the vcpu: nothing maps the RAM
        } finally {
            vcpu.close();
            if (arena.scope().isAlive()) arena.close();
            ram.close();
        }
    }
}
