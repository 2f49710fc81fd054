package org.vhostj.hv;

/**
 * The generic Linux ioctl request encoding (include/uapi/asm-generic/ioctl.h, used by x86_64 and arm64):
 * {@code dir << 30 | size << 16 | type << 8 | nr}, with a 2-bit direction and a 14-bit argument size.
 * Request numbers are computed from the struct sizes here rather than copied as literals, so a layout
 * change shows up in the layout tests instead of as a silent ENOTTY.
 */
public final class Ioctl {
    private Ioctl() {}

    public static final int NONE = 0, WRITE = 1, READ = 2;
    static final int NR_BITS = 8, TYPE_BITS = 8, SIZE_BITS = 14, DIR_BITS = 2;
    static final int NR_SHIFT = 0, TYPE_SHIFT = NR_SHIFT + NR_BITS, SIZE_SHIFT = TYPE_SHIFT + TYPE_BITS,
            DIR_SHIFT = SIZE_SHIFT + SIZE_BITS;

    /** {@code _IOC(dir, type, nr, size)}. */
    public static long ioc(int dir, int type, int nr, long sizeBytes) {
        if ((dir & ~3) != 0) throw new IllegalArgumentException("ioctl direction " + dir);
        if ((type & ~0xff) != 0 || (nr & ~0xff) != 0) throw new IllegalArgumentException("ioctl type/nr " + type + "/" + nr);
        if (sizeBytes < 0 || sizeBytes >= 1L << SIZE_BITS) throw new IllegalArgumentException("ioctl argument size " + sizeBytes);
        return ((long) dir << DIR_SHIFT) | (sizeBytes << SIZE_SHIFT) | ((long) type << TYPE_SHIFT) | ((long) nr << NR_SHIFT);
    }

    /** {@code _IO(type, nr)}: no argument, or an integer argument. */
    public static long io(int type, int nr) { return ioc(NONE, type, nr, 0); }

    /** {@code _IOW(type, nr, struct)}: userspace writes the struct to the kernel. */
    public static long iow(int type, int nr, long sizeBytes) { return ioc(WRITE, type, nr, sizeBytes); }

    /** {@code _IOR(type, nr, struct)}: the kernel fills the struct. */
    public static long ior(int type, int nr, long sizeBytes) { return ioc(READ, type, nr, sizeBytes); }

    /** {@code _IOWR(type, nr, struct)}. */
    public static long iowr(int type, int nr, long sizeBytes) { return ioc(READ | WRITE, type, nr, sizeBytes); }

    /** {@code _IOC_SIZE(request)}. */
    public static long sizeOf(long request) { return (request >>> SIZE_SHIFT) & ((1L << SIZE_BITS) - 1); }

    /** {@code _IOC_DIR(request)}. */
    public static int directionOf(long request) { return (int) ((request >>> DIR_SHIFT) & 3); }
}
