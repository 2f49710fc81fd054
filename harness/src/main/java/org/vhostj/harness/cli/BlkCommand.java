package org.vhostj.harness.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.vhostj.harness.load.BlkJob;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.harness.load.LoadRun;
import org.vhostj.harness.load.RunReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "blk", mixinStandardHelpOptions = true, description = "Drive a vhost-user-blk backend: IOPS, MB/s, latency, --verify.")
public final class BlkCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--rw", defaultValue = "randread", description = "read, write, randread, randwrite or randrw (default ${DEFAULT-VALUE})")
    String rw;

    @Option(names = "--bs", defaultValue = "4k", converter = Sizes.class, description = "request size (default ${DEFAULT-VALUE})")
    long bs;

    @Option(names = "--iodepth", defaultValue = "32", description = "requests in flight per queue (default ${DEFAULT-VALUE})")
    int iodepth;

    @Option(names = "--queues", defaultValue = "1", description = "queues, one worker thread each (default ${DEFAULT-VALUE})")
    int queues;

    @Option(names = "--runtime", defaultValue = "10", paramLabel = "S", description = "seconds of timed load (default ${DEFAULT-VALUE}); fractions allowed")
    double runtimeSeconds;

    @Option(names = "--rwmixread", defaultValue = "50", description = "percentage of reads for randrw (default ${DEFAULT-VALUE})")
    int readPercent;

    @Option(names = "--verify", description = "write patterns and check them when read back; any mismatch fails the run")
    boolean verify;

    @Option(names = "--size", defaultValue = "4g", converter = Sizes.class, description = "working set from sector 0, clipped to the capacity (default ${DEFAULT-VALUE})")
    long size;

    @Option(names = "--seed", defaultValue = "1", description = "random seed")
    long seed;

    @Option(names = "--trace", paramLabel = "FILE", description = "record the request stream (LZ4) for --replay")
    Path trace;

    @Option(names = "--replay", paramLabel = "FILE", description = "issue a recorded request stream instead of generating one")
    Path replay;

    @Mixin HostileMode hostile;

    @Override
    public Integer call() throws Exception {
        if (hostile.requested()) return hostile.run(common, "blk");
        BlkJob.Mode mode = BlkJob.Mode.valueOf(rw.toUpperCase());
        BlkJob job = new BlkJob(mode, Math.toIntExact(bs), iodepth, readPercent, verify, size, Math.round(runtimeSeconds * 1000), seed);
        BlkRun.Settings s = new BlkRun.Settings(common.sessionOptions(), queues, job, common.poll, common.timeoutMillis, size,
                common.backendPid, common.quiet || common.json ? null : System.err, trace, replay);
        try (LoadRun.Interruption intr = new LoadRun.Interruption()) {
            RunReport r = BlkRun.run(s, intr);
            VhostHarness.print(r, common.json);
            return r.passed() ? 0 : 1;
        }
    }
}
