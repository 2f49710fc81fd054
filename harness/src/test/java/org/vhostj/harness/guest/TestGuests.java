package org.vhostj.harness.guest;

import java.io.IOException;
import org.vhostj.vhost.testing.HostPackages;

/** What every real-guest test class does first: skip if slow tests are off, install QEMU and friends, build the image once. */
public final class TestGuests {
    private TestGuests() {}

    /** The shared guest image ({@code withFio}: the one with fio), after making sure its host programs are installed. */
    public static GuestImage image(boolean withFio) throws IOException {
        HostPackages.assumeSlowTestsEnabled();
        for (HostProgram p : GuestImage.hostPrograms(withFio)) HostPackages.require(p.program(), p.debianPackage());
        return GuestImage.shared(withFio);
    }
}
