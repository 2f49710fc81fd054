package org.vhostj.hv;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class IoctlTest {
    @Test
    void encodesDirectionSizeTypeAndNumberAsAsmGenericIoctlH() {
        // Values as the C preprocessor computes them from <linux/kvm.h> and <linux/mshv.h> on x86_64/arm64.
        assertEquals(0xAE80L, Ioctl.io(0xAE, 0x80), "_IO(KVMIO, 0x80) = KVM_RUN");
        assertEquals(0x4020AE46L, Ioctl.iow(0xAE, 0x46, 32), "_IOW(KVMIO, 0x46, 32-byte struct) = KVM_SET_USER_MEMORY_REGION");
        assertEquals(0x8138AE83L, Ioctl.ior(0xAE, 0x83, 312), "_IOR(KVMIO, 0x83, 312-byte struct) = KVM_GET_SREGS");
        assertEquals(0xC020B807L, Ioctl.iowr(0xB8, 0x07, 32), "_IOWR(MSHV_IOCTL, 0x07, 32-byte struct) = MSHV_ROOT_HVCALL");
    }

    @Test
    void decodesTheArgumentSizeAndDirectionBack() {
        long request = Ioctl.iowr(0xB8, 0x06, 32);
        assertEquals(32, Ioctl.sizeOf(request));
        assertEquals(Ioctl.READ | Ioctl.WRITE, Ioctl.directionOf(request));
        assertEquals(Ioctl.NONE, Ioctl.directionOf(Ioctl.io(0xAE, 0)));
    }

    @Test
    void refusesFieldsThatDoNotFitTheirBits() {
        assertThrows(IllegalArgumentException.class, () -> Ioctl.iow(0xAE, 0x01, 1 << 14)); // 14-bit size
        assertThrows(IllegalArgumentException.class, () -> Ioctl.io(0x1AE, 0x01));
        assertThrows(IllegalArgumentException.class, () -> Ioctl.io(0xAE, 0x100));
        assertThrows(IllegalArgumentException.class, () -> Ioctl.iow(0xAE, 0x01, -1));
    }
}
