package org.vhostj.harness.cli;

import java.util.function.Supplier;
import picocli.CommandLine.Option;
import org.vhostj.harness.hostile.BlkProbe;
import org.vhostj.harness.hostile.DeviceProbe;
import org.vhostj.harness.hostile.FsProbe;
import org.vhostj.harness.hostile.HostileSuite;
import org.vhostj.harness.hostile.NetProbe;

/** The --hostile mode every device command offers (a picocli mixin): its options, and the run that prints its report. */
final class HostileMode {
    @Option(names = "--hostile", description = "send malformed messages and descriptor chains; report whether the backend survives and still serves")
    boolean hostile;

    @Option(names = "--skip", paramLabel = "REGEX", description = "with --hostile: leave out attacks whose name matches")
    String skip;

    /** Whether the user asked for the hostile suite instead of a workload. */
    boolean requested() { return hostile; }

    int run(CommonOptions common, String device) {
        Supplier<DeviceProbe> probes = switch (device) {
            case "blk" -> BlkProbe::new;
            case "net" -> NetProbe::new;
            case "fs" -> FsProbe::new;
            default -> throw new IllegalArgumentException("no hostile probe for " + device);
        };
        long wait = Math.min(common.timeoutMillis, 1000);
        HostileSuite suite = new HostileSuite(probes, common.sessionOptions(), common.backendPid, wait,
                common.quiet || common.json ? null : System.err).skip(skip);
        suite.run();
        System.out.print(common.json ? suite.json(device) + "\n" : suite.table(device));
        System.out.flush();
        return suite.passed() ? 0 : 1;
    }
}
