package org.vhostj.harness.load;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.peers.Testpmd;
import org.vhostj.vhost.testing.HostPackages;

/** The net workload against DPDK testpmd's net_vhost port; our counts must equal testpmd's own. */
class NetTestpmdTest {
    @BeforeEach
    void slow() { HostPackages.assumeSlowTestsEnabled(); }

    @ParameterizedTest(name = "{0} packed={1} pairs={2}")
    @CsvSource({"io,false,1", "macswap,false,2", "io,true,1"})
    void framesGoOutAndComeBackIntactAndCountsMatchTestpmd(String mode, boolean packed, int pairs) throws Exception {
        try (Testpmd pmd = Testpmd.start(mode, pairs)) {
            var o = new VhostSession.Options(pmd.socket, 5000, 0, new RingConfig(256, packed, 0), VhostSession.Toggle.AUTO,
                    1, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
            RunReport r = NetRun.run(new NetRun.Settings(o, pairs, 64, 1000, true, false, 5000, pmd.process.pid(), null), null);
            Testpmd.Totals t = pmd.stopAndCount();
            assertTrue(r.passed(), r::table);
            assertEquals(0, r.mismatches(), "bad frames");
            assertTrue(r.ops(1) > 1000, r::table);
            assertEquals(t.rxPackets(), r.ops(0), "frames we sent = frames testpmd received");
            assertEquals(t.txPackets(), r.ops(1), "frames testpmd sent = frames we received");
            assertEquals(t.txDropped(), r.extra("drops"), "drops: testpmd's TX drops (our RX ring was full)");
            if (mode.equals("macswap")) assertEquals(r.ops(1), r.extra("macs_swapped"));
            else assertEquals(0L, r.extra("macs_swapped"));
        }
    }

    @org.junit.jupiter.api.Test
    void testpmdSurvivesTheHostileSuiteAndKeepsForwarding() throws Exception {
        try (Testpmd pmd = Testpmd.start("io", 1)) {
            var o = new VhostSession.Options(pmd.socket, 2000, 0, new RingConfig(64, false, 0), VhostSession.Toggle.AUTO,
                    1, 4 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
            var suite = new org.vhostj.harness.hostile.HostileSuite(org.vhostj.harness.hostile.NetProbe::new, o, pmd.process.pid(), 200, null);
            suite.run();
            assertTrue(suite.passed(), () -> suite.table("net"));
            assertTrue(suite.results().size() >= 35, () -> suite.table("net"));
            RunReport r = NetRun.run(new NetRun.Settings(o, 1, 64, 300, true, false, 5000, 0, null), null);
            assertTrue(r.passed() && r.ops(1) > 0, r::table);
        }
    }
}
