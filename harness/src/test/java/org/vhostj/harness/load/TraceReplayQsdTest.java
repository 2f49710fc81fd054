package org.vhostj.harness.load;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.QemuStorageDaemon;
import org.vhostj.vhost.testing.HostPackages;

/** A blk request stream recorded against one backend and replayed against another issues the same requests. */
class TraceReplayQsdTest {
    @TempDir
    Path tmp;

    static BlkRun.Settings settings(Path socket, long pid, int queues, Path trace, Path replay) {
        var o = new VhostSession.Options(socket, 5000, 0, new RingConfig(64, false, 0), VhostSession.Toggle.AUTO, 1, 8 << 20,
                false, VhostSession.MemoryMode.AUTO, true, 0);
        BlkJob job = new BlkJob(BlkJob.Mode.RANDRW, 4096, 8, 70, false, 8 << 20, 300, 11);
        return new BlkRun.Settings(o, queues, job, false, 5000, 0, pid, null, trace, replay);
    }

    record Req(int op, long sector, int len) {}

    static List<List<Req>> read(Path trace, int queues) throws Exception {
        List<List<Req>> all = new ArrayList<>();
        for (int q = 0; q < queues; q++) {
            List<Req> list = new ArrayList<>();
            try (RequestTrace.Reader r = new RequestTrace.Reader(trace, q, queues)) {
                while (r.next()) list.add(new Req(r.op(), r.sector(), r.lengthBytes()));
            }
            all.add(list);
        }
        return all;
    }

    @Test
    void recordedStreamReplaysIdenticallyAgainstAnotherBackend() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        Path trace = tmp.resolve("run.vht"), again = tmp.resolve("replay.vht");
        RunReport recorded;
        try (QemuStorageDaemon a = QemuStorageDaemon.start(8 << 20, 2)) {
            recorded = BlkRun.run(settings(a.socket, a.process.pid(), 2, trace, null), null);
        }
        assertTrue(recorded.passed(), recorded::table);
        assertTrue(Files.size(trace) > 0);
        assertEquals(Long.toString(recorded.totalOps()), RequestTrace.header(trace).get("records"));
        RunReport replayed;
        try (QemuStorageDaemon b = QemuStorageDaemon.start(8 << 20, 2)) {
            replayed = BlkRun.run(settings(b.socket, b.process.pid(), 2, again, trace), null);
        }
        assertTrue(replayed.passed(), replayed::table);
        assertEquals(recorded.ops(0), replayed.ops(0), "same reads");
        assertEquals(recorded.ops(1), replayed.ops(1), "same writes");
        assertEquals(read(trace, 2), read(again, 2), "the replay issued the recorded requests, queue by queue, in order");
    }
}
