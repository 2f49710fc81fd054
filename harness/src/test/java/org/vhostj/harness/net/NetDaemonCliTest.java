package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vhostj.net.NetDaemon;
import org.vhostj.vhost.cli.DaemonCommand;

/** {@code vhost-user-net} refuses options that cannot work with exit status 2 before it opens anything. */
class NetDaemonCliTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"--backend foo", "--backend tap:", "--backend tap:name-longer-than-15", "--backend switch:bad/name",
            "--backend udp:127.0.0.1:1", "--backend udp:127.0.0.1:x,127.0.0.1:2", "--backend source:5",
            "--backend reflect --mac 01:00:5e:00:00:01", "--backend reflect --mac 12:34", "--backend reflect --num-queue-pairs 0",
            "--backend reflect --mtu 20", "--backend reflect --mtu 70000"})
    void badOptionsExitWithUsageError(String options) {
        String[] args = (("--socket " + tmp.resolve("net.sock") + " ") + options).split(" ");
        assertEquals(DaemonCommand.EXIT_USAGE, DaemonCommand.execute(new NetDaemon(), args), options);
    }
}
