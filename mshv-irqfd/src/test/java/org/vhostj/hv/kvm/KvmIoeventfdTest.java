package org.vhostj.hv.kvm;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vhostj.hv.Doorbell;
import org.vhostj.hv.Hypervisor;
import org.vhostj.hv.IoSpace;
import org.vhostj.hv.kvm.TinyGuest.GuestWrite;
import org.vhostj.hv.kvm.TinyGuest.UserspaceWrite;
import org.vhostj.sys.Errno;
import org.vhostj.sys.EventFd;

/**
 * ioeventfds on the real /dev/kvm, fired by guest code: a {@link TinyGuest} writes to MMIO addresses and
 * ports; a write that matches a registration signals the eventfd inside the kernel and never reaches
 * userspace, every other write comes back as a KVM exit.
 */
class KvmIoeventfdTest {
    private static final long DOORBELL_GPA = 0xD000_0000L;
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static Kvm kvm;

    @BeforeAll
    static void openKvm() {
        assumeTrue(Hypervisor.Kind.KVM.present() && Kvm.isX86(), "needs /dev/kvm on x86_64");
        kvm = Kvm.open();
    }

    @AfterAll
    static void closeKvm() { if (kvm != null) kvm.close(); }

    @Test
    void anMmioDoorbellSignalsWithoutAUserspaceExit() {
        try (KvmVm vm = kvm.createVm(false); EventFd kick = EventFd.create()) {
            Doorbell bell = Doorbell.mmio(DOORBELL_GPA, 2);
            vm.assignIoeventfd(kick, bell);
            try (TinyGuest guest = TinyGuest.ringing(vm, bell, 1, 3)) {
                assertEquals(List.of(), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(3, kick.read());
        }
    }

    @Test
    void anMmioDoorbellOnAVmWithAnInKernelIrqchip() {
        try (KvmVm vm = kvm.createVm(); EventFd kick = EventFd.create()) {
            assertTrue(vm.hasInKernelIrqchip());
            Doorbell bell = Doorbell.mmio(DOORBELL_GPA, 4);
            vm.assignIoeventfd(kick, bell);
            try (TinyGuest guest = TinyGuest.ringing(vm, bell, 0, 1)) {
                assertEquals(List.of(), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(1, kick.read());
        }
    }

    @Test
    void aPortDoorbellSignalsWithoutAUserspaceExit() {
        try (KvmVm vm = kvm.createVm(false); EventFd kick = EventFd.create()) {
            Doorbell bell = Doorbell.pio(0x10, 1);
            vm.assignIoeventfd(kick, bell);
            try (TinyGuest guest = TinyGuest.ringing(vm, bell, 42, 1)) {
                assertEquals(List.of(), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(1, kick.read());
        }
    }

    @Test
    void aDatamatchDoorbellFiresOnlyForItsValue() {
        try (KvmVm vm = kvm.createVm(false); EventFd mmio = EventFd.create(); EventFd pio = EventFd.create()) {
            vm.assignIoeventfd(mmio, Doorbell.mmio(DOORBELL_GPA, 4).matching(7));
            vm.assignIoeventfd(pio, Doorbell.pio(0x700, 2).matching(0x1234));
            List<GuestWrite> writes = List.of(GuestWrite.mmio(DOORBELL_GPA, 4, 7), GuestWrite.mmio(DOORBELL_GPA, 4, 8),
                    GuestWrite.pio(0x700, 2, 0x1234), GuestWrite.pio(0x700, 2, 0x4321));
            try (TinyGuest guest = TinyGuest.create(vm, writes, 2)) {
                UserspaceWrite otherMmio = new UserspaceWrite(IoSpace.MMIO, DOORBELL_GPA, 4, 8);
                UserspaceWrite otherPort = new UserspaceWrite(IoSpace.PIO, 0x700, 2, 0x4321);
                assertEquals(List.of(otherMmio, otherPort, otherMmio, otherPort), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(2, mmio.read());
            assertEquals(2, pio.read());
        }
    }

    @Test
    void aWriteOfAnotherWidthIsNotAHit() {
        try (KvmVm vm = kvm.createVm(false); EventFd kick = EventFd.create()) {
            vm.assignIoeventfd(kick, Doorbell.mmio(DOORBELL_GPA, 2));
            try (TinyGuest guest = TinyGuest.create(vm, List.of(GuestWrite.mmio(DOORBELL_GPA, 4, 1)), 1)) {
                assertEquals(List.of(new UserspaceWrite(IoSpace.MMIO, DOORBELL_GPA, 4, 1)), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(-Errno.EAGAIN, kick.read());
        }
    }

    @Test
    void aWidthZeroDoorbellMatchesEveryAccessSize() {
        try (KvmVm vm = kvm.createVm(false); EventFd kick = EventFd.create()) {
            vm.assignIoeventfd(kick, Doorbell.mmio(DOORBELL_GPA, 0));
            List<GuestWrite> writes = List.of(GuestWrite.mmio(DOORBELL_GPA, 1, 1), GuestWrite.mmio(DOORBELL_GPA, 2, 2),
                    GuestWrite.mmio(DOORBELL_GPA, 4, 4));
            try (TinyGuest guest = TinyGuest.create(vm, writes, 1)) {
                assertEquals(List.of(), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(3, kick.read());
        }
    }

    @Test
    void afterDeassignTheWritesReachUserspaceAgain() {
        try (KvmVm vm = kvm.createVm(false); EventFd kick = EventFd.create()) {
            Doorbell bell = Doorbell.mmio(DOORBELL_GPA, 2).matching(5);
            vm.assignIoeventfd(kick, bell);
            vm.deassignIoeventfd(kick, bell);
            try (TinyGuest guest = TinyGuest.ringing(vm, bell, 5, 1)) {
                assertEquals(List.of(new UserspaceWrite(IoSpace.MMIO, DOORBELL_GPA, 2, 5)), guest.run(DEADLINE).userspaceWrites());
            }
            assertEquals(-Errno.EAGAIN, kick.read());
        }
    }
}
