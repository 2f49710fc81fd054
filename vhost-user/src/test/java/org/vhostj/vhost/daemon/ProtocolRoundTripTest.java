package org.vhostj.vhost.daemon;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;

/** Protocol round trips against a real daemon over a real socket, with memfd guest memory and eventfds. */
class ProtocolRoundTripTest {
    @TempDir Path dir;
    Path sock;
    EchoDevice device;
    Daemon daemon;

    @BeforeEach
    void start() {
        sock = dir.resolve("echo.sock");
        device = new EchoDevice(2);
        daemon = new Daemon(device, new DaemonOptions(sock, -1, 0, Duration.ofSeconds(5), Duration.ofMillis(300), true));
        daemon.start();
    }

    @AfterEach
    void stop() { daemon.close(); }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void echoRequestsRoundTripAndInterruptTheDriver(boolean packed, boolean eventIdx) throws Exception {
        try (DaemonSession s = new DaemonSession(sock, packed, eventIdx)) {
            for (int round = 0; round < 200; round++) {
                int id = round % 8;
                s.postEcho(id, 100 + id, (byte) round);
                int[] used = s.awaitUsed();
                assertEquals(id, used[0]);
                assertEquals(100 + id, used[1]);
                assertEquals((byte) round, s.readEcho(id, 100 + id));
            }
            assertTrue(s.call.read() > 0, "the device signalled the call eventfd");
            QueueMetrics m = daemon.queueMetrics(0);
            assertEquals(200, m.requests());
            assertTrue(m.kicks() > 0);
            assertTrue(m.latencyBuckets().length > 0 && m.latencySumNanos() > 0);
        }
    }

    @Test
    void handshakeReportsFeaturesQueuesAndConfig() {
        try (RawFrontendClient fe = new RawFrontendClient(sock)) {
            long features = fe.call(Request.GET_FEATURES, null).u64();
            assertTrue(VirtioFeature.has(features, VirtioFeature.VERSION_1));
            assertTrue(VirtioFeature.has(features, VirtioFeature.RING_PACKED));
            assertTrue(VirtioFeature.has(features, 3), "the device's own bit");
            long protocol = fe.call(Request.GET_PROTOCOL_FEATURES, null).u64();
            assertTrue(ProtocolFeature.has(protocol, ProtocolFeature.CONFIG), "a device with a config space offers CONFIG");
            assertTrue(ProtocolFeature.has(protocol, ProtocolFeature.INFLIGHT_SHMFD));
            assertEquals(2, fe.call(Request.GET_QUEUE_NUM, null).u64());
            assertEquals(Connection.MAX_MEM_SLOTS, fe.call(Request.GET_MAX_MEM_SLOTS, null).u64());
            MemorySegment get = fe.bytes(Payloads.CONFIG_HEADER_SIZE + 4);
            get.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, 4);
            RawFrontendClient.Reply r = fe.call(Request.GET_CONFIG, get);
            assertEquals(Payloads.CONFIG_HEADER_SIZE + 4, r.payload().byteSize());
            assertEquals(0x1234, r.payload().get(ValueLayout.JAVA_INT_UNALIGNED, Payloads.CONFIG_HEADER_SIZE));
        }
    }

    @Test
    void refusalsThatAreNotMalformedKeepTheConnection() {
        try (RawFrontendClient fe = new RawFrontendClient(sock)) {
            fe.handshake(~0L, ProtocolFeature.bit(ProtocolFeature.REPLY_ACK) | ProtocolFeature.bit(ProtocolFeature.CONFIG));
            MemorySegment get = fe.bytes(Payloads.CONFIG_HEADER_SIZE + 8);
            get.set(ValueLayout.JAVA_INT, Payloads.CONFIG_OFFSET_OFFSET, 4);
            get.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, 8);   // 4 + 8 > 8 bytes of config
            assertEquals(0, fe.call(Request.GET_CONFIG, get).payload().byteSize(), "an empty payload is the spec's error answer");
            MemorySegment set = fe.bytes(Payloads.CONFIG_HEADER_SIZE + 4);
            set.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, 4);   // offset 0: read-only half
            assertEquals(1, fe.call(Request.SET_CONFIG, set).u64(), "refused write NACKs");
            set.set(ValueLayout.JAVA_INT, Payloads.CONFIG_OFFSET_OFFSET, 4);
            set.set(ValueLayout.JAVA_INT, Payloads.CONFIG_HEADER_SIZE, 0x55aa);
            assertEquals(0, fe.call(Request.SET_CONFIG, set).u64());
            assertEquals(0x55aa, device.configSpace().get(ValueLayout.JAVA_INT, 4));
            assertEquals(2, fe.call(Request.GET_QUEUE_NUM, null).u64(), "the session goes on");
        }
    }

    @Test
    void getVringBaseStopsTheRingAndARestartFromThatBaseContinues() throws Exception {
        try (DaemonSession s = new DaemonSession(sock, false, true)) {
            for (int i = 0; i < 5; i++) { s.postEcho(i, 16, (byte) i); s.awaitUsed(); }
            RawFrontendClient.Reply r = s.fe.call(Request.GET_VRING_BASE, s.fe.state(0, 0));
            assertEquals(0, r.payload().get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            assertEquals(5, r.payload().get(ValueLayout.JAVA_INT_UNALIGNED, 4), "next avail index after 5 requests");
            // the stopped ring ignores kicks
            s.split.desc(20, s.data, 16, DESC_F_WRITE, 0);
            s.split.publish(20);
            s.kick.signal();
            Thread.sleep(100);
            assertEquals(0, s.split.pendingUsed());
            // restart from base 5 with a new kick fd, as QEMU does; the pending chain is served
            try (EventFd kick2 = EventFd.create()) {
                s.fe.ok(Request.SET_VRING_BASE, s.fe.state(0, 5));
                s.fe.ok(Request.SET_VRING_KICK, s.fe.u64(0), kick2.fd());
                kick2.signal();
                int[] used = s.awaitUsed();
                assertEquals(10, used[0]);
            }
        }
    }

    @Test
    void theDaemonKeepsListeningAfterADisconnectAndANewSessionWorks() throws Exception {
        for (int session = 0; session < 3; session++) {
            try (DaemonSession s = new DaemonSession(sock, session % 2 == 1, true)) {
                s.postEcho(1, 32, (byte) 7);
                assertEquals(1, s.awaitUsed()[0]);
            }
        }
        long deadline = System.currentTimeMillis() + 5000;
        while (daemon.connected() && System.currentTimeMillis() < deadline) Thread.sleep(5);
        assertEquals(3, daemon.connectionsAccepted());
        assertTrue(device.resets >= 3, "each disconnect resets the device");
        assertTrue(daemon.listening());
    }

    @Test
    void memoryRegionsAddedAndRemovedAtRunTime() throws Exception {
        try (RawFrontendClient fe = new RawFrontendClient(sock); TestGuest g = new TestGuest(1 << 20);
             EventFd kick = EventFd.create(); EventFd call = EventFd.create()) {
            fe.handshake(~0L & ~VirtioFeature.bit(VirtioFeature.RING_PACKED), ~0L);
            TestGuest.Region second = g.addRegion(1L << 30, 1 << 20);
            fe.memRegion(Request.ADD_MEM_REG, g.regions().get(0), g.regions().get(0).fd());
            var drv = new org.vhostj.vhost.testing.TestSplitDriver(g, 16);
            fe.startRing(0, 16, 0, drv.descGpa, drv.availGpa, drv.usedGpa, kick.fd(), call.fd());
            // a buffer in the second region fails while that region is unknown
            drv.desc(0, second.gpa(), 64, DESC_F_WRITE, 0);
            drv.publish(0);
            kick.signal();
            drv.awaitUsed(1, 5000);
            assertArrayEquals(new int[] {0, 0}, drv.takeUsed());
            // after ADD_MEM_REG the same buffer works (echo of 0 readable bytes = 0, so check the device saw it)
            assertEquals(0, fe.memRegion(Request.ADD_MEM_REG, second, second.fd()).u64());
            int before = device.handledHeads.size();
            drv.publish(0);
            kick.signal();
            drv.awaitUsed(1, 5000);
            drv.takeUsed();
            assertEquals(before + 1, device.handledHeads.size(), "the chain reached the device once the region was added");
            assertEquals(0, fe.memRegion(Request.REM_MEM_REG, second, null).u64());
            assertEquals(1, fe.memRegion(Request.REM_MEM_REG, second, null).u64(), "removing it twice is refused");
            drv.publish(0);
            kick.signal();
            drv.awaitUsed(1, 5000);
            assertArrayEquals(new int[] {0, 0}, drv.takeUsed());
            assertEquals(before + 1, device.handledHeads.size(), "a buffer in a removed region never reaches the device");
        }
    }

    @Test
    void aResentMemTableKeepsMappingsOfTheSameFileAndDropsReplacedOnes() throws Exception {
        try (DaemonSession s = new DaemonSession(sock, false, true)) {
            s.postEcho(0, 8, (byte) 1);
            s.awaitUsed();
            MemorySegment before = device.lastRegion0;
            s.fe.setMemTable(s.guest);   // the same memfd again (QEMU re-sends the table on hotplug)
            s.postEcho(1, 8, (byte) 2);
            s.awaitUsed();
            assertTrue(before.scope().isAlive(), "the old mapping is still valid: it was reused");
            assertDoesNotThrow(() -> before.get(ValueLayout.JAVA_BYTE, 0));
            // a table naming a different file replaces the mapping; the old one is unmapped
            try (Fd copy = Memfd.create("copy", s.guest.regions().get(0).size())) {
                MemorySegment p = s.fe.bytes(Payloads.MEM_TABLE_HEADER_SIZE + Payloads.REGION_SIZE);
                p.set(ValueLayout.JAVA_INT, 0, 1);
                p.set(ValueLayout.JAVA_LONG, 8 + Payloads.REGION_SIZE_OFFSET, s.guest.regions().get(0).size());
                p.set(ValueLayout.JAVA_LONG, 8 + Payloads.REGION_FRONTEND_VA_OFFSET, TestGuest.VA_OFFSET);
                s.fe.ok(Request.SET_MEM_TABLE, p, copy.value());
            }
            assertFalse(before.scope().isAlive(), "a replaced region is unmapped once no worker uses it");
        }
    }

    @Test
    void inflightRequestsAreResubmittedToTheNextSession() throws Exception {
        device.deferred = true;
        Fd inflightFd;
        long mmapSize;
        try (DaemonSession s = new DaemonSession(sock, false, false)) {
            MemorySegment req = s.fe.bytes(Payloads.INFLIGHT_SIZE);
            req.set(ValueLayout.JAVA_SHORT, Payloads.INFLIGHT_NUM_QUEUES_OFFSET, (short) 1);
            req.set(ValueLayout.JAVA_SHORT, Payloads.INFLIGHT_QUEUE_SIZE_OFFSET, (short) DaemonSession.SIZE);
            // GET_INFLIGHT_FD comes before the rings start; restart ring 0 so it tracks in-flight heads
            s.fe.call(Request.GET_VRING_BASE, s.fe.state(0, 0));
            RawFrontendClient.Reply r = s.fe.call(Request.GET_INFLIGHT_FD, req);
            mmapSize = r.payload().get(ValueLayout.JAVA_LONG_UNALIGNED, Payloads.INFLIGHT_MMAP_SIZE_OFFSET);
            inflightFd = r.fds().take(0);
            MemorySegment set = java.lang.foreign.Arena.ofAuto().allocate(Payloads.INFLIGHT_SIZE, 8);
            MemorySegment.copy(r.payload(), 0, set, 0, Payloads.INFLIGHT_SIZE);
            s.fe.ok(Request.SET_INFLIGHT_FD, set, inflightFd.value());
            s.startRing(0, 0);
            for (int id = 0; id < 3; id++) s.postEcho(id, 16, (byte) id);
            long end = System.currentTimeMillis() + 5000;
            while (device.handledHeads.size() < 3 && System.currentTimeMillis() < end) Thread.sleep(2);
            assertEquals(3, device.handledHeads.size());
            // the session ends with three requests in flight that never completed (the stop timeout passes)
            s.fe.close();
            end = System.currentTimeMillis() + 5000;
            while (daemon.connected() && System.currentTimeMillis() < end) Thread.sleep(5);

            device.handledHeads.clear();
            device.deferred = false;
            try (RawFrontendClient fe2 = new RawFrontendClient(sock); EventFd kick = EventFd.create(); EventFd call = EventFd.create()) {
                fe2.handshake(VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES), ~0L);
                fe2.setMemTable(s.guest);
                fe2.ok(Request.SET_INFLIGHT_FD, set, inflightFd.value());
                fe2.startRing(0, DaemonSession.SIZE, 0, s.split.descGpa, s.split.availGpa, s.split.usedGpa, kick.fd(), call.fd());
                s.split.awaitUsed(3, 5000);
                assertEquals(EchoDevice.list(0, 2, 4), device.handledHeads, "the three heads, in the order they were made available");
            }
        } finally {
            device.deferred = false;
        }
        inflightFd.close();
        assertTrue(mmapSize >= org.vhostj.vhost.ring.SplitInflight.regionSize(DaemonSession.SIZE));
    }

    @Test
    void dirtyLogMarksTheUsedRingAndTheBytesTheDeviceWrote() throws Exception {
        try (DaemonSession s = new DaemonSession(sock, false, false); Fd logFd = Memfd.create("log", 4096)) {
            MemorySegment logBase = s.fe.bytes(Payloads.LOG_SIZE);
            logBase.set(ValueLayout.JAVA_LONG, Payloads.LOG_SIZE_OFFSET, 4096);   // 32768 pages = 128 MiB of guest
            RawFrontendClient.Reply r = s.fe.call(Request.SET_LOG_BASE, logBase, logFd.value());
            assertEquals(Request.SET_LOG_BASE.code, r.request());
            long features = s.fe.call(Request.GET_FEATURES, null).u64();
            s.fe.ok(Request.SET_FEATURES, s.fe.u64(VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)
                    | VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) | (features & VirtioFeature.bit(VirtioFeature.VHOST_F_LOG_ALL))));
            // tell the ring to log used writes at the used ring's GPA (QEMU re-sends the addresses with VRING_F_LOG)
            MemorySegment a = s.fe.bytes(Payloads.VRING_ADDR_SIZE);
            a.set(ValueLayout.JAVA_INT, Payloads.VRING_ADDR_FLAGS_OFFSET, Payloads.VRING_F_LOG);
            a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_DESC_OFFSET, s.split.descGpa + TestGuest.VA_OFFSET);
            a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_USED_OFFSET, s.split.usedGpa + TestGuest.VA_OFFSET);
            a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_AVAIL_OFFSET, s.split.availGpa + TestGuest.VA_OFFSET);
            a.set(ValueLayout.JAVA_LONG, Payloads.VRING_ADDR_LOG_OFFSET, s.split.usedGpa);
            s.fe.ok(Request.SET_VRING_ADDR, a);
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment log = Memfd.mapShared(logFd.value(), 0, 4096, false, arena);
                s.postEcho(3, 64, (byte) 9);
                s.awaitUsed();
                long outPage = (s.data + 8192L * 3 + 4096) >>> 12, inPage = (s.data + 8192L * 3) >>> 12, usedPage = s.split.usedGpa >>> 12;
                assertTrue(bit(log, outPage), "the page the device wrote is dirty");
                assertTrue(bit(log, usedPage), "the used ring page is dirty");
                assertFalse(bit(log, inPage), "a page the device only read is clean");
            }
        }
    }

    private static boolean bit(MemorySegment log, long page) {
        return (log.get(ValueLayout.JAVA_BYTE, page >>> 3) & (1 << (page & 7))) != 0;
    }

    @Test
    void aSocketFileThatIsNotASocketIsAClearError() throws Exception {
        Path notSocket = dir.resolve("plain-file");
        Files.writeString(notSocket, "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Daemon(new EchoDevice(1), DaemonOptions.forSocket(notSocket)).start());
        assertTrue(e.getMessage().contains("exists and is not a socket"), e.getMessage());
        IllegalArgumentException inUse = assertThrows(IllegalArgumentException.class,
                () -> new Daemon(new EchoDevice(1), DaemonOptions.forSocket(sock)).start());
        assertTrue(inUse.getMessage().contains("in use"), inUse.getMessage());
    }

    @Test
    void closeRemovesTheSocketFileAndClosesTheDevice() throws Exception {
        daemon.close();
        assertFalse(Files.exists(sock));
        assertEquals(1, device.closes);
        assertTrue(daemon.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS));
    }
}
