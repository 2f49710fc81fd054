package org.vhostj.vhost.hv;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.DESC_F_WRITE;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.hv.Doorbell;
import org.vhostj.hv.MsiRoute;
import org.vhostj.hv.kvm.Kvm;
import org.vhostj.hv.kvm.KvmVm;
import org.vhostj.hv.kvm.TinyGuest;
import org.vhostj.sys.Errno;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.example.RngDevice;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/**
 * The whole notification path through a real hypervisor: the queue's kick eventfd is a KVM ioeventfd, so a
 * doorbell write by guest code wakes our backend's queue without a userspace exit; the queue's call eventfd
 * is a KVM irqfd, so the backend's interrupt is consumed by the kernel and never reaches userspace.
 */
class KvmDoorbellEndToEndTest {
    @TempDir Path dir;

    private static Daemon startedDaemon(Path sock) {
        Daemon d = new Daemon(new RngDevice(), DaemonOptions.forSocket(sock));
        d.start();
        return d;
    }

    @Test
    void guestDoorbellWakesTheQueueAndTheInterruptGoesToKvm() throws Exception {
        Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/kvm")), "needs a writable /dev/kvm");
        Path sock = dir.resolve("rng.sock");
        try (Daemon daemon = startedDaemon(sock); RawFrontendClient fe = new RawFrontendClient(sock); TestGuest guest = new TestGuest(1 << 20);
             EventFd kick = EventFd.create(); EventFd call = EventFd.create();
             Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm(true)) {
            fe.handshake(VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES),
                    ProtocolFeature.bit(ProtocolFeature.REPLY_ACK));
            fe.setMemTable(guest);
            TestSplitDriver drv = new TestSplitDriver(guest, 16);
            long buf = guest.alloc(4096, 4096);
            drv.desc(0, buf, 64, DESC_F_WRITE, 0);
            drv.publish(0);   // made available before the ring starts; nothing kicks it yet

            Doorbell bell = Doorbell.mmio(0xFE00_0000L, 2);
            vm.assignIoeventfd(kick, bell);                      // the VMM's job: kick fd = doorbell
            vm.setMsiRouting(List.of(new MsiRoute(24, 0xFEE0_0000, 0, 0x41)));
            vm.assignIrqfd(call, 24);                            // call fd = an MSI into the guest
            fe.startRing(0, 16, 0, drv.descGpa, drv.availGpa, drv.usedGpa, kick.fd(), call.fd());
            drv.awaitUsed(1, 5000);                              // the core drains a ring once when it starts
            assertArrayEquals(new int[] {0, 64}, drv.takeUsed());

            drv.desc(1, buf + 64, 128, DESC_F_WRITE, 0);
            drv.publish(1);
            try (TinyGuest g = TinyGuest.ringing(vm, bell, 0, 1)) {
                assertEquals(List.of(), g.run(Duration.ofSeconds(5)).userspaceWrites(), "the doorbell was handled in the kernel");
            }
            drv.awaitUsed(1, 5000);
            assertArrayEquals(new int[] {1, 128}, drv.takeUsed(), "the doorbell woke our queue handler");
            assertTrue(daemon.queueMetrics(0).kicks() >= 1);
            assertTrue(daemon.queueMetrics(0).interrupts() >= 1, "the backend signalled the call eventfd");
            assertEquals(-Errno.EAGAIN, call.read(), "KVM consumed the interrupt: nothing is left in the call eventfd");
        }
    }
}
