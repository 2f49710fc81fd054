package org.vhostj.harness.net;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.hostile.HostileSuite;
import org.vhostj.harness.hostile.NetProbe;
import org.vhostj.harness.load.NetRun;
import org.vhostj.harness.load.RunReport;

/**
 * The harness's hostile suite (malformed protocol messages and descriptor chains, each on a fresh
 * connection) against our net daemon as a separate process: it must stay alive, keep serving the attacked
 * queue and fresh connections, and forward frames afterwards.
 */
@Timeout(120)
class NetHostileTest {
    @TempDir Path tmp;

    @Test
    void daemonSurvivesTheHostileSuiteAndKeepsForwarding() throws Exception {
        Path sock = tmp.resolve("net.sock");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.vhostj.net.NetDaemon", "--socket", sock.toString(), "--backend", "reflect", "--log-level", "warn")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("daemon.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(sock)) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, () -> "daemon did not start: " + log());
                Thread.sleep(50);
            }
            var o = new VhostSession.Options(sock, 2000, 0, new RingConfig(64, false, 0), VhostSession.Toggle.AUTO,
                    1, 4 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
            var suite = new HostileSuite(NetProbe::new, o, p.pid(), 200, null);
            suite.run();
            System.out.println(suite.table("net"));
            assertTrue(suite.passed(), () -> suite.table("net") + "\n" + log());
            assertTrue(p.isAlive(), this::log);
            RunReport r = NetRun.run(new NetRun.Settings(o, 1, 64, 300, true, false, 5000, 0, null), null);
            assertTrue(r.passed() && r.ops(1) > 0, r::table);
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    private String log() {
        try { return Files.readString(tmp.resolve("daemon.log")); } catch (java.io.IOException e) { return e.toString(); }
    }
}
