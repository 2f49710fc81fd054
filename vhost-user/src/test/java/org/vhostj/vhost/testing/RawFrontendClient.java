package org.vhostj.vhost.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.vhostj.sys.Fd;
import org.vhostj.sys.ReceivedFds;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;

/**
 * The smallest vhost-user front-end for core tests: sends any header, payload and fds, and reads replies,
 * so tests can send what a real VMM never would. The harness module has the full front-end.
 */
public final class RawFrontendClient implements AutoCloseable {
    public record Reply(int request, int flags, MemorySegment payload, ReceivedFds fds) {
        public long u64() { return payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0); }
    }

    private final UnixSocket socket;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment out = arena.allocate(8192, 8);
    private final MemorySegment in = arena.allocate(8192, 8);
    private final ReceivedFds replyFds = new ReceivedFds();
    private boolean replyAck;

    public RawFrontendClient(Path socketPath) {
        this.socket = UnixSocket.connect(socketPath);
        socket.setReceiveTimeout(10_000);
    }

    /** Sends a raw message; returns 0 or -errno. */
    public int sendRaw(int code, int flags, long declaredSize, MemorySegment payload, int... fds) {
        out.set(ValueLayout.JAVA_INT, 0, code);
        out.set(ValueLayout.JAVA_INT, 4, flags);
        out.set(ValueLayout.JAVA_INT, 8, (int) declaredSize);
        long len = payload == null ? 0 : payload.byteSize();
        if (len > 0) MemorySegment.copy(payload, 0, out, MessageHeader.SIZE, len);
        return socket.send(out, MessageHeader.SIZE + len, fds);
    }

    public int send(Request req, MemorySegment payload, int... fds) {
        int flags = MessageHeader.VERSION | (replyAck && !req.hasReply ? MessageHeader.NEED_REPLY : 0);
        return sendRaw(req.code, flags, payload == null ? 0 : payload.byteSize(), payload, fds);
    }

    /** Sends and, when REPLY_ACK is on (or the request has a reply), reads the reply. */
    public Reply call(Request req, MemorySegment payload, int... fds) {
        int r = send(req, payload, fds);
        if (r < 0) throw new IllegalStateException(req + ": send failed: " + r);
        if (req.hasReply || replyAck) return receive();
        return null;
    }

    /** Like {@link #call} but asserts a REPLY_ACK of 0 when acks are on. */
    public void ok(Request req, MemorySegment payload, int... fds) {
        Reply r = call(req, payload, fds);
        if (r != null && !req.hasReply && r.u64() != 0) throw new IllegalStateException(req + " was refused");
    }

    /** Reads one reply; null if the back-end closed the connection (or timed out). */
    public Reply receive() {
        replyFds.close();
        long n = socket.receiveExact(in, MessageHeader.SIZE, replyFds);
        if (n != MessageHeader.SIZE) return null;
        int size = in.get(ValueLayout.JAVA_INT, 8);
        if (size < 0 || size > 4096) throw new IllegalStateException("reply size " + size);
        if (socket.receiveExact(in.asSlice(MessageHeader.SIZE), size, replyFds) != size) return null;
        return new Reply(in.get(ValueLayout.JAVA_INT, 0), in.get(ValueLayout.JAVA_INT, 4), in.asSlice(MessageHeader.SIZE, size), replyFds);
    }

    /** True once the back-end has closed this connection (a read sees EOF or an error). */
    public boolean closedByBackend() {
        replyFds.close();
        long n = socket.receive(in, 1, replyFds, 0);
        return n <= 0;
    }

    public MemorySegment u64(long v) {
        MemorySegment s = arena.allocate(8, 8);
        s.set(ValueLayout.JAVA_LONG, 0, v);
        return s;
    }

    public MemorySegment state(int index, int num) {
        MemorySegment s = arena.allocate(8, 8);
        s.set(ValueLayout.JAVA_INT, 0, index);
        s.set(ValueLayout.JAVA_INT, 4, num);
        return s;
    }

    public MemorySegment bytes(int n) { return arena.allocate(Math.max(n, 1), 8).asSlice(0, n); }

    /** GET_FEATURES, SET_OWNER, protocol features (REPLY_ACK on from then on), SET_FEATURES. Returns the offered features. */
    public long handshake(long wantFeatures, long wantProtocolFeatures) {
        long offered = call(Request.GET_FEATURES, null).u64();
        ok(Request.SET_OWNER, null);
        long protocol = call(Request.GET_PROTOCOL_FEATURES, null).u64() & wantProtocolFeatures;
        ok(Request.SET_PROTOCOL_FEATURES, u64(protocol));
        replyAck = ProtocolFeature.has(protocol, ProtocolFeature.REPLY_ACK);
        ok(Request.SET_FEATURES, u64(offered & wantFeatures));
        return offered;
    }

    public boolean replyAck() { return replyAck; }

    /** SET_MEM_TABLE with every region of {@code guest}. */
    public void setMemTable(TestGuest guest) {
        int n = guest.regions().size();
        MemorySegment p = bytes(Payloads.MEM_TABLE_HEADER_SIZE + Payloads.REGION_SIZE * n);
        p.set(ValueLayout.JAVA_INT, 0, n);
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            TestGuest.Region r = guest.regions().get(i);
            long at = Payloads.MEM_TABLE_HEADER_SIZE + (long) Payloads.REGION_SIZE * i;
            p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_GPA_OFFSET, r.gpa());
            p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_SIZE_OFFSET, r.size());
            p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_FRONTEND_VA_OFFSET, r.frontendVa());
            p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_MMAP_OFFSET_OFFSET, 0);
            fds[i] = r.fd().value();
        }
        ok(Request.SET_MEM_TABLE, p, fds);
    }

    /** ADD_MEM_REG or REM_MEM_REG for one region. */
    public Reply memRegion(Request req, TestGuest.Region r, Fd fd) {
        MemorySegment p = bytes(Payloads.SINGLE_REGION_SIZE);
        long at = Payloads.SINGLE_REGION_OFFSET;
        p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_GPA_OFFSET, r.gpa());
        p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_SIZE_OFFSET, r.size());
        p.set(ValueLayout.JAVA_LONG, at + Payloads.REGION_FRONTEND_VA_OFFSET, r.frontendVa());
        return fd == null ? call(req, p) : call(req, p, fd.value());
    }

    /** SET_VRING_NUM/BASE/ADDR/CALL/KICK/ENABLE for one ring (addresses are GPAs, sent as front-end VAs). */
    public void startRing(int index, int size, int base, long descGpa, long driverGpa, long deviceGpa, int kickFd, int callFd) {
        ok(Request.SET_VRING_NUM, state(index, size));
        ok(Request.SET_VRING_BASE, state(index, base));
        MemorySegment a = bytes(Payloads.VRING_ADDR_SIZE);
        a.set(ValueLayout.JAVA_INT, Payloads.VRING_ADDR_INDEX_OFFSET, index);
        a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_DESC_OFFSET, descGpa + TestGuest.VA_OFFSET);
        a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_USED_OFFSET, deviceGpa + TestGuest.VA_OFFSET);
        a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_AVAIL_OFFSET, driverGpa + TestGuest.VA_OFFSET);
        ok(Request.SET_VRING_ADDR, a);
        ok(Request.SET_VRING_CALL, u64(index), callFd);
        ok(Request.SET_VRING_KICK, u64(index), kickFd);
        ok(Request.SET_VRING_ENABLE, state(index, 1));
    }

    private boolean closed;

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        replyFds.close();
        socket.close();
        arena.close();
    }
}
