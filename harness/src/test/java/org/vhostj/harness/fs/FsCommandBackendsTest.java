package org.vhostj.harness.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.harness.cli.VhostHarness;
import org.vhostj.harness.fs.FsBackend.Kind;
import org.vhostj.harness.peers.TempDirs;
import org.vhostj.vhost.testing.HostPackages;

/**
 * The harness's {@code fs} command, unchanged, against both backends: every workload with --verify passes
 * (exit 0) and leaves the share empty. One backend process per run (virtiofsd serves one connection).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FsCommandBackendsTest {
    @ParameterizedTest(name = "{0} {1} thread pool {2}")
    @CsvSource({
        "VIRTIOFSD,metadata,0", "VIRTIOFSD,seqwrite,0", "VIRTIOFSD,seqread,0", "VIRTIOFSD,randread,0",
        "OURS,metadata,0", "OURS,seqwrite,0", "OURS,seqread,0", "OURS,randread,0",
        "OURS,metadata,4", "OURS,seqwrite,4", "OURS,randread,4"})
    void fsCommandWorkloadPassesAndLeavesTheShareEmpty(Kind kind, String workload, int threads) throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        Path run = FsBackend.tempRoot("cmd");
        try {
            Path shared = Files.createDirectory(run.resolve("shared"));
            try (FsBackend b = FsBackend.start(kind, shared, run, "threads=" + threads)) {
                String bs = workload.equals("randread") || workload.equals("metadata") ? "4k" : "128k";
                int rc = VhostHarness.execute("fs", "--socket", b.socket.toString(), "--workload", workload, "--bs", bs, "--iodepth", "8",
                        "--file-size", "8m", "--runtime", "0.7", "--verify", "--queue-size", "128", "--region-size", "32m", "-q",
                        "--backend-pid", Long.toString(b.process.pid()));
                assertEquals(0, rc, kind + " " + workload + ": the fs command failed; backend log:\n" + b.process.logTail(20));
                if (kind.ours()) assertTrue(b.alive(), "ours exited after the run (virtiofsd exits when its one connection ends)");
            }
            try (Stream<Path> left = Files.list(shared)) {
                assertEquals(0, left.count(), "the work directory was removed");
            }
        } finally {
            TempDirs.delete(run);
        }
    }

    /** --hostile (malformed vhost-user messages and chains, a fresh connection each): ours survives and serves. */
    @ParameterizedTest(name = "thread pool {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 4})
    void fsHostileModeAgainstOurs(int threads) throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        Path run = FsBackend.tempRoot("hostile");
        try (FsBackend b = FsBackend.start(Kind.OURS, Files.createDirectory(run.resolve("shared")), run, "threads=" + threads)) {
            int rc = VhostHarness.execute("fs", "--socket", b.socket.toString(), "--hostile", "--timeout", "2000", "-q",
                    "--backend-pid", Long.toString(b.process.pid()));
            assertEquals(0, rc, "hostile mode found a problem; backend log:\n" + b.process.logTail(30));
            assertTrue(b.alive());
        } finally {
            TempDirs.delete(run);
        }
    }
}
