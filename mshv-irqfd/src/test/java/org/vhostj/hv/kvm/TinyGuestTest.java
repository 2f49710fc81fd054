package org.vhostj.hv.kvm;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vhostj.hv.Doorbell;
import org.vhostj.hv.Hypervisor;
import org.vhostj.hv.kvm.TinyGuest.GuestWrite;
import org.vhostj.hv.kvm.TinyGuest.UserspaceWrite;
import org.vhostj.sys.EventFd;

class TinyGuestTest {
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final byte[] JMP_TO_SELF = {(byte) 0xEB, (byte) 0xFE};
    private static final byte[] HLT = {(byte) 0xF4};
    private static Kvm kvm;

    @BeforeAll
    static void openKvm() {
        assumeTrue(Hypervisor.Kind.KVM.present() && Kvm.isX86(), "needs /dev/kvm on x86_64");
        kvm = Kvm.open();
    }

    @AfterAll
    static void closeKvm() { if (kvm != null) kvm.close(); }

    @Test
    void everyUnconsumedWriteComesBackWithItsAddressWidthAndValue() {
        List<GuestWrite> writes = List.of(GuestWrite.mmio(0x10_0000, 1, 0xAB), GuestWrite.mmio(0xFEBF_F000L, 2, 0xBEEF),
                GuestWrite.mmio(0xFFFF_FFFCL, 4, 0xCAFE_F00DL), GuestWrite.pio(0x510, 1, 0x5A), GuestWrite.pio(0xCF8, 2, 0x1234),
                GuestWrite.pio(0xCFC, 4, 0x8000_0001L));
        List<UserspaceWrite> once = new ArrayList<>();
        for (GuestWrite w : writes) once.add(new UserspaceWrite(w.space(), w.guestAddress(), w.widthBytes(), w.value()));
        List<UserspaceWrite> twice = new ArrayList<>(once);
        twice.addAll(once);
        try (KvmVm vm = kvm.createVm(false); TinyGuest guest = TinyGuest.create(vm, writes, 2)) {
            assertEquals(twice, guest.run(DEADLINE).userspaceWrites());
        }
    }

    @Test
    void aGuestRunsAgainFromItsFirstInstruction() {
        try (KvmVm vm = kvm.createVm(); EventFd kick = EventFd.create()) {
            Doorbell bell = Doorbell.mmio(0xD000_0000L, 2);
            vm.assignIoeventfd(kick, bell);
            try (TinyGuest guest = TinyGuest.ringing(vm, bell, 3, 2)) {
                for (int run = 1; run <= 3; run++) {
                    assertEquals(List.of(), guest.run(DEADLINE).userspaceWrites());
                    assertEquals(2, kick.read(), "run " + run);
                }
            }
        }
    }

    @Test
    void aGuestThatNeverExitsIsEndedByTheWatchdog() {
        try (KvmVm vm = kvm.createVm(false); TinyGuest spinning = TinyGuest.load(vm, JMP_TO_SELF)) {
            long start = System.nanoTime();
            assertThrows(VcpuTimeoutException.class, () -> spinning.run(Duration.ofMillis(200)));
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(elapsedMillis >= 200 && elapsedMillis < 5_000, elapsedMillis + " ms");
            assertThrows(VcpuTimeoutException.class, () -> spinning.run(Duration.ofMillis(50)), "the vcpu can run again");
        }
    }

    @Test
    void hltWithAnInKernelIrqchipSleepsInTheKernelUntilTheWatchdog() {
        try (KvmVm vm = kvm.createVm(true); TinyGuest halting = TinyGuest.load(vm, HLT)) {
            assertThrows(VcpuTimeoutException.class, () -> halting.run(Duration.ofMillis(100)));
        }
        try (KvmVm vm = kvm.createVm(false); TinyGuest halting = TinyGuest.load(vm, HLT)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> halting.run(DEADLINE));
            assertTrue(e.getMessage().contains("KVM_EXIT_HLT"), "without an irqchip HLT exits: " + e.getMessage());
        }
    }

    @Test
    void aVmOutlivesATimedOutGuest() {
        try (KvmVm vm = kvm.createVm(); EventFd kick = EventFd.create()) {
            try (TinyGuest spinning = TinyGuest.load(vm, JMP_TO_SELF)) {
                assertThrows(VcpuTimeoutException.class, () -> spinning.run(Duration.ofMillis(50)));
            }
            Doorbell bell = Doorbell.pio(0x10, 1);
            vm.assignIoeventfd(kick, bell);
            try (TinyGuest guest = TinyGuest.ringing(vm, bell, 42, 1)) {
                assertEquals(List.of(), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(1, kick.read());
        }
    }

    @Test
    void writesIntoGuestRamOntoTheEndPortOrTooWideAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> GuestWrite.mmio(TinyGuest.CODE_GPA, 4, 0), "inside guest RAM");
        assertThrows(IllegalArgumentException.class, () -> GuestWrite.mmio(0xFFFF_FFFEL, 4, 0), "past 4 GiB");
        assertThrows(IllegalArgumentException.class, () -> GuestWrite.pio(TinyGuest.END_PORT - 1, 2, 0), "covers END_PORT");
        assertThrows(IllegalArgumentException.class, () -> GuestWrite.mmio(0xD000_0000L, 8, 0), "8-byte writes");
        assertThrows(IllegalArgumentException.class, () -> GuestWrite.pio(0x10, 1, 0x100), "value wider than the write");
        assertThrows(IllegalArgumentException.class, () -> TinyGuest.assemble(List.of(), 0), "repeat 0");
    }

    @Test
    void theAssembledProgramLoopsBackToItsFirstWrite() {
        byte[] code = TinyGuest.assemble(List.of(GuestWrite.pio(0x10, 1, 42)), 3);
        // B9 03000000 | 66 BA 1000 B0 2A EE | 49 | 0F 85 rel32 | 66 BA FF0F EE | F4 EB FD
        assertEquals(0xB9, code[0] & 0xFF);
        assertEquals(3, code[1]);
        int jnz = 5 + 7 + 1;
        assertEquals(0x0F, code[jnz] & 0xFF);
        assertEquals(0x85, code[jnz + 1] & 0xFF);
        int rel = (code[jnz + 2] & 0xFF) | (code[jnz + 3] & 0xFF) << 8 | (code[jnz + 4] & 0xFF) << 16 | code[jnz + 5] << 24;
        assertEquals(5, jnz + 6 + rel, "jnz lands on the first write");
        assertEquals(0xF4, code[code.length - 3] & 0xFF);
    }
}
