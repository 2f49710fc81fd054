package org.vhostj.harness.fuse;

import org.vhostj.sys.Errno;

/**
 * A FUSE request failed: the server answered with an error ({@link #errno()} > 0), sent a malformed reply
 * ({@link #errno()} == 0), or did not answer in time. The message starts with the opcode's name.
 */
public final class FuseException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int opcode;
    private final int errno;

    public FuseException(int opcode, int errno, String detail) {
        super(FuseOpcodes.name(opcode) + ": " + (errno > 0 ? Errno.describe(errno) + (detail.isEmpty() ? "" : " (" + detail + ")") : detail));
        this.opcode = opcode;
        this.errno = errno;
    }

    public int opcode() { return opcode; }

    /** The errno the server answered with, or 0 for a protocol failure (bad reply, timeout). */
    public int errno() { return errno; }
}
