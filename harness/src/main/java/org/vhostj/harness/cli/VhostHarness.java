package org.vhostj.harness.cli;

import org.vhostj.harness.frontend.FrontendException;
import org.vhostj.harness.load.RunReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code vhost-harness}: a vhost-user front-end and load generator that drives any backend (ours, QEMU's,
 * DPDK's, virtiofsd) without a VM. Exit status: 0 the run passed, 1 the backend did something wrong
 * (mismatch, error, lost request, violation), 2 the run could not be set up.
 */
@Command(name = "vhost-harness", mixinStandardHelpOptions = true, version = "vhost-harness 0.1",
        description = "Test and load-test vhost-user device backends without booting a VM.",
        subcommands = {BlkCommand.class, NetCommand.class, FsCommand.class})
public final class VhostHarness {
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new VhostHarness());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof FrontendException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
                cmd.getErr().println("vhost-harness: " + e.getMessage());
            } else {
                e.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        return cl.execute(args);
    }

    static void print(RunReport r, boolean json) {
        System.out.print(json ? r.json() + "\n" : r.table());
        System.out.flush();
    }
}
