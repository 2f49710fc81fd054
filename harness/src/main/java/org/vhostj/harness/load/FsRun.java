package org.vhostj.harness.load;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.fuse.FuseClient;
import org.vhostj.harness.fuse.FuseException;
import org.vhostj.harness.fuse.FuseTypes;
import org.vhostj.sys.Fcntl;

/**
 * An fs run: FUSE_INIT, a fresh work directory under the share's root, the workload, then everything it
 * created is removed (UNLINK, RMDIR, FORGET). {@code metadata} cycles batches of files through CREATE,
 * RELEASE, READDIRPLUS, LOOKUP, GETATTR, UNLINK and FORGET one request at a time and reports each
 * opcode's rate and latency; {@code seqwrite}, {@code seqread} and {@code randread} keep {@code iodepth}
 * READs or WRITEs in flight on one file and report MB/s. Called on the command's thread.
 */
public final class FsRun {
    private FsRun() {}

    static final String[] META_KINDS = {"create", "release", "readdirplus", "lookup", "getattr", "unlink", "forget"};
    static final int CREATE = 0, RELEASE = 1, READDIRPLUS = 2, LOOKUP = 3, GETATTR = 4, UNLINK = 5, FORGET = 6;
    static final int META_BATCH = 16;

    public record Settings(VhostSession.Options session, FsJob job, boolean poll, long requestTimeoutMillis, long backendPid,
                           PrintStream progress) {}

    public static RunReport run(Settings s, LoadRun.Interruption interruption) throws Exception {
        FsJob job = s.job();
        int maxData = Math.max(job.blockBytes(), 1 << 20);
        try (VhostSession session = VhostSession.open(s.session()); FuseClient fc = FuseClient.start(session, maxData)) {
            FuseTypes.InitReply init = fc.init();
            String dirName = "vhost-harness-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime());
            FuseTypes.Entry dir = fc.mkdir(Fuse.ROOT_ID, dirName, 0755);
            QueueStats stats;
            double cpu0 = s.backendPid() > 0 ? BackendCpu.seconds(s.backendPid()) : -1;
            List<String> cleanupProblems = new ArrayList<>();
            try {
                stats = job.workload() == FsJob.Workload.METADATA
                        ? metadata(fc, dir.nodeid(), job, s.progress(), interruption)
                        : data(session, fc, dir.nodeid(), job, s, interruption);
            } finally {
                try {
                    fc.rmdir(Fuse.ROOT_ID, dirName);
                    fc.forget(dir.nodeid(), 1);
                } catch (FuseException e) {
                    cleanupProblems.add("cleanup: " + e.getMessage());
                }
            }
            double cpu1 = s.backendPid() > 0 ? BackendCpu.seconds(s.backendPid()) : -1;
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("socket", s.session().socket().toString());
            cfg.put("workload", job.workload().name().toLowerCase(Locale.ROOT));
            if (job.workload() != FsJob.Workload.METADATA) {
                cfg.put("bs", job.blockBytes());
                cfg.put("iodepth", job.iodepth());
                cfg.put("file_size", job.fileBytes());
                cfg.put("verify", job.verify());
            }
            cfg.put("fuse", init.major() + "." + init.minor());
            BlkRun.describeRings(cfg, session);
            String[] kinds = job.workload() == FsJob.Workload.METADATA ? META_KINDS : new String[] {"read", "write"};
            RunReport report = new RunReport("fs", cfg, kinds, List.of(stats), LoadRun.timedSeconds(List.of(stats)),
                    cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1);
            for (String p : cleanupProblems) report.problem(p);
            if (!cleanupProblems.isEmpty()) report.put("passed", false);
            if (interruption != null && interruption.interrupted()) report.problem("interrupted");
            return report;
        }
    }

    /** Batches of files through the metadata opcodes, one request at a time, until the runtime is over. */
    private static QueueStats metadata(FuseClient fc, long dir, FsJob job, PrintStream progress, LoadRun.Interruption intr) {
        QueueStats st = new QueueStats(FuseClient.REQUEST_QUEUE, META_KINDS.length);
        long start = System.nanoTime(), end = start + TimeUnit.MILLISECONDS.toNanos(job.runtimeMillis()), tick = start;
        long lastOps = 0;
        st.startTimed(start);
        long[] node = new long[META_BATCH];
        int[] lookups = new int[META_BATCH];
        long round = 0;
        while (System.nanoTime() < end && (intr == null || !intr.interrupted())) {
            Map<String, Integer> index = new HashMap<>();
            for (int i = 0; i < META_BATCH; i++) {
                String name = "m" + round + "-" + i;
                index.put(name, i);
                long t = System.nanoTime();
                FuseTypes.Created c = fc.create(dir, name, Fcntl.O_RDWR, 0644);
                t = timed(st, CREATE, t);
                fc.release(c.entry().nodeid(), c.fh());
                timed(st, RELEASE, t);
                node[i] = c.entry().nodeid();
                lookups[i] = 1;
            }
            long dh = fc.opendir(dir);
            long t = System.nanoTime();
            List<FuseTypes.DirEntryPlus> listed = fc.readdirplus(dir, dh, 0, 64 * 1024);
            timed(st, READDIRPLUS, t);
            fc.releasedir(dir, dh);
            int seen = 0;
            for (FuseTypes.DirEntryPlus e : listed) {
                Integer i = index.get(e.name());
                if (i == null) continue;
                seen++;
                if (e.entry().nodeid() != 0) lookups[i]++;   // READDIRPLUS entries count as lookups
            }
            if (seen != META_BATCH && st.mismatches++ < 5) st.problem("READDIRPLUS listed " + seen + " of the " + META_BATCH + " files just created");
            for (int i = 0; i < META_BATCH; i++) {
                String name = "m" + round + "-" + i;
                t = System.nanoTime();
                FuseTypes.Entry e = fc.lookup(dir, name);
                t = timed(st, LOOKUP, t);
                lookups[i]++;
                if (e.nodeid() != node[i] && st.mismatches++ < 5) st.problem("LOOKUP of " + name + " gave node " + e.nodeid() + ", CREATE gave " + node[i]);
                FuseTypes.Attr a = fc.getattr(e.nodeid());
                t = timed(st, GETATTR, t);
                if ((a.mode() & Fcntl.S_IFMT) != Fcntl.S_IFREG && st.mismatches++ < 5) st.problem(name + " is not a regular file: mode 0" + Integer.toOctalString(a.mode()));
                fc.unlink(dir, name);
                t = timed(st, UNLINK, t);
                fc.forget(node[i], lookups[i]);
                timed(st, FORGET, t);
            }
            round++;
            long now = System.nanoTime();
            if (progress != null && now - tick >= 1_000_000_000L) {
                long ops = st.ops.getPlain();
                progress.printf(Locale.ROOT, "[%4ds] %10.1f ops/s%n", TimeUnit.NANOSECONDS.toSeconds(now - start), (ops - lastOps) / ((now - tick) / 1e9));
                lastOps = ops;
                tick = now;
            }
        }
        st.verified = round * META_BATCH;
        return st;
    }

    private static long timed(QueueStats st, int kind, long startNanos) {
        long now = System.nanoTime();
        st.complete(kind, 0, now - startNanos, now);
        return now;
    }

    /** One data file, then iodepth READs or WRITEs in flight through a queue worker. */
    private static QueueStats data(VhostSession session, FuseClient fc, long dir, FsJob job, Settings s, LoadRun.Interruption intr)
            throws InterruptedException {
        QueueStats st = new QueueStats(FuseClient.REQUEST_QUEUE);
        String name = "data";
        FuseTypes.Created c = fc.create(dir, name, Fcntl.O_RDWR, 0644);
        long node = c.entry().nodeid(), fh = c.fh();
        boolean write = job.workload() == FsJob.Workload.SEQWRITE;
        try {
            if (!write) {
                // the file to read: written once with the pattern, not timed
                int chunk = Math.min(fc.maxWrite(), 1 << 20);
                for (long off = 0; off < job.fileBytes(); off += chunk) {
                    int n = (int) Math.min(chunk, job.fileBytes() - off);
                    int w = fc.write(node, fh, off, FilePattern.bytes(off, n));
                    if (w != n) throw new FuseException(Fuse.WRITE, 0, "short write while preparing the file: " + w + " of " + n);
                }
            }
            FsIoEngine engine = new FsIoEngine(job, session.ram(), fc.requestQueue().ring().size(), write, node, fh,
                    fc.reserveUniques(1L << 40), st);
            QueueWorker w = new QueueWorker(fc.requestQueue(), engine, st, s.poll(), s.requestTimeoutMillis());
            LoadRun.run(List.of(w), s.progress(), job.runtimeMillis() * 4 + 60_000, intr);
            if (write && job.verify() && st.lost == 0) {
                // read back what the run wrote (every offset written holds its pattern, whatever the lap)
                long written = Math.min(job.fileBytes(), st.bytesOf[FsIoEngine.WRITE]) / job.blockBytes() * job.blockBytes();
                int chunk = 1 << 20;
                for (long off = 0; off < written; off += chunk) {
                    int n = (int) Math.min(chunk, written - off);
                    byte[] got = fc.read(node, fh, off, n);
                    st.verified++;
                    long bad = got.length == n ? FilePattern.mismatch(java.lang.foreign.MemorySegment.ofArray(got), off, n) : 0;
                    if (bad >= 0 && st.mismatches++ < 10) st.problem("read-back at " + off + ": " + (got.length != n ? "short read of " + got.length : "differs at " + (off + bad)));
                }
            }
        } finally {
            fc.release(node, fh);
            fc.unlink(dir, name);
            fc.forget(node, 1);
        }
        return st;
    }
}
