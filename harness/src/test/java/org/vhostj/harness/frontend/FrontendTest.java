package org.vhostj.harness.frontend;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.vhostj.sys.Memfd;
import org.vhostj.sys.ReceivedFds;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;

/** The protocol client against a scripted backend on the other end of a real socketpair. */
class FrontendTest {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final UnixSocket[] pair = UnixSocket.pair();
    final UnixSocket backend = pair[1];
    final Arena arena = Arena.ofShared();
    final MemorySegment buf = arena.allocate(4096, 8);
    final Frontend fe = new Frontend(RawFrontend.adopt(pair[0], 500));

    @AfterEach
    void close() {
        fe.close();
        backend.close();
        arena.close();
    }

    /** The scripted backend: one received message. */
    record Msg(int request, int flags, MemorySegment payload, int fds) {}

    Msg receive(ReceivedFds fds) {
        assertEquals(12, backend.receiveExact(buf, 12, fds));
        int size = buf.get(LE_INT, 8);
        if (size > 0) assertEquals(size, backend.receiveExact(buf.asSlice(12), size, fds));
        return new Msg(buf.get(LE_INT, 0), buf.get(LE_INT, 4), buf.asSlice(12, size), fds.count());
    }

    void reply(int request, long u64) {
        MemorySegment m = arena.allocate(20, 8);
        m.set(LE_INT, 0, request);
        m.set(LE_INT, 4, MessageHeader.VERSION | MessageHeader.REPLY);
        m.set(LE_INT, 8, 8);
        m.set(LE_LONG, 12, u64);
        assertEquals(0, backend.send(m, 20));
    }

    CompletableFuture<Void> script(Runnable r) { return CompletableFuture.runAsync(r); }

    @Test
    void refusedRequestUnderReplyAckFailsNamingTheRequest() throws Exception {
        var done = script(() -> {
            try (ReceivedFds fds = new ReceivedFds()) {
                reply(receive(fds).request(), VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES));
                reply(receive(fds).request(), ProtocolFeature.bit(ProtocolFeature.REPLY_ACK));
                Msg set = receive(fds);
                assertEquals(Request.SET_PROTOCOL_FEATURES.code, set.request());
                assertEquals(0, set.flags() & MessageHeader.NEED_REPLY, "REPLY_ACK applies only after it is acknowledged");
                Msg owner = receive(fds);
                assertEquals(Request.SET_OWNER.code, owner.request());
                assertNotEquals(0, owner.flags() & MessageHeader.NEED_REPLY);
                reply(owner.request(), 1);
            }
        });
        assertTrue(VirtioFeature.has(fe.getFeatures(), VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES));
        fe.setProtocolFeatures(fe.getProtocolFeatures());
        FrontendException e = assertThrows(FrontendException.class, fe::setOwner);
        assertEquals(FrontendException.Kind.NACK, e.kind());
        assertTrue(e.getMessage().startsWith("SET_OWNER: "), e.getMessage());
        done.get(5, TimeUnit.SECONDS);
    }

    @Test
    void silentBackendTimesOutInsteadOfHanging() {
        long t0 = System.nanoTime();
        FrontendException e = assertThrows(FrontendException.class, fe::getFeatures);
        assertEquals(FrontendException.Kind.TIMEOUT, e.kind());
        assertTrue(e.getMessage().startsWith("GET_FEATURES: no reply within 500 ms"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3));
    }

    @Test
    void backendThatClosesIsReportedAsClosed() {
        backend.shutdown();
        FrontendException e = assertThrows(FrontendException.class, fe::getQueueNum);
        assertTrue(e.kind() == FrontendException.Kind.CLOSED, e.getMessage());
        assertTrue(e.getMessage().startsWith("GET_QUEUE_NUM: "), e.getMessage());
    }

    @Test
    void replyToAnotherRequestIsABadReply() throws Exception {
        var done = script(() -> {
            try (ReceivedFds fds = new ReceivedFds()) {
                receive(fds);
                reply(Request.GET_QUEUE_NUM.code, 2);
            }
        });
        FrontendException e = assertThrows(FrontendException.class, fe::getFeatures);
        assertEquals(FrontendException.Kind.BAD_REPLY, e.kind());
        assertTrue(e.getMessage().contains("reply is for GET_QUEUE_NUM"), e.getMessage());
        done.get(5, TimeUnit.SECONDS);
    }

    @Test
    void memTableCarriesOneMemfdPerRegionInOrder() throws Exception {
        try (GuestRam ram = GuestRam.create(2, 1 << 16)) {
            ram.regions().get(0).memory().set(LE_LONG, 0, 0xAAAAL);
            ram.regions().get(1).memory().set(LE_LONG, 0, 0xBBBBL);
            var done = CompletableFuture.supplyAsync(() -> {
                try (ReceivedFds fds = new ReceivedFds(); Arena a = Arena.ofConfined()) {
                    Msg m = receive(fds);
                    assertEquals(Request.SET_MEM_TABLE.code, m.request());
                    assertEquals(2, m.payload().get(LE_INT, 0));
                    assertEquals(2, m.fds());
                    long[] seen = new long[2];
                    for (int i = 0; i < 2; i++) {
                        long gpa = m.payload().get(LE_LONG, 8 + 32L * i);
                        assertEquals(ram.regions().get(i).gpa(), gpa);
                        try (var fd = fds.take(i)) {
                            seen[i] = Memfd.mapShared(fd.value(), 0, 1 << 16, false, a).get(LE_LONG, 0);
                        }
                    }
                    return seen;
                }
            });
            fe.setMemTable(ram.regions());
            assertArrayEquals(new long[] {0xAAAAL, 0xBBBBL}, done.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void memTableRefusesMoreThanEightRegions() {
        try (GuestRam ram = GuestRam.create(9, 4096)) {
            assertThrows(IllegalArgumentException.class, () -> fe.setMemTable(ram.regions()));
            assertThrows(IllegalArgumentException.class, () -> fe.setMemTable(List.of()));
        }
    }
}
