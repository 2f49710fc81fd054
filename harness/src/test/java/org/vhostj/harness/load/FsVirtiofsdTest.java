package org.vhostj.harness.load;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.Virtiofsd;
import org.vhostj.vhost.testing.HostPackages;

/** The fs workloads against the C virtiofsd (one daemon per run: it exits when the front-end leaves). */
class FsVirtiofsdTest {
    @ParameterizedTest(name = "{0} packed=false bs={1}")
    @CsvSource({"METADATA,4096", "SEQWRITE,131072", "SEQREAD,131072", "RANDREAD,4096"})
    void workloadRunsVerifiesAndLeavesTheShareEmpty(FsJob.Workload workload, int bs) throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        try (Virtiofsd vfsd = Virtiofsd.start()) {
            var o = new VhostSession.Options(vfsd.socket, 5000, 0, new RingConfig(128, false, 0), VhostSession.Toggle.AUTO,
                    2, 32 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
            FsJob job = new FsJob(workload, bs, 8, 8 << 20, 700, true, 9);
            RunReport r = FsRun.run(new FsRun.Settings(o, job, false, 5000, vfsd.process.pid(), null), null);
            assertTrue(r.passed(), r::table);
            assertTrue(r.totalOps() > 50, r::table);
            assertTrue(r.verified() > 0, r::table);
            if (workload != FsJob.Workload.METADATA) assertTrue(r.totalBytes() > 0);
            try (Stream<?> left = Files.list(vfsd.shared)) {
                assertEquals(0, left.count(), "the work directory was removed");
            }
        }
    }
}
