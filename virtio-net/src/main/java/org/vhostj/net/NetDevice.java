package org.vhostj.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.net.backend.NetBackend;
import org.vhostj.net.backend.NetPort;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.protocol.VirtioFeature;

/**
 * virtio-net (virtio 1.2 section 5.1) over a {@link NetBackend}: {@code pairs} RX/TX queue pairs (RX 2i, TX
 * 2i+1) and a control queue (2 * pairs). Each pair runs on its own worker ({@link #workerOf}); the control
 * queue on worker 0. Features: MAC, MTU, STATUS (link up), MRG_RXBUF, CTRL_VQ with CTRL_RX, CTRL_MAC_ADDR and
 * MQ, plus the offloads the backend can carry (a tap: CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6).
 *
 * <p>Called on the connection's control thread; what the control queue changes (receive filter, active
 * pairs) is published through volatile fields that the pairs' workers read.
 */
public final class NetDevice implements VirtioDevice {
    private static final Logger log = LoggerFactory.getLogger(NetDevice.class);
    /** Ethernet header plus one VLAN tag on top of the MTU. */
    static final int L2_OVERHEAD = VirtioNet.ETH_HEADER_SIZE + 4;
    public static final int MIN_MTU = 68, MAX_MTU = 65535 - L2_OVERHEAD;

    private final NetBackend backend;
    private final long mac;
    private final int pairs, mtu, queueSize;
    private final NetCounters counters;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment config;
    private volatile RxFilter filter;
    private volatile int activePairs;
    private volatile boolean controlQueueUsed;
    private final java.util.concurrent.atomic.AtomicInteger featureAcks = new java.util.concurrent.atomic.AtomicInteger(),
            queueStarts = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param mac   the device MAC (config space; VIRTIO_NET_F_MAC)
     * @param pairs queue pairs (at most the backend's)
     * @param mtu   the MTU offered (VIRTIO_NET_F_MTU); frames above MTU + 18 are dropped
     */
    public NetDevice(NetBackend backend, long mac, int pairs, int mtu) {
        if (pairs < 1 || pairs > backend.maxPairs() || pairs > 127) throw new IllegalArgumentException("queue pairs must be 1.." + Math.min(127, backend.maxPairs()) + ": " + pairs);
        if (mtu < MIN_MTU || mtu > MAX_MTU) throw new IllegalArgumentException("MTU must be " + MIN_MTU + ".." + MAX_MTU + ": " + mtu);
        if (Macs.isMulticast(mac)) throw new IllegalArgumentException("the device MAC must be unicast: " + Macs.format(mac));
        this.backend = backend;
        this.mac = mac;
        this.pairs = pairs;
        this.mtu = mtu;
        this.queueSize = 1024;
        this.counters = new NetCounters(pairs + 1);
        config = arena.allocate(VirtioNet.CONFIG_SIZE, 8);
        Macs.write(config, VirtioNet.CONFIG_MAC_OFFSET, mac);
        config.set(ValueLayout.JAVA_SHORT_UNALIGNED, VirtioNet.CONFIG_STATUS_OFFSET, (short) VirtioNet.S_LINK_UP);
        config.set(ValueLayout.JAVA_SHORT_UNALIGNED, VirtioNet.CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET, (short) pairs);
        config.set(ValueLayout.JAVA_SHORT_UNALIGNED, VirtioNet.CONFIG_MTU_OFFSET, (short) mtu);
        reset();
    }

    /** Header length for a feature set: 12 bytes with VERSION_1 or MRG_RXBUF, else the legacy 10. */
    public static int headerBytes(long features) {
        return (features & (1L << VirtioFeature.VERSION_1 | 1L << VirtioNet.F_MRG_RXBUF)) != 0 ? VirtioNet.HDR_SIZE : VirtioNet.HDR_LEGACY_SIZE;
    }

    @Override public int deviceType() { return VirtioNet.DEVICE_TYPE; }

    @Override public String name() { return "net"; }

    @Override public int queueCount() { return 2 * pairs + 1; }

    @Override public int maxQueueSize() { return queueSize; }

    @Override
    public long offeredFeatures() {
        long f = 1L << VirtioNet.F_MAC | 1L << VirtioNet.F_MTU | 1L << VirtioNet.F_STATUS | 1L << VirtioNet.F_MRG_RXBUF
                | 1L << VirtioNet.F_CTRL_VQ | 1L << VirtioNet.F_CTRL_RX | 1L << VirtioNet.F_CTRL_MAC_ADDR | 1L << VirtioNet.F_MQ
                | 1L << VirtioFeature.IN_ORDER;
        return f | backend.offloadFeatures();
    }

    @Override
    public void featuresAcked(long acked) {
        featureAcks.incrementAndGet();
        backend.featuresAcked(acked, headerBytes(acked));
    }

    @Override public MemorySegment configSpace() { return config; }

    @Override
    public int workerOf(int queueIndex) { return queueIndex == 2 * pairs ? 0 : queueIndex / 2; }

    @Override
    public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
        queueStarts.incrementAndGet();
        if (queueIndex == 2 * pairs) {
            controlQueueUsed = true;
            return new ControlQueue(this, ctx);
        }
        int pair = queueIndex / 2;
        NetPort port = backend.port(pair);
        return (queueIndex & 1) == 0 ? new RxPath(this, pair, port, ctx, queueSize) : new TxPath(this, pair, port, ctx);
    }

    @Override
    public void reset() {
        backend.reset();
        filter = RxFilter.initial(mac);
        activePairs = 1;
        controlQueueUsed = false;
    }

    @Override
    public void close() {
        backend.close();
        arena.close();
        log.info("net device closed: {}", counters);
    }

    // ---- shared with the queue handlers -----------------------------------------------------------

    NetBackend backend() { return backend; }

    /** The backend, for tests that inspect it (a switch's directory). */
    public NetBackend backendForTests() { return backend; }

    public NetCounters counters() { return counters; }

    public int maxPairs() { return pairs; }

    /** SET_FEATURES received since the daemon started (every session sends one). */
    public int featureAcks() { return featureAcks.get(); }

    /** Rings started since the daemon started. */
    public int queueStarts() { return queueStarts.get(); }

    public int mtu() { return mtu; }

    public long mac() { return mac; }

    RxFilter filter() { return filter; }

    void setFilter(RxFilter f) { filter = f; }

    void setActivePairs(int n) { activePairs = n; }

    /**
     * Whether pair {@code pair} receives. With a control queue the driver chooses the pairs (MQ_VQ_PAIRS_SET;
     * one after reset, 5.1.6.5.5); without one (QEMU and DPDK's virtio_user keep the control queue to
     * themselves and enable rings with SET_VRING_ENABLE instead) every enabled ring does.
     */
    boolean rxActive(int pair) { return !controlQueueUsed || pair < activePairs; }
}
