package org.vhostj.harness.frontend;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.VirtioFeature;

/**
 * A whole front-end session with one backend, set up the way QEMU does it: feature and protocol-feature
 * negotiation, SET_OWNER, queue count and config space, SET_FEATURES, guest memory (SET_MEM_TABLE, or
 * ADD_MEM_REG per region when the backend offers CONFIGURE_MEM_SLOTS), then per ring NUM, BASE, ADDR,
 * KICK, CALL and ENABLE. Stopping a ring is GET_VRING_BASE.
 *
 * <p>Owned by the thread that opened it (the control thread); the queues it starts are then handed to
 * workers. {@link #close()} stops the rings that are still started, closes the connection, the eventfds
 * and guest RAM, in that order.
 */
public final class VhostSession implements AutoCloseable {
    public enum Toggle { ON, OFF, AUTO }

    public enum MemoryMode { AUTO, TABLE, ADD_REG }

    /**
     * @param deviceFeatures  device feature bits (below 24, or device bits above 40) to acknowledge if offered
     * @param eventIdx        VIRTIO_F_EVENT_IDX: ON requires it, AUTO uses it when offered
     * @param configBytes     bytes of config space to read with GET_CONFIG (0: do not read)
     */
    public record Options(Path socket, long timeoutMillis, long deviceFeatures, RingConfig rings, Toggle eventIdx,
                          int regions, long regionBytes, boolean adjacentRegions, MemoryMode memoryMode,
                          boolean replyAck, int configBytes) {
        public Options withRings(RingConfig r) {
            return new Options(socket, timeoutMillis, deviceFeatures, r, eventIdx, regions, regionBytes, adjacentRegions, memoryMode, replyAck, configBytes);
        }

        public static Options defaults(Path socket, long deviceFeatures, int configBytes) {
            return new Options(socket, 5000, deviceFeatures, new RingConfig(256, false, 0), Toggle.AUTO, 1, 64L << 20,
                    false, MemoryMode.AUTO, true, configBytes);
        }
    }

    /** Protocol features the harness implements and acknowledges when offered. */
    static final long SUPPORTED_PROTOCOL = ProtocolFeature.bit(ProtocolFeature.MQ) | ProtocolFeature.bit(ProtocolFeature.REPLY_ACK)
            | ProtocolFeature.bit(ProtocolFeature.CONFIG) | ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS)
            | ProtocolFeature.bit(ProtocolFeature.RESET_DEVICE);

    private final Options options;
    private final Frontend frontend;
    private final GuestRam ram;
    private final Map<Integer, VirtQueue> started = new LinkedHashMap<>();
    private final List<VirtQueue> allQueues = new ArrayList<>();
    private long offeredFeatures, ackedFeatures, offeredProtocol;
    private int backendQueueNum = -1;
    private long maxMemSlots = -1;
    private byte[] config = new byte[0];
    private boolean eventIdx;

    private VhostSession(Options options, Frontend frontend, GuestRam ram) {
        this.options = options;
        this.frontend = frontend;
        this.ram = ram;
    }

    /** Connects and negotiates; guest memory is created and sent; no ring is started yet. */
    public static VhostSession open(Options o) {
        GuestRam ram = GuestRam.create(o.regions(), o.regionBytes(), o.adjacentRegions());
        Frontend fe;
        try {
            fe = Frontend.connect(o.socket(), o.timeoutMillis());
        } catch (RuntimeException e) {
            ram.close();
            throw e;
        }
        VhostSession s = new VhostSession(o, fe, ram);
        try {
            s.negotiate();
            return s;
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void negotiate() {
        offeredFeatures = frontend.getFeatures();
        boolean protocol = VirtioFeature.has(offeredFeatures, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES);
        long wantedProtocol = SUPPORTED_PROTOCOL;
        if (!options.replyAck()) wantedProtocol &= ~ProtocolFeature.bit(ProtocolFeature.REPLY_ACK);
        if (options.configBytes() == 0) wantedProtocol &= ~ProtocolFeature.bit(ProtocolFeature.CONFIG);
        if (options.memoryMode() == MemoryMode.TABLE) wantedProtocol &= ~ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS);
        if (protocol) {
            offeredProtocol = frontend.getProtocolFeatures();
            frontend.setProtocolFeatures(offeredProtocol & wantedProtocol);
        }
        long proto = frontend.protocolFeatures();
        frontend.setOwner();
        if (ProtocolFeature.has(proto, ProtocolFeature.MQ)) backendQueueNum = frontend.getQueueNum();
        boolean memSlots = ProtocolFeature.has(proto, ProtocolFeature.CONFIGURE_MEM_SLOTS);
        if (options.memoryMode() == MemoryMode.ADD_REG && !memSlots) {
            throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_PROTOCOL_FEATURES",
                    "ADD_MEM_REG was asked for, but the backend does not offer CONFIGURE_MEM_SLOTS");
        }
        if (memSlots) maxMemSlots = frontend.getMaxMemSlots();
        if (ProtocolFeature.has(proto, ProtocolFeature.CONFIG) && options.configBytes() > 0) {
            config = frontend.getConfig(0, options.configBytes());
        }

        long acked = offeredFeatures & options.deviceFeatures();
        acked |= offeredFeatures & (VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES));
        RingConfig rings = options.rings();
        acked |= require(rings.packed(), VirtioFeature.RING_PACKED, "packed rings");
        acked |= require(rings.indirect(), VirtioFeature.RING_INDIRECT_DESC, "indirect descriptors");
        eventIdx = switch (options.eventIdx()) {
            case ON -> { require(true, VirtioFeature.RING_EVENT_IDX, "EVENT_IDX"); yield true; }
            case OFF -> false;
            case AUTO -> VirtioFeature.has(offeredFeatures, VirtioFeature.RING_EVENT_IDX);
        };
        if (eventIdx) acked |= VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX);
        ackedFeatures = acked;
        frontend.setFeatures(acked);

        List<GuestRam.Region> regions = ram.regions();
        if (memSlots && options.memoryMode() != MemoryMode.TABLE) {
            if (regions.size() > maxMemSlots) {
                throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_MAX_MEM_SLOTS", "backend allows " + maxMemSlots + " slots, harness has " + regions.size() + " regions");
            }
            for (GuestRam.Region r : regions) frontend.addMemReg(r);
        } else {
            frontend.setMemTable(regions);
        }
    }

    private long require(boolean wanted, int feature, String what) {
        if (!wanted) return 0;
        if (!VirtioFeature.has(offeredFeatures, feature)) {
            throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_FEATURES", "backend does not offer " + what
                    + " (feature bit " + feature + "; offered 0x" + Long.toHexString(offeredFeatures) + ")");
        }
        return VirtioFeature.bit(feature);
    }

    /**
     * Creates queue {@code index}'s ring and starts it in the backend: NUM, BASE, ADDR, KICK, CALL, then
     * ENABLE when protocol features were negotiated. The first kick is the worker's.
     */
    public VirtQueue startQueue(int index) {
        if (started.containsKey(index)) throw new IllegalStateException("queue " + index + " already started");
        if (backendQueueNum >= 0 && index >= backendQueueNum) {
            throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_QUEUE_NUM", "queue " + index + " asked for, backend has " + backendQueueNum);
        }
        VirtQueue q = VirtQueue.create(ram, index, options.rings(), eventIdx);
        allQueues.add(q);
        frontend.setVringNum(index, q.ring().size());
        frontend.setVringBase(index, q.ring().vringBase());
        frontend.setVringAddr(index, ram.frontendVaOf(q.ring().descriptorArea().gpa()),
                ram.frontendVaOf(q.ring().deviceArea().gpa()), ram.frontendVaOf(q.ring().driverArea().gpa()));
        frontend.setVringKick(index, q.kickFd());
        frontend.setVringCall(index, q.callFd());
        if (VirtioFeature.has(ackedFeatures, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)) frontend.setVringEnable(index, true);
        started.put(index, q);
        return q;
    }

    /** Stops queue {@code index} (GET_VRING_BASE) and returns the backend's next available index. */
    public int stopQueue(int index) {
        VirtQueue q = started.remove(index);
        if (q == null) throw new IllegalStateException("queue " + index + " is not started");
        return frontend.getVringBase(index);
    }

    public Frontend frontend() { return frontend; }

    public GuestRam ram() { return ram; }

    public Options options() { return options; }

    public long offeredFeatures() { return offeredFeatures; }

    public long ackedFeatures() { return ackedFeatures; }

    public long offeredProtocolFeatures() { return offeredProtocol; }

    public long protocolFeatures() { return frontend.protocolFeatures(); }

    /** GET_QUEUE_NUM's answer, or -1 when the backend does not offer MQ. */
    public int backendQueueNum() { return backendQueueNum; }

    public long maxMemSlots() { return maxMemSlots; }

    /** Config space read at setup (empty if not read). */
    public byte[] config() { return config.clone(); }

    public boolean eventIdx() { return eventIdx; }

    public boolean packed() { return options.rings().packed(); }

    /** Stops started rings (errors ignored: the backend may be gone), closes the connection, eventfds and RAM. */
    @Override
    public void close() {
        for (Integer index : new ArrayList<>(started.keySet())) {
            try {
                stopQueue(index);
            } catch (FrontendException e) {
                // a dead or hung backend would make every further stop wait for the timeout too
                if (e.kind() != FrontendException.Kind.NACK && e.kind() != FrontendException.Kind.BAD_REPLY) break;
            }
        }
        frontend.close();
        for (VirtQueue q : allQueues) q.close();
        ram.close();
    }
}
