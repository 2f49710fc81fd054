package org.vhostj.harness.hostile;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.QemuStorageDaemon;
import org.vhostj.vhost.testing.HostPackages;

/** The hostile suite against qemu-storage-daemon (libvhost-user). */
class HostileQsdTest {
    static VhostSession.Options options(QemuStorageDaemon qsd) {
        return new VhostSession.Options(qsd.socket, 2000, 0, new RingConfig(64, false, 0), VhostSession.Toggle.AUTO, 1, 4 << 20,
                false, VhostSession.MemoryMode.AUTO, true, 0);
    }

    @Test
    void qemuStorageDaemonSurvivesEveryOtherAttackAndKeepsServing() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        try (QemuStorageDaemon qsd = QemuStorageDaemon.start(4 << 20, 1)) {
            HostileSuite suite = new HostileSuite(BlkProbe::new, options(qsd), qsd.process.pid(), 200, null)
                    .skip("ring 255");   // QEMU 7.2's libvhost-user does not check these ring indices: see below
            suite.run();
            assertTrue(suite.passed(), () -> suite.table("blk"));
            assertTrue(suite.results().size() >= 35, "every message and chain attack ran: " + suite.results().size());
            assertTrue(suite.results().stream().anyMatch(a -> a.outcome().startsWith("closed the connection")), "some attacks end the connection");
            assertTrue(suite.results().stream().anyMatch(a -> Boolean.TRUE.equals(a.sameQueueServes())), "some leave the queue serving");
            assertTrue(qsd.process.alive());
        }
    }

    /**
     * Ring index 255 on a one-queue device: QEMU 7.2's libvhost-user indexes its ring array with it unchecked
     * (SET_VRING_NUM writes out of bounds; GET_VRING_BASE hits the assertion {@code qidx < dev->max_queues} and
     * the daemon aborts). Whatever the installed version does, the suite's verdict must match the process's fate.
     */
    @ParameterizedTest
    @ValueSource(strings = {"SET_VRING_NUM for ring 255", "GET_VRING_BASE for ring 255"})
    void verdictMatchesWhetherTheBackendSurvivedAnOutOfRangeRingIndex(String attack) throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        try (QemuStorageDaemon qsd = QemuStorageDaemon.start(4 << 20, 1)) {
            HostileSuite suite = new HostileSuite(BlkProbe::new, options(qsd), qsd.process.pid(), 200, null)
                    .skip("^(?!" + java.util.regex.Pattern.quote(attack) + "$)");
            suite.run();
            assertEquals(1, suite.results().size());
            Thread.sleep(100);
            boolean survived = qsd.process.alive();
            assertEquals(survived, suite.passed(), () -> suite.table("blk"));
            if (!survived) assertTrue(suite.stoppedBecause().contains("process is gone"), suite.stoppedBecause());
        }
    }
}
