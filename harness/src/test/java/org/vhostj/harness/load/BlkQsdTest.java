package org.vhostj.harness.load;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.harness.cli.VhostHarness;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.QemuStorageDaemon;
import org.vhostj.vhost.testing.HostPackages;

/** The blk workload against qemu-storage-daemon's vhost-user-blk export (one daemon for the class). */
class BlkQsdTest {
    static QemuStorageDaemon qsd;

    @BeforeAll
    static void start() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        qsd = QemuStorageDaemon.start(32 << 20, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        if (qsd != null) qsd.close();
    }

    static BlkRun.Settings settings(BlkJob.Mode mode, int queues, boolean verify, int regions, int indirect) {
        var o = new VhostSession.Options(qsd.socket, 5000, 0, new RingConfig(128, false, indirect), VhostSession.Toggle.AUTO,
                regions, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
        BlkJob job = new BlkJob(mode, 4096, 16, 50, verify, 32 << 20, 1000, 7);
        return new BlkRun.Settings(o, queues, job, false, 5000, 0, qsd.process.pid(), null, null, null);
    }

    @ParameterizedTest(name = "{0} queues={1}")
    @CsvSource({"RANDREAD,1", "RANDWRITE,1", "RANDREAD,2", "RANDWRITE,2"})
    void verifiedRandomIoAgainstQemuStorageDaemonHasNoMismatch(BlkJob.Mode mode, int queues) throws Exception {
        RunReport r = BlkRun.run(settings(mode, queues, true, queues, 0), null);
        assertTrue(r.passed(), r::table);
        assertEquals(0, r.mismatches());
        assertTrue(r.totalOps() > 100, r::table);
        assertTrue(r.verified() > 100, "reads were checked: " + r.table());
        assertTrue(qsd.process.alive());
    }

    @Test
    void mixedIoThroughIndirectTablesAndSeveralRegionsVerifies() throws Exception {
        RunReport r = BlkRun.run(settings(BlkJob.Mode.RANDRW, 2, true, 3, 4), null);
        assertTrue(r.passed(), r::table);
        assertTrue(r.ops(0) > 0 && r.ops(1) > 0, r::table);
    }

    /** The check is real: blocks rewritten behind the backend's back during the run are reported. */
    @Test
    void corruptionBehindTheBackendIsReportedAsMismatch() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread vandal = new Thread(() -> {
            byte[] junk = new byte[4096];
            java.util.Arrays.fill(junk, (byte) 0x5a);
            try (RandomAccessFile f = new RandomAccessFile(qsd.image.toFile(), "rw")) {
                while (!stop.get()) {
                    for (long b = 0; b < 64; b++) {
                        f.seek(b * 4096);
                        f.write(junk);
                    }
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        BlkRun.Settings s = settings(BlkJob.Mode.RANDRW, 1, true, 1, 0);
        s = new BlkRun.Settings(s.session(), 1, new BlkJob(BlkJob.Mode.RANDRW, 4096, 4, 50, true, 64 * 4096, 1000, 3),
                false, 5000, 0, 0, null, null, null);
        vandal.start();
        RunReport r;
        try {
            r = BlkRun.run(s, null);
        } finally {
            stop.set(true);
            vandal.join();
        }
        assertTrue(r.mismatches() > 0, r::table);
        assertFalse(r.passed());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("should hold generation")), r::table);
    }

    @Test
    void commandLineRunPrintsJsonAndExitsZero() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            rc = VhostHarness.execute("blk", "--socket", qsd.socket.toString(), "--rw", "randwrite", "--verify", "--runtime", "0.5",
                    "--queues", "2", "--json", "--backend-pid", Long.toString(qsd.process.pid()));
        } finally {
            System.setOut(old);
        }
        String json = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, json);
        assertTrue(json.startsWith("{\"device\":\"blk\""), json);
        assertTrue(json.contains("\"passed\":true"), json);
        assertTrue(json.contains("\"backend_cpu_s\":"), json);
    }

    @Test
    void missingBackendIsASetupErrorNotAHang() {
        long t0 = System.nanoTime();
        int rc = VhostHarness.execute("blk", "--socket", Path.of(qsd.dir.toString(), "nope.sock").toString(), "--timeout", "300", "-q");
        assertEquals(2, rc);
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
    }
}
