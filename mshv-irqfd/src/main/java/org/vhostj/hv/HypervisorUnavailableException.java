package org.vhostj.hv;

/** No usable hypervisor device: none exists, the one asked for is absent, or it cannot be opened. */
public final class HypervisorUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HypervisorUnavailableException(String message) { super(message); }

    public HypervisorUnavailableException(String message, Throwable cause) { super(message, cause); }
}
