package org.vhostj.hv.kvm;

/** KVM_RUN did not return by its deadline and was ended by the watchdog; the vcpu stays usable. */
public final class VcpuTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VcpuTimeoutException(String message) { super(message); }
}
