package org.vhostj.harness.load;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vhostj.harness.frontend.FrontendException;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;

/**
 * A net run: per queue pair (RX ring 2i, TX ring 2i+1) one worker transmits numbered frames for the run's
 * duration and receives what the backend sends back (a forwarder in io or macswap mode returns every
 * frame). Reports packets/s and bits/s each way, drops (sent minus received), frames that came back
 * damaged, reordered, or with rewritten MACs.
 */
public final class NetRun {
    private NetRun() {}

    /**
     * @param loopback the backend returns the frames it receives (io/macswap forwarders); without it,
     *                 receiving nothing is not a failure
     */
    public record Settings(VhostSession.Options session, int pairs, int frameBytes, long runtimeMillis, boolean loopback,
                           boolean poll, long requestTimeoutMillis, long backendPid, PrintStream progress) {
        public Settings {
            if (frameBytes < NetFrame.MIN_SIZE || frameBytes > 9000) throw new IllegalArgumentException("--pkt-size must be " + NetFrame.MIN_SIZE + "..9000: " + frameBytes);
            if (pairs <= 0) throw new IllegalArgumentException("queue pairs must be positive: " + pairs);
        }
    }

    public static RunReport run(Settings s, LoadRun.Interruption interruption) throws Exception {
        try (VhostSession session = VhostSession.open(s.session()); Arena arena = Arena.ofShared()) {
            if (session.backendQueueNum() >= 0 && session.backendQueueNum() < 2 * s.pairs()) {
                throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_QUEUE_NUM", s.pairs() + " queue pairs asked for, backend has "
                        + session.backendQueueNum() + " queues");
            }
            int hdr = NetTxEngine.headerBytes(session.ackedFeatures());
            boolean indirect = session.options().rings().indirect();
            List<QueueWorker> workers = new ArrayList<>();
            List<QueueStats> stats = new ArrayList<>();
            List<NetFlow> flows = new ArrayList<>();
            List<VirtQueue> txQueues = new ArrayList<>();
            List<QueueStats> txStats = new ArrayList<>();
            for (int p = 0; p < s.pairs(); p++) {
                VirtQueue rx = session.startQueue(2 * p);
                VirtQueue tx = session.startQueue(2 * p + 1);
                QueueStats st = new QueueStats(p);
                NetFlow flow = new NetFlow(p, s.frameBytes());
                RequestEngine rxe = new NetRxEngine(flow, session.ram(), rx.ring().size(), indirect, hdr, st, arena);
                RequestEngine txe = new NetTxEngine(flow, session.ram(), tx.ring().size(), indirect, hdr, s.runtimeMillis(), st);
                workers.add(new QueueWorker(List.of(rx, tx), List.of(rxe, txe), st, s.poll(), s.requestTimeoutMillis()));
                stats.add(st);
                flows.add(flow);
                txQueues.add(tx);
                txStats.add(st);
            }
            double cpu0 = s.backendPid() > 0 ? BackendCpu.seconds(s.backendPid()) : -1;
            LoadRun.run(workers, s.progress(), s.runtimeMillis() * 4 + 60_000, interruption);
            double cpu1 = s.backendPid() > 0 ? BackendCpu.seconds(s.backendPid()) : -1;

            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("socket", s.session().socket().toString());
            cfg.put("pkt_size", s.frameBytes());
            cfg.put("pairs", s.pairs());
            BlkRun.describeRings(cfg, session);
            double secs = LoadRun.timedSeconds(stats);
            RunReport report = new RunReport("net", cfg, new String[] {"tx", "rx"}, stats, secs, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1);
            long tx = report.ops(0), rx = report.ops(1);
            report.put("tx_pps", tx / secs).put("rx_pps", rx / secs)
                    .put("tx_bps", report.bytes(0) * 8 / secs).put("rx_bps", report.bytes(1) * 8 / secs)
                    .put("drops", Math.max(0, tx - rx))
                    .put("out_of_order", flows.stream().mapToLong(f -> f.outOfOrder).sum())
                    .put("macs_swapped", flows.stream().mapToLong(f -> f.macsSwapped).sum())
                    .put("macs_rewritten", flows.stream().mapToLong(f -> f.macsRewritten).sum())
                    .put("misrouted", flows.stream().mapToLong(f -> f.misrouted).sum());
            if (s.loopback() && rx == 0) {
                report.problem("no frame came back (is the backend forwarding? use --no-loopback for sinks)");
                report.put("passed", false);
            }
            BlkRun.checkVringBases(session, txQueues, txStats, report);
            if (interruption != null && interruption.interrupted()) report.problem("interrupted");
            return report;
        }
    }
}
