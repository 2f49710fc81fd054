package org.vhostj.hv;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vhostj.sys.Errno;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.EventFd;

/**
 * What every {@link VirtualMachine} does the same way, run against each hypervisor device present: KVM here;
 * MSHV is skipped where /dev/mshv is absent (the MSHV implementation is unverified on real hardware until
 * someone runs this where it exists).
 */
class VirtualMachineContractTest {
    private static final long DOORBELL_GPA = 0xD000_0000L;

    private static Hypervisor open(Hypervisor.Kind kind) {
        assumeTrue(kind.present(), kind.device() + " absent: " + kind + " device tests skipped"
                + (kind == Hypervisor.Kind.MSHV ? " (MSHV support is layout-tested only, unverified on real hardware)" : ""));
        assumeTrue(kind != Hypervisor.Kind.KVM || "amd64".equals(System.getProperty("os.arch")),
                "KVM VMs here get an x86 in-kernel irqchip");
        return Hypervisor.open(kind);
    }

    @ParameterizedTest
    @EnumSource(Hypervisor.Kind.class)
    void anIrqfdConsumesItsEventfdUntilDeassigned(Hypervisor.Kind kind) {
        try (Hypervisor hv = open(kind); VirtualMachine vm = hv.createVm(); EventFd call = EventFd.create()) {
            assertEquals(kind, vm.kind());
            vm.setMsiRouting(List.of(new MsiRoute(24, 0xFEE0_0000, 0, 0x40), new MsiRoute(25, 0xFEE0_0000, 0, 0x41)));
            vm.assignIrqfd(call, 25);
            call.signal();
            assertEquals(-Errno.EAGAIN, call.read());
            vm.deassignIrqfd(call, 25);
            call.signal();
            assertEquals(1, call.read());
        }
    }

    @ParameterizedTest
    @EnumSource(Hypervisor.Kind.class)
    void anOverlappingDoorbellIsEexistAndAnUnknownDeassignIsEnoent(Hypervisor.Kind kind) {
        try (Hypervisor hv = open(kind); VirtualMachine vm = hv.createVm(); EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            Doorbell bell = Doorbell.mmio(DOORBELL_GPA, 4).matching(1);
            vm.assignIoeventfd(a, bell);
            assertEquals(Errno.EEXIST, assertThrows(ErrnoException.class, () -> vm.assignIoeventfd(b, bell)).errno());
            assertEquals(Errno.EEXIST, assertThrows(ErrnoException.class,
                    () -> vm.assignIoeventfd(b, Doorbell.mmio(DOORBELL_GPA, 4))).errno(), "a wildcard overlaps every value");
            vm.assignIoeventfd(b, Doorbell.mmio(DOORBELL_GPA, 4).matching(2));
            assertEquals(Errno.ENOENT, assertThrows(ErrnoException.class,
                    () -> vm.deassignIoeventfd(a, Doorbell.mmio(DOORBELL_GPA, 4).matching(3))).errno(), "datamatch must match");
            assertEquals(Errno.ENOENT, assertThrows(ErrnoException.class, () -> vm.deassignIoeventfd(a, Doorbell.mmio(DOORBELL_GPA, 4))).errno(),
                    "wildcard-ness must match");
            vm.deassignIoeventfd(a, bell);
            vm.deassignIoeventfd(b, Doorbell.mmio(DOORBELL_GPA, 4).matching(2));
            assertEquals(Errno.ENOENT, assertThrows(ErrnoException.class, () -> vm.deassignIoeventfd(a, bell)).errno(), "already gone");
        }
    }

    @ParameterizedTest
    @EnumSource(Hypervisor.Kind.class)
    void closeIsIdempotentAndLeavesTheEventfdsToTheirOwners(Hypervisor.Kind kind) {
        try (Hypervisor hv = open(kind); EventFd call = EventFd.create(); EventFd kick = EventFd.create()) {
            VirtualMachine vm = hv.createVm();
            vm.assignIrqfd(call, 30);
            vm.assignIoeventfd(kick, Doorbell.mmio(DOORBELL_GPA, 2));
            vm.close();
            vm.close();
            assertEquals(0, call.signal(), "the caller still owns its eventfds");
            assertEquals(1, call.read());
        }
    }
}
