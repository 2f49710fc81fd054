package org.vhostj.harness.frontend;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.vhostj.sys.EventFd;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;

/**
 * A vhost-user front-end: one typed method per request, as a VMM sends them. When REPLY_ACK is negotiated
 * every request without its own reply asks for an acknowledgement and waits for it, so a refusal surfaces
 * at the request that caused it. Every failure is a {@link FrontendException} naming the request; every
 * wait is bounded by the connection's timeout.
 *
 * <p>Owned by the session's control thread (not thread-safe); {@link #close()} closes the connection.
 */
public final class Frontend implements AutoCloseable {
    private final RawFrontend raw;
    private long protocolFeatures;
    private boolean replyAck;

    public Frontend(RawFrontend raw) { this.raw = raw; }

    public static Frontend connect(Path socket, long timeoutMillis) {
        return new Frontend(RawFrontend.connect(socket, timeoutMillis));
    }

    public RawFrontend raw() { return raw; }

    /** Protocol features acknowledged with SET_PROTOCOL_FEATURES (0 before). */
    public long protocolFeatures() { return protocolFeatures; }

    public boolean replyAck() { return replyAck; }

    // ---- the requests ---------------------------------------------------------------------------------

    public long getFeatures() { return u64(Request.GET_FEATURES, call(Request.GET_FEATURES, new byte[0])); }

    public void setFeatures(long features) { send(Request.SET_FEATURES, u64(features)); }

    public long getProtocolFeatures() { return u64(Request.GET_PROTOCOL_FEATURES, call(Request.GET_PROTOCOL_FEATURES, new byte[0])); }

    /** Acknowledges protocol features; REPLY_ACK applies to the requests after this one. */
    public void setProtocolFeatures(long features) {
        send(Request.SET_PROTOCOL_FEATURES, u64(features));
        protocolFeatures = features;
        replyAck = ProtocolFeature.has(features, ProtocolFeature.REPLY_ACK);
    }

    public void setOwner() { send(Request.SET_OWNER, new byte[0]); }

    public void resetDevice() { send(Request.RESET_DEVICE, new byte[0]); }

    public int getQueueNum() {
        long n = u64(Request.GET_QUEUE_NUM, call(Request.GET_QUEUE_NUM, new byte[0]));
        if (n < 0 || n > 0xffff) throw new FrontendException(FrontendException.Kind.BAD_REPLY, "GET_QUEUE_NUM", "implausible queue count " + Long.toUnsignedString(n));
        return (int) n;
    }

    public long getMaxMemSlots() { return u64(Request.GET_MAX_MEM_SLOTS, call(Request.GET_MAX_MEM_SLOTS, new byte[0])); }

    /** GET_CONFIG of {@code size} bytes from {@code offset}; the backend must answer with exactly that many. */
    public byte[] getConfig(int offset, int size) {
        ByteBuffer b = le(Payloads.CONFIG_HEADER_SIZE + size).putInt(offset).putInt(size).putInt(0);
        byte[] reply = call(Request.GET_CONFIG, b.array());
        if (reply.length != Payloads.CONFIG_HEADER_SIZE + size) {
            throw new FrontendException(FrontendException.Kind.BAD_REPLY, "GET_CONFIG", reply.length == 0
                    ? "backend refused (empty reply)" : "reply of " + reply.length + " bytes for a " + size + "-byte request");
        }
        byte[] config = new byte[size];
        System.arraycopy(reply, Payloads.CONFIG_HEADER_SIZE, config, 0, size);
        return config;
    }

    /** SET_MEM_TABLE with every region of {@code ram} (at most 8), their memfds attached in order. */
    public void setMemTable(List<GuestRam.Region> regions) {
        if (regions.isEmpty() || regions.size() > Payloads.MAX_MEM_TABLE_REGIONS) {
            throw new IllegalArgumentException("SET_MEM_TABLE carries 1.." + Payloads.MAX_MEM_TABLE_REGIONS + " regions, not " + regions.size());
        }
        ByteBuffer b = le(Payloads.MEM_TABLE_HEADER_SIZE + Payloads.REGION_SIZE * regions.size()).putInt(regions.size()).putInt(0);
        int[] fds = new int[regions.size()];
        for (int i = 0; i < regions.size(); i++) {
            GuestRam.Region r = regions.get(i);
            putRegion(b, r);
            fds[i] = r.fd().value();
        }
        send(Request.SET_MEM_TABLE, b.array(), fds);
    }

    /** ADD_MEM_REG of one region (CONFIGURE_MEM_SLOTS). */
    public void addMemReg(GuestRam.Region r) {
        ByteBuffer b = le(Payloads.SINGLE_REGION_SIZE).putLong(0);
        putRegion(b, r);
        send(Request.ADD_MEM_REG, b.array(), r.fd().value());
    }

    public void remMemReg(GuestRam.Region r) {
        ByteBuffer b = le(Payloads.SINGLE_REGION_SIZE).putLong(0);
        putRegion(b, r);
        send(Request.REM_MEM_REG, b.array());
    }

    private static void putRegion(ByteBuffer b, GuestRam.Region r) {
        b.putLong(r.gpa()).putLong(r.sizeBytes()).putLong(r.frontendVa()).putLong(0);
    }

    public void setVringNum(int index, int num) { send(Request.SET_VRING_NUM, vringState(index, num)); }

    public void setVringBase(int index, int num) { send(Request.SET_VRING_BASE, vringState(index, num)); }

    /** Stops ring {@code index}; returns the backend's next available index (packed: with the wrap counter in bit 15). */
    public int getVringBase(int index) {
        byte[] reply = call(Request.GET_VRING_BASE, vringState(index, 0));
        if (reply.length != Payloads.VRING_STATE_SIZE) {
            throw new FrontendException(FrontendException.Kind.BAD_REPLY, "GET_VRING_BASE", "reply of " + reply.length + " bytes, not 8");
        }
        ByteBuffer b = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        int replyIndex = b.getInt();
        if (replyIndex != index) {
            throw new FrontendException(FrontendException.Kind.BAD_REPLY, "GET_VRING_BASE", "reply names ring " + replyIndex + ", asked for " + index);
        }
        return b.getInt();
    }

    /** SET_VRING_ADDR; the addresses are front-end virtual addresses (no IOMMU). */
    public void setVringAddr(int index, long descVa, long usedVa, long availVa) {
        ByteBuffer b = le(Payloads.VRING_ADDR_SIZE).putInt(index).putInt(0).putLong(descVa).putLong(usedVa).putLong(availVa).putLong(0);
        send(Request.SET_VRING_ADDR, b.array());
    }

    public void setVringKick(int index, EventFd fd) { sendVringFd(Request.SET_VRING_KICK, index, fd); }

    public void setVringCall(int index, EventFd fd) { sendVringFd(Request.SET_VRING_CALL, index, fd); }

    public void setVringErr(int index, EventFd fd) { sendVringFd(Request.SET_VRING_ERR, index, fd); }

    private void sendVringFd(Request r, int index, EventFd fd) {
        long v = index & Payloads.VRING_INDEX_MASK;
        if (fd == null) send(r, u64(v | Payloads.VRING_NOFD_MASK));
        else send(r, u64(v), fd.fd());
    }

    public void setVringEnable(int index, boolean enable) { send(Request.SET_VRING_ENABLE, vringState(index, enable ? 1 : 0)); }

    public void setStatus(int status) { send(Request.SET_STATUS, u64(status)); }

    public int getStatus() { return (int) u64(Request.GET_STATUS, call(Request.GET_STATUS, new byte[0])); }

    // ---- the exchange ---------------------------------------------------------------------------------

    /** Sends a request that has no reply body; with REPLY_ACK, waits for the acknowledgement. */
    public void send(Request r, byte[] payload, int... fds) {
        int flags = MessageHeader.VERSION | (replyAck ? MessageHeader.NEED_REPLY : 0);
        raw.send(r.code, flags, payload, fds);
        if (!replyAck) return;
        long status = u64(r, reply(r));
        if (status != 0) throw new FrontendException(FrontendException.Kind.NACK, r.name(), "backend replied " + status + " (failure)");
    }

    /** Sends a request that always has a reply and returns the reply payload. */
    public byte[] call(Request r, byte[] payload) {
        raw.send(r.code, MessageHeader.VERSION, payload);
        return reply(r);
    }

    private byte[] reply(Request r) {
        RawFrontend.Message m = raw.receive(r.name());
        if (m.request() != r.code) {
            throw new FrontendException(FrontendException.Kind.BAD_REPLY, r.name(), "reply is for " + RawFrontend.name(m.request()));
        }
        if ((m.flags() & MessageHeader.VERSION_MASK) != MessageHeader.VERSION || (m.flags() & MessageHeader.REPLY) == 0) {
            throw new FrontendException(FrontendException.Kind.BAD_REPLY, r.name(), "reply flags 0x" + Integer.toHexString(m.flags()));
        }
        return m.payload();
    }

    private static long u64(Request r, byte[] payload) {
        if (payload.length != 8) throw new FrontendException(FrontendException.Kind.BAD_REPLY, r.name(), "expected a u64 reply, got " + payload.length + " bytes");
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static byte[] u64(long v) { return le(8).putLong(v).array(); }

    private static byte[] vringState(int index, int num) { return le(Payloads.VRING_STATE_SIZE).putInt(index).putInt(num).array(); }

    private static ByteBuffer le(int size) { return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN); }

    @Override
    public void close() { raw.close(); }
}
