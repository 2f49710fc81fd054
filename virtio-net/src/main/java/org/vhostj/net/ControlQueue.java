package org.vhostj.net;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * The control queue (the last queue, VIRTIO_NET_F_CTRL_VQ; virtio 1.2 5.1.6.5): {@code struct
 * virtio_net_ctrl_hdr { u8 class; u8 cmd; }}, the command data, then one device-writable ack byte. Serves
 * CTRL_RX (promiscuous, all-multicast), CTRL_MAC (table set, address set) and CTRL_MQ (pairs set); anything
 * else, or a malformed command, is answered VIRTIO_NET_ERR. Every length is checked against the chain
 * before a byte is read. Runs on worker 0; state goes to the device as immutable snapshots.
 */
final class ControlQueue implements QueueHandler {
    private static final Logger log = LoggerFactory.getLogger(ControlQueue.class);
    private final NetDevice device;
    private final long features;
    private final int row;

    ControlQueue(NetDevice device, QueueContext ctx) {
        this.device = device;
        this.features = ctx.negotiatedFeatures();
        this.row = device.maxPairs();
    }

    private boolean has(int feature) { return (features & 1L << feature) != 0; }

    @Override
    public int onChain(DescriptorChain chain) {
        if (chain.writableBytes() < 1) { device.counters().increment(row, NetCounters.Counter.CTRL_ERRORS); return 0; }
        byte ack = VirtioNet.CTRL_ERR;
        if (chain.readableHas(2)) {
            int cls = chain.readByte(0) & 0xff, cmd = chain.readByte(1) & 0xff;
            long dataLen = chain.readableBytes() - 2;
            ack = command(chain, cls, cmd, dataLen) ? VirtioNet.CTRL_OK : VirtioNet.CTRL_ERR;
        }
        if (ack != VirtioNet.CTRL_OK) device.counters().increment(row, NetCounters.Counter.CTRL_ERRORS);
        chain.writeByte(0, ack);
        return 1;
    }

    private boolean command(DescriptorChain c, int cls, int cmd, long len) {
        switch (cls) {
            case VirtioNet.CTRL_RX -> {
                if (!has(VirtioNet.F_CTRL_RX) || len != 1) return false;
                int on = c.readByte(2) & 0xff;
                if (on > 1) return false;
                RxFilter f = device.filter();
                if (cmd == VirtioNet.CTRL_RX_PROMISC) device.setFilter(f.withPromisc(on == 1));
                else if (cmd == VirtioNet.CTRL_RX_ALLMULTI) device.setFilter(f.withAllMulti(on == 1));
                else return false;   // ALLUNI, NOMULTI... need CTRL_RX_EXTRA, not offered
                return true;
            }
            case VirtioNet.CTRL_MAC -> {
                if (cmd == VirtioNet.CTRL_MAC_ADDR_SET) {
                    if (!has(VirtioNet.F_CTRL_MAC_ADDR) || len != 6) return false;
                    device.setFilter(device.filter().withMac(mac(c, 2)));
                    return true;
                }
                if (cmd != VirtioNet.CTRL_MAC_TABLE_SET || !has(VirtioNet.F_CTRL_RX)) return false;
                // le32 entries, entries * 6 bytes (unicast), then the same for multicast; exactly that long
                if (len < 8) return false;
                long uc = Integer.toUnsignedLong(c.readInt(2));
                if (uc > (len - 8) / 6) return false;
                long mcAt = 2 + 4 + uc * 6;
                long mc = Integer.toUnsignedLong(c.readInt(mcAt));
                if (len != 4 + uc * 6 + 4 + mc * 6) return false;
                long[] u = table(c, 6, uc), m = table(c, mcAt + 4, mc);
                device.setFilter(device.filter().withTables(u, uc > RxFilter.MAX_ENTRIES, m, mc > RxFilter.MAX_ENTRIES));
                return true;
            }
            case VirtioNet.CTRL_MQ -> {
                if (!has(VirtioNet.F_MQ) || cmd != VirtioNet.CTRL_MQ_VQ_PAIRS_SET || len != 2) return false;
                int pairs = Short.toUnsignedInt(c.readShort(2));
                if (pairs < VirtioNet.CTRL_MQ_VQ_PAIRS_MIN || pairs > device.maxPairs()) return false;
                device.setActivePairs(pairs);
                log.debug("driver uses {} queue pair(s)", pairs);
                return true;
            }
            default -> { return false; }
        }
    }

    private static long mac(DescriptorChain c, long at) {
        long mac = 0;
        for (int i = 0; i < 6; i++) mac = mac << 8 | (c.readByte(at + i) & 0xff);
        return mac;
    }

    /** The first {@link RxFilter#MAX_ENTRIES} addresses of a table (more means overflow: accept all). */
    private static long[] table(DescriptorChain c, long at, long entries) {
        long[] t = new long[(int) Math.min(entries, RxFilter.MAX_ENTRIES)];
        for (int i = 0; i < t.length; i++) t[i] = mac(c, at + 6L * i);
        return t;
    }
}
