package org.vhostj.harness.cli;

import java.util.function.Supplier;
import org.vhostj.harness.hostile.BlkProbe;
import org.vhostj.harness.hostile.DeviceProbe;
import org.vhostj.harness.hostile.FsProbe;
import org.vhostj.harness.hostile.HostileSuite;
import org.vhostj.harness.hostile.NetProbe;

/** Runs the --hostile mode of a device command and prints its report. */
final class HostileMode {
    private HostileMode() {}

    static int run(CommonOptions common, String device, String skip) {
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
