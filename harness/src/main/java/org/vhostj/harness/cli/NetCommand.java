package org.vhostj.harness.cli;

import java.util.concurrent.Callable;
import org.vhostj.harness.load.LoadRun;
import org.vhostj.harness.load.NetRun;
import org.vhostj.harness.load.RunReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "net", mixinStandardHelpOptions = true,
        description = "Drive a vhost-user-net backend: frames out on TX, back on RX; packets/s and bits/s each way, drops, bad frames.")
public final class NetCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--pkt-size", defaultValue = "64", description = "frame size in bytes, without FCS (default ${DEFAULT-VALUE})")
    int pktSize;

    @Option(names = {"--duration", "--runtime"}, defaultValue = "10", paramLabel = "S", description = "seconds of sending (default ${DEFAULT-VALUE})")
    double durationSeconds;

    @Option(names = "--queues", defaultValue = "1", description = "queue pairs (RX 2i, TX 2i+1), one worker each (default ${DEFAULT-VALUE})")
    int pairs;

    @Option(names = "--no-loopback", description = "the backend does not send frames back (a sink): receiving nothing is fine")
    boolean noLoopback;

    @Mixin HostileMode hostile;

    @Override
    public Integer call() throws Exception {
        if (hostile.requested()) return hostile.run(common, "net");
        NetRun.Settings s = new NetRun.Settings(common.sessionOptions(), pairs, pktSize, Math.round(durationSeconds * 1000), !noLoopback,
                common.poll, common.timeoutMillis, common.backendPid, common.quiet || common.json ? null : System.err);
        try (LoadRun.Interruption intr = new LoadRun.Interruption()) {
            RunReport r = NetRun.run(s, intr);
            VhostHarness.print(r, common.json);
            return r.passed() ? 0 : 1;
        }
    }
}
