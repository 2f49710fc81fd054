package org.vhostj.net;

import static org.vhostj.net.NetCounters.Counter.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.vhostj.net.backend.NetPort;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * A transmit queue (2 * pair + 1): each chain is the virtio-net header and one frame, all device-readable. The
 * header is checked against the negotiated features once, here; a malformed frame is dropped and counted and
 * the chain completes with length 0 as every TX chain does. Good frames go to the backend straight from guest
 * memory (with the header for a tap, without it otherwise). Runs on the pair's worker thread.
 */
final class TxPath implements QueueHandler {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final NetDevice device;
    private final NetPort port;
    private final int row, hdrLen;
    private final boolean carriesHeader, csum, tso4, tso6;
    private final long maxFrame;
    private final FrameBuffers frame = new FrameBuffers(org.vhostj.sys.IovecArray.IOV_MAX);

    TxPath(NetDevice device, int pair, NetPort port, QueueContext ctx) {
        this.device = device;
        this.port = port;
        this.row = pair;
        long f = ctx.negotiatedFeatures();
        this.hdrLen = NetDevice.headerBytes(f);
        this.carriesHeader = device.backend().carriesHeader();
        this.csum = (f & 1L << VirtioNet.F_CSUM) != 0;
        this.tso4 = csum && (f & 1L << VirtioNet.F_HOST_TSO4) != 0;
        this.tso6 = csum && (f & 1L << VirtioNet.F_HOST_TSO6) != 0;
        this.maxFrame = device.mtu() + NetDevice.L2_OVERHEAD;
    }

    @Override
    public int onChain(DescriptorChain chain) {
        NetCounters c = device.counters();
        long total = chain.readableBytes();
        if (chain.writableCount() != 0) { c.increment(row, TX_DROP_BAD_HEADER); return 0; }
        if (total < hdrLen + VirtioNet.ETH_HEADER_SIZE) { c.increment(row, TX_DROP_SHORT); return 0; }
        long frameLen = total - hdrLen;
        // read each header field once: the guest may be rewriting the buffer
        long w;
        int csumOffset;
        if (chain.length(0) >= VirtioNet.HDR_LEGACY_SIZE) {   // the usual case: the header in one buffer
            MemorySegment m = chain.memory(0);
            long at = chain.offset(0);
            w = m.get(LE_LONG, at);
            csumOffset = Short.toUnsignedInt(m.get(LE_SHORT, at + 8));
        } else {
            w = chain.readLong(0);
            csumOffset = Short.toUnsignedInt(chain.readShort(8));
        }
        int flags = (int) (w & 0xff), gso = (int) ((w >>> 8) & 0xff);
        int gsoHdrLen = (int) ((w >>> 16) & 0xffff), gsoSize = (int) ((w >>> 32) & 0xffff), csumStart = (int) ((w >>> 48) & 0xffff);
        int verdict = check(flags, gso, gsoHdrLen, gsoSize, csumStart, csumOffset, frameLen);
        if (verdict != 0) { c.increment(row, verdict == 1 ? TX_DROP_OVERSIZE : TX_DROP_BAD_HEADER); return 0; }
        frame.clear();
        long off = carriesHeader ? 0 : hdrLen;
        if (frame.addChain(chain, false, off, total - off) != total - off) { c.increment(row, TX_DROP_BAD_HEADER); return 0; }
        long dst = frame.macAt(carriesHeader ? hdrLen : 0), src = frame.macAt(carriesHeader ? hdrLen + 6 : 6);
        long r = port.send(frame, dst, src);
        if (r < 0) { c.increment(row, TX_DROP_BACKEND); return 0; }
        c.increment(row, TX_FRAMES);
        c.add(row, TX_BYTES, frameLen);
        if (gso != VirtioNet.GSO_NONE) c.increment(row, TX_GSO_FRAMES);
        return 0;
    }

    /** 0: good; 1: too large; 2: a header the negotiated features do not allow. */
    private int check(int flags, int gso, int gsoHdrLen, int gsoSize, int csumStart, int csumOffset, long frameLen) {
        // DATA_VALID is meaningless on transmit and ignored; any other unknown flag is refused
        if ((flags & ~(VirtioNet.HDR_F_NEEDS_CSUM | VirtioNet.HDR_F_DATA_VALID)) != 0) return 2;
        if ((flags & VirtioNet.HDR_F_NEEDS_CSUM) != 0) {
            if (!csum) return 2;
            if ((long) csumStart + csumOffset + 2 > frameLen) return 2;
        }
        if (gso == VirtioNet.GSO_NONE) return frameLen > maxFrame ? 1 : 0;
        boolean ok = switch (gso) {
            case VirtioNet.GSO_TCPV4 -> tso4;
            case VirtioNet.GSO_TCPV6 -> tso6;
            default -> false;   // UDP (UFO), ECN: never offered
        };
        if (!ok || (flags & VirtioNet.HDR_F_NEEDS_CSUM) == 0) return 2;
        if (gsoSize == 0 || gsoHdrLen > frameLen) return 2;
        return frameLen > VirtioNet.MAX_GSO_FRAME ? 1 : 0;
    }

    @Override
    public void stop() { frame.close(); }
}
