package org.vhostj.hv;

import static org.junit.jupiter.api.Assertions.*;

import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

class DoorbellTest {
    @Test
    void widthsOutsideZeroOneTwoFourEightAreRefused() {
        for (int width : new int[] {0, 1, 2, 4, 8}) assertEquals(width, Doorbell.mmio(0x1000, width).lengthBytes());
        for (int width : new int[] {-1, 3, 5, 16}) {
            assertThrows(IllegalArgumentException.class, () -> Doorbell.mmio(0x1000, width), "width " + width);
        }
    }

    @Test
    void datamatchNeedsAWidthAndMustFitIt() {
        assertThrows(IllegalArgumentException.class, () -> Doorbell.mmio(0x1000, 0).matching(1));
        assertThrows(IllegalArgumentException.class, () -> Doorbell.mmio(0x1000, 2).matching(0x1_0000));
        assertThrows(IllegalArgumentException.class, () -> Doorbell.pio(0x10, 1).matching(-1));
        assertEquals(OptionalLong.of(0xFFFF), Doorbell.mmio(0x1000, 2).matching(0xFFFF).datamatch());
        assertEquals(OptionalLong.of(-1), Doorbell.mmio(0x1000, 8).matching(-1).datamatch(), "8 bytes hold any long");
    }

    @Test
    void rangesThatWrapOrLeaveThePortSpaceAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Doorbell.mmio(-4, 8), "2^64 - 4 + 8 wraps");
        assertThrows(IllegalArgumentException.class, () -> Doorbell.mmio(-8, 8), "addr + len == 0 wraps, as KVM and MSHV judge it");
        assertEquals(-9, Doorbell.mmio(-9, 8).guestAddress());
        assertThrows(IllegalArgumentException.class, () -> Doorbell.pio(0xFFFF, 2));
        assertThrows(IllegalArgumentException.class, () -> Doorbell.pio(0x10000, 1));
        assertThrows(IllegalArgumentException.class, () -> Doorbell.pio(-1, 1));
        assertEquals(0xFFFC, Doorbell.pio(0xFFFC, 4).guestAddress());
    }

    @Test
    void equalDoorbellsDescribeTheSameRegistration() {
        assertEquals(Doorbell.mmio(0xd000_0000L, 2).matching(3), Doorbell.mmio(0xd000_0000L, 2).matching(3));
        assertNotEquals(Doorbell.mmio(0xd000_0000L, 2), Doorbell.mmio(0xd000_0000L, 2).matching(0));
    }
}
