package org.vhostj.harness.blk;

import static org.junit.jupiter.api.Assertions.*;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.blk.BlockDevice;
import org.vhostj.blk.DiskImage;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.hostile.BlkProbe;
import org.vhostj.harness.hostile.HostileSuite;
import org.vhostj.harness.load.BlkJob;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.harness.load.RunReport;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;

/**
 * The production virtio-blk device (BlockDevice on the daemon core) under the harness's blk workload with
 * --verify: split and packed rings, 1 and 4 queues, both I/O engines (an image on disk goes through
 * io_uring, one in tmpfs is served synchronously); and the hostile suite.
 */
class BlkDaemonHarnessTest {
    static final long IMAGE_BYTES = 32 << 20;
    @TempDir Path tmp;
    Daemon daemon;
    Path image, shmDir;

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) daemon.close();
        if (shmDir != null) {
            Files.deleteIfExists(shmDir.resolve("disk.img"));
            Files.deleteIfExists(shmDir);
        }
    }

    Path start(DiskImage.IoEngine engine, int queues) throws Exception {
        Path dir = tmp;
        if (engine == DiskImage.IoEngine.SYNC && Files.isDirectory(Path.of("/dev/shm"))) dir = shmDir = Files.createTempDirectory(Path.of("/dev/shm"), "vhostj-blk");
        image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) { f.setLength(IMAGE_BYTES); }
        Path sock = tmp.resolve("blk.sock");
        BlockDevice device = new BlockDevice(DiskImage.open(image, false, false), new BlockDevice.Options(queues, 256, "harness", engine));
        assertEquals(engine, device.engine());
        daemon = new Daemon(device, DaemonOptions.forSocket(sock));
        daemon.start();
        return sock;
    }

    static VhostSession.Options options(Path sock, boolean packed, int queues) {
        return new VhostSession.Options(sock, 5000, 0, new RingConfig(128, packed, 0), VhostSession.Toggle.AUTO,
                queues, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
    }

    @ParameterizedTest(name = "packed={0} queues={1} engine={2} rw={3}")
    @CsvSource({
        "false,1,URING,RANDRW", "false,4,URING,RANDRW", "true,1,URING,RANDRW", "true,4,URING,RANDRW",
        "false,1,SYNC,RANDRW", "false,4,SYNC,RANDRW", "true,1,SYNC,RANDRW", "true,4,SYNC,RANDRW",
        "false,2,URING,WRITE", "true,2,SYNC,READ"})
    void verifiedIoOnEveryRingLayoutAndQueueCount(boolean packed, int queues, DiskImage.IoEngine engine, BlkJob.Mode mode) throws Exception {
        Path sock = start(engine, queues);
        BlkJob job = new BlkJob(mode, 4096, 32, 50, true, IMAGE_BYTES, 700, 11);
        RunReport r = BlkRun.run(new BlkRun.Settings(options(sock, packed, queues), queues, job, false, 5000, 0, 0, null, null, null), null);
        assertTrue(r.passed(), r::table);
        assertTrue(r.totalOps() > 1000, r::table);
        assertEquals(0, r.mismatches(), r::table);
        assertEquals(0, r.errors(), r::table);
        assertEquals(0, r.lost(), r::table);
        assertEquals(0, r.usedLengthMismatches(), r::table);
        assertTrue(r.verified() > 100, r::table);
        assertEquals(0, daemon.queueMetrics(0).errors());
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void survivesTheHostileSuiteAndKeepsServing(boolean packed) throws Exception {
        Path sock = start(DiskImage.IoEngine.URING, 1);
        HostileSuite suite = new HostileSuite(BlkProbe::new, options(sock, packed, 1), ProcessHandle.current().pid(), 200, null);
        suite.run();
        assertTrue(suite.passed(), () -> suite.table("blk"));
        assertEquals(0, suite.results().stream().filter(a -> a.accepted()).count(), () -> "accepted invalid input:\n" + suite.table("blk"));
        assertEquals(0, suite.results().stream().filter(a -> Boolean.FALSE.equals(a.sameQueueServes())).count(),
                () -> "a bad chain stopped more than its own request:\n" + suite.table("blk"));
    }
}
