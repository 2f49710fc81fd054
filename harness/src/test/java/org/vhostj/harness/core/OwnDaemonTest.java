package org.vhostj.harness.core;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.harness.hostile.BlkProbe;
import org.vhostj.harness.hostile.HostileSuite;
import org.vhostj.harness.load.BlkJob;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.harness.load.RunReport;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;

/**
 * The harness's driver rings against the project's own daemon core (org.vhostj.vhost.daemon), written
 * independently of each other: a RAM-disk device driven by the real blk workload with --verify over split
 * and packed rings, EVENT_IDX on and off, direct and indirect chains, one and two queues; and the
 * hostile suite, which the core must survive while serving.
 */
class OwnDaemonTest {
    @TempDir
    Path tmp;
    Arena arena;
    Daemon daemon;
    Path socket;

    @BeforeEach
    void start() {
        arena = Arena.ofShared();
        socket = tmp.resolve("memdisk.sock");
        daemon = new Daemon(new MemDiskDevice(2, 8 << 20, arena), DaemonOptions.forSocket(socket));
        daemon.start();
    }

    @AfterEach
    void stop() {
        daemon.close();
        arena.close();
    }

    VhostSession.Options options(boolean packed, String eventIdx, int indirect) {
        return new VhostSession.Options(socket, 5000, 0, new RingConfig(packed ? 96 : 128, packed, indirect),
                VhostSession.Toggle.valueOf(eventIdx), 2, 8 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1} indirect={2} queues={3}")
    @CsvSource({
        "false,OFF,0,1", "false,ON,0,2", "false,ON,4,2", "false,OFF,4,1",
        "true,OFF,0,1", "true,ON,0,2", "true,ON,4,2", "true,OFF,4,1"})
    void verifiedRandomIoThroughOurCoreOnEveryRingLayout(boolean packed, String eventIdx, int indirect, int queues) throws Exception {
        BlkJob job = new BlkJob(BlkJob.Mode.RANDRW, 4096, 16, 50, true, 8 << 20, 400, 3);
        BlkRun.Settings s = new BlkRun.Settings(options(packed, eventIdx, indirect), queues, job, false, 5000, 0, 0, null, null, null);
        RunReport r = BlkRun.run(s, null);
        assertTrue(r.ops(0) > 100 && r.ops(1) > 100, r::table);
        assertTrue(r.verified() > 100, r::table);
        assertEquals(0, r.mismatches(), r::table);
        assertEquals(0, r.errors(), r::table);
        assertEquals(0, r.lost(), r::table);
        assertEquals(0, r.ringViolations(), r::table);
        assertEquals(0, r.missedNotifications(), r::table);
        if (!packed) {
            // packed: see the two disabled tests below (used WRITE flag, GET_VRING_BASE)
            assertEquals(0, r.usedLengthMismatches(), r::table);
            assertTrue(r.passed(), r::table);
        }
    }

    /** A few requests on a packed ring, then GET_VRING_BASE; returns {avail base, used-length mismatches}. */
    private int[] shortPackedRun(int requests) throws Exception {
        try (VhostSession s = VhostSession.open(options(true, "OFF", 0))) {
            BlkProbe p = new BlkProbe();
            VirtQueue q = p.start(s);
            int reserved = 0;
            for (int i = 0; i < requests; i++) {
                assertTrue(p.serves(q, 2000), "request " + i);
                if (!q.ring().usedLengthValid()) reserved++;
            }
            return new int[] {s.stopQueue(0) & 0xffff, reserved};
        }
    }

    /**
     * virtio 1.2 2.8.3: in a used descriptor VIRTQ_DESC_F_WRITE says whether the device wrote data, and
     * without it the used length is reserved and ignored by drivers (2.8.4). The core's PackedRing writes
     * used flags with AVAIL/USED only, so a read's length (and a write's status byte) is not reported.
     */
    @Test
    void packedUsedDescriptorsOfChainsTheDeviceWroteCarryTheWriteFlag() throws Exception {
        assertEquals(0, shortPackedRun(3)[1], "used descriptors without VIRTQ_DESC_F_WRITE");
    }

    /**
     * After 5 requests on a fresh packed ring the used wrap counter is still 1, so PackedRing.base() (used
     * position in bits 16-31, wrap counter in bit 31) is a negative int, which Connection.waitStopped reads
     * as "no base" and answers the stale SET_VRING_BASE value (slot 0) instead of slot 5.
     */
    @Test
    void packedGetVringBaseReportsTheRingPositionWhileTheUsedWrapCounterIsOne() throws Exception {
        // each probe request is a direct chain of 3 descriptors (header, data, status): 5 requests use 15 ring
        // slots, the wrap counter still 1; before the fix the answer was the stale SET_VRING_BASE value 0x8000
        assertEquals(15 | 0x8000, shortPackedRun(5)[0]);
    }

    @Test
    void busyPollingDriverAgainstOurCore() throws Exception {
        BlkJob job = new BlkJob(BlkJob.Mode.RANDWRITE, 4096, 32, 0, true, 8 << 20, 300, 5);
        RunReport r = BlkRun.run(new BlkRun.Settings(options(false, "AUTO", 0), 1, job, true, 5000, 0, 0, null, null, null), null);
        assertTrue(r.passed(), r::table);
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void ourCoreSurvivesTheHostileSuiteAndKeepsServing(boolean packed) {
        HostileSuite suite = new HostileSuite(BlkProbe::new, options(packed, "AUTO", 0), ProcessHandle.current().pid(), 200, null);
        suite.run();
        assertTrue(suite.passed(), () -> suite.table("blk"));
        assertTrue(suite.results().size() >= 35, () -> suite.table("blk"));
        assertEquals(0, suite.results().stream().filter(a -> a.accepted()).count(), () -> "our core accepted invalid input:\n" + suite.table("blk"));
        assertEquals(0, suite.results().stream().filter(a -> Boolean.FALSE.equals(a.sameQueueServes())).count(),
                () -> "a bad chain stopped more than its own request:\n" + suite.table("blk"));
    }
}
