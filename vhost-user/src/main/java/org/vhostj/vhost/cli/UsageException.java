package org.vhostj.vhost.cli;

/**
 * A command-line value that cannot work (a missing image, a shared dir that is a file): the daemon prints
 * one line naming the option and why, and exits with status 2.
 */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** {@code option} as the user typed it ("--image"), {@code why} what is wrong with its value. */
    public UsageException(String option, String why) {
        super(option + ": " + why);
    }
}
