package org.vhostj.vhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vhostj.vhost.testing.DaemonProcess;
import org.vhostj.vhost.testing.HostPackages;

/** The sample units in deploy/systemd pass systemd's own checker without a warning. */
class SystemdUnitsTest {
    private static final Path UNITS = Path.of("..", "deploy", "systemd").toAbsolutePath().normalize();

    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"blk", "fs", "net"})
    void unitTemplatesVerifyClean(String device) throws Exception {
        Path analyze = HostPackages.require("systemd-analyze", "systemd");
        Path repo = UNITS.getParent().getParent();
        for (String kind : List.of("service", "socket")) {
            // an instance of the template, with ExecStart pointing at this checkout's launcher
            String unit = Files.readString(UNITS.resolve("vhost-user-" + device + "@." + kind)).replace("/opt/vhostj", repo.toString());
            Files.writeString(tmp.resolve("vhost-user-" + device + "@vm1." + kind), unit);
        }
        assertTrue(Files.isExecutable(repo.resolve("bin/vhost-user-" + device)));
        Path log = tmp.resolve("verify.log");
        int rc = DaemonProcess.run(List.of(analyze.toString(), "verify", tmp.resolve("vhost-user-" + device + "@vm1.service").toString()), log, 60);
        String out = Files.readString(log).strip();
        assertEquals(0, rc, out);
        assertEquals("", out, "systemd-analyze verify warnings");
    }
}
