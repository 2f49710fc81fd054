package org.vhostj.harness.cli;

/** Runs the --hostile mode for a device command (filled in with the hostile suite). */
final class HostileCommandSupport {
    private HostileCommandSupport() {}

    static int run(CommonOptions common, String device) {
        throw new IllegalStateException("--hostile is not implemented yet for " + device);
    }
}
