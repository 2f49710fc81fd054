package org.vhostj.hv;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class HypervisorDetectionTest {
    @Test
    void detectListsExactlyTheDeviceNodesThatExist() {
        List<Hypervisor.Kind> found = Hypervisor.detect();
        for (Hypervisor.Kind k : Hypervisor.Kind.values()) assertEquals(k.present(), found.contains(k), k.toString());
    }

    @Test
    void noDeviceAtAllIsAClearError() {
        HypervisorUnavailableException e = assertThrows(HypervisorUnavailableException.class, () -> Hypervisor.open(List.of()));
        assertTrue(e.getMessage().startsWith("no hypervisor device"), e.getMessage());
    }

    @Test
    void anAbsentDeviceIsNamedInTheError() {
        Hypervisor.Kind absent = null;
        for (Hypervisor.Kind k : Hypervisor.Kind.values()) if (!k.present()) absent = k;
        assumeTrue(absent != null, "every hypervisor device exists here");
        Hypervisor.Kind kind = absent;
        HypervisorUnavailableException e = assertThrows(HypervisorUnavailableException.class, () -> Hypervisor.open(List.of(kind)));
        assertTrue(e.getMessage().contains(kind.device() + " exists"), e.getMessage());
        e = assertThrows(HypervisorUnavailableException.class, () -> Hypervisor.open(kind));
        assertTrue(e.getMessage().contains(kind.device() + " does not exist"), e.getMessage());
    }

    @Test
    void kvmIsFoundFirstAndReportsTheNotificationPathCapabilities() {
        assumeTrue(Hypervisor.Kind.KVM.present(), "/dev/kvm absent");
        try (Hypervisor hv = Hypervisor.open()) {
            assertEquals(Hypervisor.Kind.KVM, hv.kind());
            Capabilities c = hv.capabilities();
            assertEquals(Hypervisor.Kind.KVM, c.kind());
            assertTrue(c.irqfd() && c.ioeventfd() && c.msiRouting(), c.toString());
        }
    }
}
