package org.vhostj.harness.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.vhostj.harness.load.FsJob;
import org.vhostj.harness.load.FsRun;
import org.vhostj.harness.load.LoadRun;
import org.vhostj.harness.load.RunReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "fs", mixinStandardHelpOptions = true,
        description = "Drive a vhost-user-fs backend with FUSE over the virtio-fs queues: ops/s and MB/s in a fresh work directory.")
public final class FsCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--workload", defaultValue = "metadata", description = "metadata, seqread, seqwrite or randread (default ${DEFAULT-VALUE})")
    String workload;

    @Option(names = "--bs", defaultValue = "128k", converter = Sizes.class, description = "READ/WRITE size (default ${DEFAULT-VALUE})")
    long bs;

    @Option(names = "--iodepth", defaultValue = "8", description = "READs/WRITEs in flight (default ${DEFAULT-VALUE})")
    int iodepth;

    @Option(names = "--file-size", defaultValue = "64m", converter = Sizes.class, description = "size of the data file (default ${DEFAULT-VALUE})")
    long fileSize;

    @Option(names = "--runtime", defaultValue = "10", paramLabel = "S", description = "seconds of timed load (default ${DEFAULT-VALUE})")
    double runtimeSeconds;

    @Option(names = "--verify", description = "check read data (and written data, read back at the end) against the pattern")
    boolean verify;

    @Option(names = "--seed", defaultValue = "1", description = "random seed")
    long seed;

    @Mixin HostileMode hostile;

    @Override
    public Integer call() throws Exception {
        if (hostile.requested()) return hostile.run(common, "fs");
        FsJob job = new FsJob(FsJob.Workload.valueOf(workload.toUpperCase(Locale.ROOT)), Math.toIntExact(bs), iodepth, fileSize,
                Math.round(runtimeSeconds * 1000), verify, seed);
        FsRun.Settings s = new FsRun.Settings(common.sessionOptions(), job, common.poll, common.timeoutMillis, common.backendPid,
                common.quiet || common.json ? null : System.err);
        try (LoadRun.Interruption intr = new LoadRun.Interruption()) {
            RunReport r = FsRun.run(s, intr);
            VhostHarness.print(r, common.json);
            return r.passed() ? 0 : 1;
        }
    }
}
