package org.vhostj.vhost.daemon;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;

/**
 * Every kind of malformed request closes that connection only: the daemon survives, and a fresh
 * connection completes a handshake and an echo round trip.
 */
class MalformedMessageTest {
    @TempDir static Path dir;
    static Path sock;
    static EchoDevice device;
    static Daemon daemon;

    @BeforeAll
    static void start() {
        sock = dir.resolve("m.sock");
        device = new EchoDevice(2);
        daemon = new Daemon(device, new DaemonOptions(sock, -1, 0, Duration.ofSeconds(5), Duration.ofMillis(200), false));
        daemon.start();
    }

    @AfterAll
    static void stop() { daemon.close(); }

    /** A malformed message, sent after a normal handshake (REPLY_ACK on) so state checks are exercised too. */
    record Attack(String name, Consumer<RawFrontendClient> send) {
        @Override public String toString() { return name; }
    }

    static MemorySegment seg(RawFrontendClient fe, int size, long... longs) {
        MemorySegment s = fe.bytes(size);
        for (int i = 0; i < longs.length && (i + 1) * 8 <= size; i++) s.set(ValueLayout.JAVA_LONG_UNALIGNED, 8L * i, longs[i]);
        return s;
    }

    static MemorySegment ints(RawFrontendClient fe, int... v) {
        MemorySegment s = fe.bytes(4 * v.length);
        for (int i = 0; i < v.length; i++) s.set(ValueLayout.JAVA_INT_UNALIGNED, 4L * i, v[i]);
        return s;
    }

    static int rawFlags() { return MessageHeader.VERSION | MessageHeader.NEED_REPLY; }

    static Stream<Arguments> attacks() {
        List<Attack> a = new ArrayList<>();
        a.add(new Attack("unknownRequestCode", fe -> fe.sendRaw(99, rawFlags(), 0, null)));
        a.add(new Attack("requestCodeZero", fe -> fe.sendRaw(0, rawFlags(), 0, null)));
        a.add(new Attack("versionTwo", fe -> fe.sendRaw(Request.GET_FEATURES.code, 2, 0, null)));
        a.add(new Attack("replyFlagOnARequest", fe -> fe.sendRaw(Request.GET_FEATURES.code, MessageHeader.VERSION | MessageHeader.REPLY, 0, null)));
        a.add(new Attack("reservedFlagBit", fe -> fe.sendRaw(Request.GET_FEATURES.code, MessageHeader.VERSION | 0x100, 0, null)));
        a.add(new Attack("hugePayloadSize", fe -> fe.sendRaw(Request.SET_FEATURES.code, rawFlags(), 0x7fff_ffffL, null)));
        a.add(new Attack("payloadShorterThanDeclared", fe -> {
            fe.sendRaw(Request.SET_FEATURES.code, rawFlags(), 8, fe.bytes(4));
            fe.close();   // the rest never comes
        }));
        for (Request r : new Request[] {Request.SET_FEATURES, Request.SET_PROTOCOL_FEATURES, Request.SET_VRING_KICK, Request.SET_STATUS}) {
            a.add(new Attack(r + "WithFourBytePayload", fe -> fe.sendRaw(r.code, rawFlags(), 4, fe.bytes(4))));
        }
        for (Request r : new Request[] {Request.SET_VRING_NUM, Request.SET_VRING_BASE, Request.GET_VRING_BASE, Request.SET_VRING_ENABLE}) {
            a.add(new Attack(r + "WithSixteenBytePayload", fe -> fe.sendRaw(r.code, rawFlags(), 16, fe.bytes(16))));
            a.add(new Attack(r + "RingIndexOutOfRange", fe -> fe.send(r, ints(fe, 2, 1))));
            a.add(new Attack(r + "RingIndexHuge", fe -> fe.send(r, ints(fe, 0x7fffffff, 1))));
        }
        for (Request r : new Request[] {Request.GET_FEATURES, Request.GET_QUEUE_NUM, Request.SET_OWNER, Request.GET_STATUS}) {
            a.add(new Attack(r + "WithAPayload", fe -> fe.sendRaw(r.code, rawFlags(), 8, fe.bytes(8))));
        }
        a.add(new Attack("getFeaturesWithAnFd", fe -> {
            try (EventFd e = EventFd.create()) { fe.sendRaw(Request.GET_FEATURES.code, rawFlags(), 0, null, e.fd()); }
        }));
        a.add(new Attack("setFeaturesWithUnofferedBit", fe -> fe.send(Request.SET_FEATURES, fe.u64(1L << 63))));
        a.add(new Attack("setProtocolFeaturesWithUnofferedBit", fe -> fe.send(Request.SET_PROTOCOL_FEATURES, fe.u64(1L << 62))));
        a.add(new Attack("vringNumZero", fe -> fe.send(Request.SET_VRING_NUM, ints(fe, 0, 0))));
        a.add(new Attack("vringNumAboveDeviceMax", fe -> fe.send(Request.SET_VRING_NUM, ints(fe, 0, 4096))));
        a.add(new Attack("splitVringBaseAbove16Bits", fe -> fe.send(Request.SET_VRING_BASE, ints(fe, 0, 0x10000))));
        a.add(new Attack("vringEnableTwo", fe -> fe.send(Request.SET_VRING_ENABLE, ints(fe, 0, 2))));
        a.add(new Attack("vringAddrShortPayload", fe -> fe.sendRaw(Request.SET_VRING_ADDR.code, rawFlags(), 32, fe.bytes(32))));
        a.add(new Attack("vringAddrUnknownFlags", fe -> {
            MemorySegment p = fe.bytes(Payloads.VRING_ADDR_SIZE);
            p.set(ValueLayout.JAVA_INT, Payloads.VRING_ADDR_FLAGS_OFFSET, 0x80);
            fe.send(Request.SET_VRING_ADDR, p);
        }));
        a.add(new Attack("vringKickWithoutFdAndWithoutNoFdFlag", fe -> fe.send(Request.SET_VRING_KICK, fe.u64(0))));
        a.add(new Attack("vringCallNoFdFlagButAnFd", fe -> {
            try (EventFd e = EventFd.create()) { fe.send(Request.SET_VRING_CALL, fe.u64(0x100), e.fd()); }
        }));
        a.add(new Attack("vringErrReservedBits", fe -> fe.send(Request.SET_VRING_ERR, fe.u64(0x200 | 0x100))));
        a.add(new Attack("vringKickIndexOutOfRange", fe -> fe.send(Request.SET_VRING_KICK, fe.u64(5 | 0x100))));
        a.add(new Attack("memTableZeroRegions", fe -> fe.send(Request.SET_MEM_TABLE, fe.bytes(8))));
        a.add(new Attack("memTableNineRegions", fe -> {
            MemorySegment p = fe.bytes(8 + 32 * 9);
            p.set(ValueLayout.JAVA_INT, 0, 9);
            fe.send(Request.SET_MEM_TABLE, p);
        }));
        a.add(new Attack("setMemTableWithMoreRegionsThanFds", fe -> {
            try (Fd m = Memfd.create("r", 1 << 20)) {
                MemorySegment p = fe.bytes(8 + 64);
                p.set(ValueLayout.JAVA_INT, 0, 2);
                p.set(ValueLayout.JAVA_LONG, 8 + 8, 1 << 20);
                p.set(ValueLayout.JAVA_LONG, 40 + 8, 1 << 20);
                fe.send(Request.SET_MEM_TABLE, p, m.value());
            }
        }));
        a.add(new Attack("memTableSizeMismatch", fe -> {
            try (Fd m = Memfd.create("r", 1 << 20)) {
                MemorySegment p = fe.bytes(8 + 32 + 4);
                p.set(ValueLayout.JAVA_INT, 0, 1);
                fe.send(Request.SET_MEM_TABLE, p, m.value());
            }
        }));
        a.add(new Attack("memRegionBeyondEndOfItsFile", fe -> {
            try (Fd m = Memfd.create("r", 1 << 20)) {
                MemorySegment p = fe.bytes(8 + 32);
                p.set(ValueLayout.JAVA_INT, 0, 1);
                p.set(ValueLayout.JAVA_LONG, 8 + Payloads.REGION_SIZE_OFFSET, 2 << 20);   // would SIGBUS on touch
                fe.send(Request.SET_MEM_TABLE, p, m.value());
            }
        }));
        a.add(new Attack("memRegionOfZeroBytes", fe -> {
            try (Fd m = Memfd.create("r", 1 << 20)) {
                MemorySegment p = fe.bytes(8 + 32);
                p.set(ValueLayout.JAVA_INT, 0, 1);
                fe.send(Request.SET_MEM_TABLE, p, m.value());
            }
        }));
        a.add(new Attack("memRegionWrappingTheAddressSpace", fe -> {
            try (Fd m = Memfd.create("r", 1 << 20)) {
                MemorySegment p = fe.bytes(8 + 32);
                p.set(ValueLayout.JAVA_INT, 0, 1);
                p.set(ValueLayout.JAVA_LONG, 8 + Payloads.REGION_GPA_OFFSET, -4096L);
                p.set(ValueLayout.JAVA_LONG, 8 + Payloads.REGION_SIZE_OFFSET, 1 << 20);
                fe.send(Request.SET_MEM_TABLE, p, m.value());
            }
        }));
        a.add(new Attack("overlappingMemRegions", fe -> {
            try (Fd m1 = Memfd.create("r", 1 << 20); Fd m2 = Memfd.create("r", 1 << 20)) {
                MemorySegment p = fe.bytes(8 + 64);
                p.set(ValueLayout.JAVA_INT, 0, 2);
                p.set(ValueLayout.JAVA_LONG, 8 + Payloads.REGION_SIZE_OFFSET, 1 << 20);
                p.set(ValueLayout.JAVA_LONG, 40 + Payloads.REGION_GPA_OFFSET, 1 << 19);
                p.set(ValueLayout.JAVA_LONG, 40 + Payloads.REGION_SIZE_OFFSET, 1 << 20);
                fe.send(Request.SET_MEM_TABLE, p, m1.value(), m2.value());
            }
        }));
        a.add(new Attack("addMemRegWithoutFd", fe -> fe.send(Request.ADD_MEM_REG, fe.bytes(Payloads.SINGLE_REGION_SIZE))));
        a.add(new Attack("setLogBaseWithoutLogShmfd", fe -> {
            try (Fd m = Memfd.create("log", 4096)) { fe.send(Request.SET_LOG_BASE, seg(fe, 16, 4096, 0), m.value()); }
        }));
        a.add(new Attack("getInflightFdForMoreQueuesThanTheDeviceHas", fe -> {
            MemorySegment p = fe.bytes(Payloads.INFLIGHT_SIZE);
            p.set(ValueLayout.JAVA_SHORT, Payloads.INFLIGHT_NUM_QUEUES_OFFSET, (short) 100);
            p.set(ValueLayout.JAVA_SHORT, Payloads.INFLIGHT_QUEUE_SIZE_OFFSET, (short) 64);
            fe.send(Request.GET_INFLIGHT_FD, p);
        }));
        a.add(new Attack("setInflightFdSmallerThanItsQueues", fe -> {
            try (Fd m = Memfd.create("inflight", 4096)) {
                MemorySegment p = fe.bytes(Payloads.INFLIGHT_SIZE);
                p.set(ValueLayout.JAVA_LONG, Payloads.INFLIGHT_MMAP_SIZE_OFFSET, 4096);
                p.set(ValueLayout.JAVA_SHORT, Payloads.INFLIGHT_NUM_QUEUES_OFFSET, (short) 2);
                p.set(ValueLayout.JAVA_SHORT, Payloads.INFLIGHT_QUEUE_SIZE_OFFSET, (short) 256);
                fe.send(Request.SET_INFLIGHT_FD, p, m.value());
            }
        }));
        a.add(new Attack("statusAboveEightBits", fe -> fe.send(Request.SET_STATUS, fe.u64(0x100))));
        a.add(new Attack("unsupportedPostcopyAdvise", fe -> fe.send(Request.POSTCOPY_ADVISE, null)));
        a.add(new Attack("ringAddressesOutsideGuestMemory", fe -> {
            try (TestGuest g = new TestGuest(1 << 20); EventFd kick = EventFd.create(); EventFd call = EventFd.create()) {
                fe.setMemTable(g);
                fe.startRing(0, 16, 0, 1L << 40, 1L << 40, 1L << 40, kick.fd(), call.fd());
            } catch (IllegalStateException expected) {
                // startRing notices the NACK; the connection is closing
            }
        }));
        return a.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void malformedRequestClosesOnlyThatConnection(Attack attack) throws Exception {
        try (RawFrontendClient fe = new RawFrontendClient(sock)) {
            fe.handshake(~0L & ~VirtioFeature.bit(VirtioFeature.RING_PACKED), ProtocolFeature.bit(ProtocolFeature.REPLY_ACK) | ProtocolFeature.bit(ProtocolFeature.MQ));
            attack.send().accept(fe);
            // the back-end NACKs (when asked to reply) and closes: drain replies until EOF
            long end = System.currentTimeMillis() + 5000;
            boolean closed = false;
            while (!closed && System.currentTimeMillis() < end) {
                RawFrontendClient.Reply r;
                try { r = fe.receive(); } catch (RuntimeException e) { break; }
                if (r == null) closed = true;
                else assertNotEquals(0L, r.payload().byteSize() == 8 ? r.u64() : 1, attack + ": a malformed request was acknowledged as success");
            }
        }
        assertServesAFreshConnection();
    }

    @Test
    void manyRapidMalformedConnectionsDoNotExhaustTheDaemon() throws Exception {
        for (int i = 0; i < 200; i++) {
            try (RawFrontendClient fe = new RawFrontendClient(sock)) {
                fe.sendRaw(4242, 1, 0, null);
                fe.receive();
            }
        }
        assertServesAFreshConnection();
    }

    static void assertServesAFreshConnection() throws Exception {
        try (DaemonSession s = new DaemonSession(sock, false, true)) {
            s.postEcho(2, 48, (byte) 0x5a);
            int[] used = s.awaitUsed();
            assertEquals(2, used[0]);
            assertEquals(48, used[1]);
            assertEquals(0x5a, s.readEcho(2, 48));
        }
    }
}
