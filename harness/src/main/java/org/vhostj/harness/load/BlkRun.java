package org.vhostj.harness.load;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vhostj.blk.VirtioBlk;
import org.vhostj.harness.frontend.FrontendException;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.vhost.protocol.VirtioFeature;

/**
 * A blk run from start to report: session, one worker per queue with a {@link BlkEngine}, backend CPU, and
 * at the end GET_VRING_BASE on every ring, checked against what the harness published. Called on the
 * command's thread.
 */
public final class BlkRun {
    private BlkRun() {}

    /** virtio_blk_config up to write_zeroes_may_unmap: what QEMU 7.2's export answers (it refuses larger reads). */
    public static final int CONFIG_READ_BYTES = 60;

    /** Device features the harness's blk driver understands. */
    static final long DEVICE_FEATURES = VirtioFeature.bit(VirtioBlk.F_SIZE_MAX) | VirtioFeature.bit(VirtioBlk.F_SEG_MAX)
            | VirtioFeature.bit(VirtioBlk.F_BLK_SIZE) | VirtioFeature.bit(VirtioBlk.F_FLUSH) | VirtioFeature.bit(VirtioBlk.F_TOPOLOGY)
            | VirtioFeature.bit(VirtioBlk.F_MQ) | VirtioFeature.bit(VirtioBlk.F_RO);

    /**
     * @param sizeBytes  capacity to assume when the backend has no config space (0: require config)
     * @param backendPid backend process for CPU accounting, or 0
     * @param progress   where progress lines go, or null
     * @param traceOut   record the request stream here, or null
     * @param replay     issue this recorded stream instead of generating requests, or null
     */
    public record Settings(VhostSession.Options session, int queues, BlkJob job, boolean poll, long requestTimeoutMillis,
                           long sizeBytes, long backendPid, PrintStream progress, Path traceOut, Path replay) {}

    public static VhostSession.Options sessionOptions(VhostSession.Options o) {
        return new VhostSession.Options(o.socket(), o.timeoutMillis(), DEVICE_FEATURES, o.rings(), o.eventIdx(), o.regions(),
                o.regionBytes(), o.adjacentRegions(), o.memoryMode(), o.replyAck(), CONFIG_READ_BYTES);
    }

    public static RunReport run(Settings s, LoadRun.Interruption interruption) throws Exception {
        try (VhostSession session = VhostSession.open(sessionOptions(s.session()))) {
            byte[] config = session.config();
            long capacitySectors;
            if (config.length >= 8) {
                capacitySectors = ByteBuffer.wrap(config).order(ByteOrder.LITTLE_ENDIAN).getLong(VirtioBlk.CONFIG_CAPACITY_OFFSET);
            } else if (s.sizeBytes() > 0) {
                capacitySectors = s.sizeBytes() / VirtioBlk.SECTOR_SIZE;
            } else {
                throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_CONFIG", "backend has no config space; give --size");
            }
            if (VirtioFeature.has(session.ackedFeatures(), VirtioBlk.F_RO) && (s.job().rw().writes() || s.job().verify() || s.replay() != null)) {
                throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_FEATURES", "backend exports a read-only disk (VIRTIO_BLK_F_RO)");
            }
            if (s.queues() > 1 && session.backendQueueNum() >= 0 && session.backendQueueNum() < s.queues()) {
                throw new FrontendException(FrontendException.Kind.UNSUPPORTED, "GET_QUEUE_NUM", s.queues() + " queues asked for, backend has " + session.backendQueueNum());
            }

            List<VirtQueue> queues = new ArrayList<>();
            List<QueueWorker> workers = new ArrayList<>();
            List<QueueStats> stats = new ArrayList<>();
            List<RequestTrace.Writer> traces = new ArrayList<>();
            List<RequestTrace.Reader> replays = new ArrayList<>();
            try {
                for (int q = 0; q < s.queues(); q++) {
                    VirtQueue vq = session.startQueue(q);
                    queues.add(vq);
                    QueueStats st = new QueueStats(q);
                    RequestTrace.Writer tw = null;
                    if (s.traceOut() != null) {
                        Path dir = s.traceOut().toAbsolutePath().getParent();
                        tw = new RequestTrace.Writer(dir.resolve(s.traceOut().getFileName() + ".part" + q));
                        traces.add(tw);
                    }
                    RequestTrace.Reader rd = null;
                    if (s.replay() != null) {
                        rd = new RequestTrace.Reader(s.replay(), q, s.queues());
                        replays.add(rd);
                    }
                    BlkEngine engine = new BlkEngine(s.job(), session.ram(), q, s.queues(), vq.ring().size(),
                            session.options().rings().indirect(), capacitySectors, st, tw, rd);
                    workers.add(new QueueWorker(vq, engine, st, s.poll(), s.requestTimeoutMillis()));
                    stats.add(st);
                }
                double cpu0 = s.backendPid() > 0 ? BackendCpu.seconds(s.backendPid()) : -1;
                long deadline = s.replay() != null ? 0 : s.job().runtimeMillis() * 4 + 60_000;
                LoadRun.run(workers, s.progress(), deadline, interruption);
                double cpu1 = s.backendPid() > 0 ? BackendCpu.seconds(s.backendPid()) : -1;

                Map<String, Object> cfg = new LinkedHashMap<>();
                cfg.put("socket", s.session().socket().toString());
                cfg.put("rw", s.replay() != null ? "replay " + s.replay() : s.job().rw().name().toLowerCase());
                cfg.put("bs", s.job().blockBytes());
                cfg.put("iodepth", s.job().iodepth());
                cfg.put("queues", s.queues());
                describeRings(cfg, session);
                cfg.put("verify", s.job().verify());
                cfg.put("capacity_bytes", capacitySectors * VirtioBlk.SECTOR_SIZE);
                RunReport report = new RunReport("blk", cfg, new String[] {"read", "write"}, stats, LoadRun.timedSeconds(stats),
                        cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1);
                checkVringBases(session, queues, stats, report);
                if (interruption != null && interruption.interrupted()) report.problem("interrupted");
                if (s.traceOut() != null) {
                    Map<String, String> header = new LinkedHashMap<>();
                    header.put("device", "blk");
                    header.put("queues", Integer.toString(s.queues()));
                    header.put("rw", s.job().rw().name().toLowerCase());
                    header.put("bs", Integer.toString(s.job().blockBytes()));
                    RequestTrace.merge(traces, s.traceOut(), header);
                    report.put("trace", s.traceOut().toString());
                }
                return report;
            } finally {
                for (RequestTrace.Reader r : replays) r.close();
            }
        }
    }

    private static String describeBase(int base, boolean packed) {
        if (!packed) return Integer.toUnsignedString(base);
        String s = "slot " + (base & 0x7fff) + " wrap " + ((base >>> 15) & 1);
        return (base >>> 16) != 0 ? s + " (used slot " + ((base >>> 16) & 0x7fff) + " wrap " + (base >>> 31) + ")" : s;
    }

    /** Ring layout facts for a report's config line. */
    public static void describeRings(Map<String, Object> cfg, VhostSession session) {
        cfg.put("ring", session.packed() ? "packed" : "split");
        cfg.put("queue_size", session.options().rings().queueSize());
        cfg.put("event_idx", session.eventIdx());
        cfg.put("indirect", session.options().rings().indirect());
        cfg.put("regions", session.ram().regionCount());
    }

    /**
     * GET_VRING_BASE on each ring: once every request completed, the backend's next available index must be
     * exactly what the harness published (it consumed everything and nothing else).
     */
    public static void checkVringBases(VhostSession session, List<VirtQueue> queues, List<QueueStats> stats, RunReport report) {
        for (int i = 0; i < queues.size(); i++) {
            VirtQueue q = queues.get(i);
            int expected = q.ring().vringBase();
            int got;
            try {
                got = session.stopQueue(q.index());
            } catch (FrontendException e) {
                report.problem("queue " + q.index() + ": " + e.getMessage());
                report.put("passed", false);
                continue;
            }
            if (stats.get(i).lost != 0 || stats.get(i).aborted != null) continue;
            // packed: bits 0-15 the next available slot and wrap counter; QEMU and vhost also put the used
            // slot and wrap counter in bits 16-31 (DPDK leaves them 0)
            int avail = session.packed() ? got & 0xffff : got;
            int used = got >>> 16;
            if (avail != expected) {
                report.problem("queue " + q.index() + ": GET_VRING_BASE returned " + describeBase(got, session.packed())
                        + ", the harness published up to " + describeBase(expected, session.packed()));
                report.put("passed", false);
            } else if (session.packed() && used != 0 && used != q.ring().usedBase()) {
                report.problem("queue " + q.index() + ": GET_VRING_BASE says the used ring is at " + describeBase(used, true)
                        + ", the harness consumed it to " + describeBase(q.ring().usedBase(), true));
                report.put("passed", false);
            }
        }
    }
}
