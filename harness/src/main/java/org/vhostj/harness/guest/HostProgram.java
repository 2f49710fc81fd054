package org.vhostj.harness.guest;

/**
 * A program on the host that guest runs need, with the Debian package that provides it. Tests hand
 * these to {@code HostPackages.require(program, debianPackage)} so a fresh machine installs them;
 * this code only checks for them and never installs anything itself.
 */
public record HostProgram(String program, String debianPackage) {
    @Override
    public String toString() {
        return program + " (" + debianPackage + ")";
    }
}
