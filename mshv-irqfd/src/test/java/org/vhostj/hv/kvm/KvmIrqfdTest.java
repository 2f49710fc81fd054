package org.vhostj.hv.kvm;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vhostj.hv.Hypervisor;
import org.vhostj.hv.MsiRoute;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.Errno;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.EventFd;

/**
 * When KVM consumes an irqfd's eventfd, on the real /dev/kvm. From virt/kvm/eventfd.c (since Linux 5.11):
 * {@code irqfd_wakeup()} runs in the writer's context on every EPOLLIN wakeup of a bound eventfd and calls
 * {@code eventfd_ctx_do_read()} before injecting, whatever the GSI's route; the irqfd is an exclusive
 * priority waiter, so nobody else is woken. {@code kvm_irqfd_assign()} only polls: a count pending at assign
 * time is injected (irqfd_inject) but not read. x86's {@code kvm_arch_irqfd_allowed()} wants an in-kernel
 * irqchip. Deassign and VM release unhook the irqfd synchronously (flush_workqueue).
 */
class KvmIrqfdTest {
    private static final int IOAPIC_PIN_GSI = 5;
    private static Kvm kvm;

    @BeforeAll
    static void openKvm() {
        assumeTrue(Hypervisor.Kind.KVM.present() && Kvm.isX86(), "needs /dev/kvm on x86_64");
        kvm = Kvm.open();
    }

    @AfterAll
    static void closeKvm() { if (kvm != null) kvm.close(); }

    @Test
    void everyWriteAfterAssignIsConsumedWhole() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create()) {
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            assertEquals(0, call.write(1));
            assertEquals(-Errno.EAGAIN, call.read(), "the kernel read the counter in irqfd_wakeup");
            assertEquals(0, call.write(7));
            assertEquals(-Errno.EAGAIN, call.read());
        }
    }

    @Test
    void consumptionDoesNotDependOnTheRoute() {
        try (KvmVm vm = kvm.createVm(); EventFd msi = EventFd.create(); EventFd unrouted = EventFd.create()) {
            vm.setMsiRouting(List.of(new MsiRoute(40, 0xFEE0_0000, 0, 0x41)));
            vm.assignIrqfd(msi, 40);
            vm.assignIrqfd(unrouted, 1000);
            msi.signal();
            unrouted.signal();
            assertEquals(-Errno.EAGAIN, msi.read(), "MSI route");
            assertEquals(-Errno.EAGAIN, unrouted.read(), "no route at all");
        }
    }

    @Test
    void aCountPendingAtAssignIsInjectedButLeftInTheEventfd() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create()) {
            call.write(5);
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            assertEquals(5, call.read(), "kvm_irqfd_assign polls and injects, it does not read");
        }
    }

    @Test
    void theNextWriteConsumesWhatWasPendingAtAssignToo() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create()) {
            call.write(5);
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            call.write(1);
            assertEquals(-Errno.EAGAIN, call.read());
        }
    }

    @Test
    void aSemaphoreEventfdLosesOnlyOnePerWrite() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create(EventFd.EFD_SEMAPHORE | EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC)) {
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            call.write(3); // one wakeup, and eventfd_ctx_do_read takes 1 from a semaphore
            assertEquals(1, call.read());
            assertEquals(1, call.read());
            assertEquals(-Errno.EAGAIN, call.read());
        }
    }

    @Test
    void anEpollWatcherOfABoundEventfdIsNeverWoken() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create(); Epoll epoll = new Epoll(4)) {
            epoll.add(call.fd(), Epoll.EPOLLIN, 1);
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            call.signal();
            assertEquals(0, epoll.await(50), "the irqfd is an exclusive priority waiter: a backend cannot also watch its call fd");
        }
    }

    @Test
    void afterDeassignWritesStayInTheEventfd() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create()) {
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            vm.deassignIrqfd(call, IOAPIC_PIN_GSI);
            call.write(2);
            assertEquals(2, call.read());
        }
    }

    @Test
    void closingTheVmReleasesItsIrqfds() {
        try (EventFd call = EventFd.create()) {
            KvmVm vm = kvm.createVm();
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            vm.close();
            call.signal();
            assertEquals(1, call.read(), "kvm_vm_release ran kvm_irqfd_release");
        }
    }

    @Test
    void oneEventfdBacksOneIrqfdUntilDeassigned() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create()) {
            vm.assignIrqfd(call, IOAPIC_PIN_GSI);
            ErrnoException e = assertThrows(ErrnoException.class, () -> vm.assignIrqfd(call, IOAPIC_PIN_GSI + 1));
            assertEquals(Errno.EBUSY, e.errno());
            assertTrue(e.getMessage().startsWith("KVM_IRQFD(assign eventfd"), e.getMessage());
            vm.deassignIrqfd(call, IOAPIC_PIN_GSI);
            vm.assignIrqfd(call, IOAPIC_PIN_GSI + 1);
            call.signal();
            assertEquals(-Errno.EAGAIN, call.read());
        }
    }

    @Test
    void withoutAnInKernelIrqchipIrqfdsAndRoutesAreRefused() {
        try (KvmVm vm = kvm.createVm(false); EventFd call = EventFd.create()) {
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> vm.assignIrqfd(call, IOAPIC_PIN_GSI)).errno());
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                    () -> vm.setMsiRouting(List.of(new MsiRoute(40, 0xFEE0_0000, 0, 0x41)))).errno());
            call.signal();
            assertEquals(1, call.read(), "nothing consumes it");
        }
    }

    @Test
    void aResamplingIrqfdOnAnIrqchipPinIsConsumedLikeAnyOther() {
        try (KvmVm vm = kvm.createVm(); EventFd call = EventFd.create(); EventFd resample = EventFd.create()) {
            vm.assignIrqfd(call, IOAPIC_PIN_GSI, resample);
            call.signal();
            assertEquals(-Errno.EAGAIN, call.read());
            assertEquals(-Errno.EAGAIN, resample.read(), "no guest acknowledged the interrupt, so no resample");
            vm.deassignIrqfd(call, IOAPIC_PIN_GSI);
        }
    }
}
