package org.vhostj.hv;

/** The guest address space a doorbell lives in. */
public enum IoSpace {
    /** Memory-mapped I/O: a guest physical address outside guest RAM (virtio-pci notify BAR, virtio-mmio). */
    MMIO,
    /** x86 port I/O: a 16-bit port number. KVM only; the MSHV driver refuses it (EOPNOTSUPP). */
    PIO
}
