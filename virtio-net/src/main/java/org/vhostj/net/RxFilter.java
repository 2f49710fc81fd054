package org.vhostj.net;

/**
 * The driver's receive filter (VIRTIO_NET_F_CTRL_RX, virtio 1.2 5.1.6.5.1/2): promiscuous and all-multicast
 * modes, the device MAC and the unicast and multicast MAC tables. Immutable: the control queue publishes a
 * new one, the receive paths read the current one (a volatile reference in {@link NetDevice}).
 * A table longer than {@link #MAX_ENTRIES} turns into "accept all" of its kind, as QEMU does.
 */
public record RxFilter(boolean promisc, boolean allMulti, long mac, long[] unicast, long[] multicast,
                       boolean unicastOverflow, boolean multicastOverflow) {
    public static final int MAX_ENTRIES = 64;

    /** After reset: promiscuous (QEMU's default too), so a driver that never configures filtering gets every frame. */
    public static RxFilter initial(long mac) { return new RxFilter(true, false, mac, new long[0], new long[0], false, false); }

    public boolean accepts(long dstMac) {
        if (promisc) return true;
        if (Macs.isMulticast(dstMac)) {
            if (dstMac == Macs.BROADCAST || allMulti || multicastOverflow) return true;
            for (long m : multicast) if (m == dstMac) return true;
            return false;
        }
        if (dstMac == mac || unicastOverflow) return true;
        for (long m : unicast) if (m == dstMac) return true;
        return false;
    }

    public RxFilter withPromisc(boolean on) { return new RxFilter(on, allMulti, mac, unicast, multicast, unicastOverflow, multicastOverflow); }

    public RxFilter withAllMulti(boolean on) { return new RxFilter(promisc, on, mac, unicast, multicast, unicastOverflow, multicastOverflow); }

    public RxFilter withMac(long m) { return new RxFilter(promisc, allMulti, m, unicast, multicast, unicastOverflow, multicastOverflow); }

    public RxFilter withTables(long[] uc, boolean ucOverflow, long[] mc, boolean mcOverflow) {
        return new RxFilter(promisc, allMulti, mac, uc, mc, ucOverflow, mcOverflow);
    }
}
