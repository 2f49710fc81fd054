package org.vhostj.harness.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.blk.VirtioBlk;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.harness.load.BlkJob;
import org.vhostj.harness.load.BlkRun;
import org.vhostj.harness.load.BlockPattern;
import org.vhostj.harness.load.RunReport;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.RingArea;
import org.vhostj.vhost.testing.DaemonProcess;
import org.vhostj.vhost.testing.HostPackages;

/**
 * The blk daemon operated as an operator would: SIGTERM in the middle of a write load loses no write the
 * front-end saw acknowledged, the metrics agree with the front-end's own counts, and a daemon killed with
 * SIGKILL and restarted reports healthy again.
 */
class BlkDaemonOperationsTest {
    private static final String MAIN = "org.vhostj.blk.BlkDaemon";
    private static final int BLOCK = 4096, BLOCKS = 2048, DEPTH = 16;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir Path tmp;
    Path image;

    @BeforeEach
    void image() throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        image = tmp.resolve("disk.img");
        try (var f = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.allocate(1), (long) BLOCK * BLOCKS - 1);
        }
    }

    private DaemonProcess daemon(Path sock, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--socket-path", sock.toString(), "--image", image.toString()));
        args.addAll(List.of(extra));
        DaemonProcess d = DaemonProcess.start(DaemonProcess.javaCommand(MAIN, args), Map.of(), tmp.resolve("daemon-" + System.nanoTime() + ".log"));
        d.awaitSocket(sock, Duration.ofSeconds(20));
        return d;
    }

    private static VhostSession.Options options(Path sock) {
        return BlkRun.sessionOptions(new VhostSession.Options(sock, 5000, 0, new RingConfig(64, false, 0), VhostSession.Toggle.AUTO,
                1, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0));
    }

    @Test
    void sigtermDuringWritesLosesNoAcknowledgedWrite() throws Exception {
        Path sock = tmp.resolve("blk.sock"), pidfile = tmp.resolve("blk.pid");
        Map<Long, Integer> acknowledged = new HashMap<>();   // block -> generation the daemon acknowledged last
        int[] statusErrors = {0};
        int submitted;
        try (DaemonProcess d = daemon(sock, "--pidfile", pidfile.toString())) {
            try (VhostSession s = VhostSession.open(options(sock)); VirtQueue q = s.startQueue(0)) {
                Requests r = new Requests(s, q);
                long signalAt = System.nanoTime() + 700_000_000L, deadline = signalAt + 10_000_000_000L;
                boolean signalled = false;
                int next = 0;
                while (System.nanoTime() < deadline) {
                    if (!signalled && System.nanoTime() > signalAt) {
                        d.signal("TERM");
                        signalled = true;
                    }
                    // keep DEPTH writes in flight, each to a block no other in-flight write touches
                    while (r.inFlight() < DEPTH && (!signalled || d.process.isAlive())) {
                        long block = (next * 7L) % BLOCKS;
                        if (r.busy(block)) { next++; continue; }
                        if (!r.write(block, ++r.generation[(int) block])) break;
                        next++;
                    }
                    int done = r.reap(200, acknowledged, statusErrors);
                    if (signalled && !d.process.isAlive() && done == 0) break;
                }
                submitted = next;
                assertTrue(signalled);
            }
            assertEquals(0, d.awaitExit(Duration.ofSeconds(10)), d.logText());
            assertFalse(Files.exists(sock), "socket file removed");
            assertFalse(Files.exists(pidfile), "pidfile removed");
        }
        assertEquals(0, statusErrors[0], "writes completed with an error status");
        assertTrue(acknowledged.size() > 50, "writes acknowledged before the stop: " + acknowledged.size() + " of " + submitted);

        // a new daemon on the same image: every acknowledged write reads back as the generation acknowledged last
        try (DaemonProcess d = daemon(sock); VhostSession s = VhostSession.open(options(sock)); VirtQueue q = s.startQueue(0)) {
            Requests r = new Requests(s, q);
            int wrong = 0;
            String first = null;
            for (var e : acknowledged.entrySet()) {
                MemorySegment data = r.read(e.getKey());
                if (!BlockPattern.check(data, e.getKey(), e.getValue(), BLOCK)) {
                    wrong++;
                    if (first == null) first = "block " + e.getKey() + " should hold generation " + e.getValue() + ", holds " + BlockPattern.describe(data, BLOCK);
                }
            }
            assertEquals(0, wrong, first);
        }
    }

    @Test
    void metricsAgreeWithTheHarnessCounts() throws Exception {
        Path sock = tmp.resolve("blk.sock");
        int port = DaemonProcess.freePort();
        try (DaemonProcess d = daemon(sock, "--metrics", "127.0.0.1:" + port, "--num-queues", "2")) {
            d.awaitHttp(port, Duration.ofSeconds(20));
            var o = new VhostSession.Options(sock, 5000, 0, new RingConfig(128, false, 0), VhostSession.Toggle.AUTO,
                    2, 16 << 20, false, VhostSession.MemoryMode.AUTO, true, 0);
            BlkJob job = new BlkJob(BlkJob.Mode.RANDWRITE, 4096, 8, 0, false, (long) BLOCK * BLOCKS, 1500, 3);
            RunReport r = BlkRun.run(new BlkRun.Settings(o, 2, job, false, 5000, 0, d.process.pid(), null, null, null), null);
            assertTrue(r.passed(), r::table);
            String text = DaemonProcess.httpGet(port, "/metrics").body();
            long requests = sum(text, "vhost_queue_requests_total"), bytes = sum(text, "vhost_queue_bytes_total");
            // the harness's setup asks for the device id or flushes nothing else: every request is one of the run's
            assertEquals(r.totalOps(), requests, text);
            assertEquals(r.totalBytes(), bytes, text);
            assertEquals(0, sum(text, "vhost_queue_errors_total"), text);
            assertEquals(requests, sum(text, "vhost_queue_request_latency_seconds_count"), text);
        }
    }

    @Test
    void sigkillThenRestartIsHealthyAndServing() throws Exception {
        Path sock = tmp.resolve("blk.sock");
        int port = DaemonProcess.freePort();
        try (DaemonProcess d = daemon(sock, "--metrics", "127.0.0.1:" + port)) {
            d.signal("KILL");
            assertEquals(137, d.awaitExit(Duration.ofSeconds(10)));
        }
        try (DaemonProcess d = daemon(sock, "--metrics", "127.0.0.1:" + port)) {
            d.awaitHttp(port, Duration.ofSeconds(20));
            assertEquals(200, DaemonProcess.httpGet(port, "/healthz").statusCode(), d.logText());
            try (VhostSession s = VhostSession.open(options(sock)); VirtQueue q = s.startQueue(0)) {
                new Requests(s, q).read(0);
                assertEquals(200, DaemonProcess.httpGet(port, "/readyz").statusCode(), d.logText());
            }
        }
    }

    private static long sum(String exposition, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*\\} (\\S+)$").matcher(exposition);
        long total = 0;
        boolean any = false;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(1));
            any = true;
        }
        assertTrue(any, "series " + name);
        return total;
    }

    /** virtio-blk requests on one queue: header, data, status in per-slot guest buffers. */
    private static final class Requests {
        final VirtQueue q;
        final DriverRing ring;
        final MemorySegment[] header = new MemorySegment[DEPTH], data = new MemorySegment[DEPTH], status = new MemorySegment[DEPTH];
        final long[] headerGpa = new long[DEPTH], dataGpa = new long[DEPTH], statusGpa = new long[DEPTH];
        final long[] slotBlock = new long[DEPTH];
        final int[] slotGen = new int[DEPTH];
        final int[] slotOfId;
        final int[] generation = new int[BLOCKS];
        final BufferList buffers = new BufferList(3);
        int freeSlots = DEPTH;
        final boolean[] used = new boolean[DEPTH];

        Requests(VhostSession s, VirtQueue q) {
            this.q = q;
            this.ring = q.ring();
            slotOfId = new int[ring.size()];
            for (int i = 0; i < DEPTH; i++) {
                RingArea h = s.ram().allocate(16, 16), b = s.ram().allocate(BLOCK, BLOCK), st = s.ram().allocate(1, 1);
                headerGpa[i] = h.gpa();
                header[i] = h.memory();
                dataGpa[i] = b.gpa();
                data[i] = b.memory();
                statusGpa[i] = st.gpa();
                status[i] = st.memory();
            }
        }

        int inFlight() { return DEPTH - freeSlots; }

        boolean busy(long block) {
            for (int i = 0; i < DEPTH; i++) if (used[i] && slotBlock[i] == block) return true;
            return false;
        }

        private int slot() {
            for (int i = 0; i < DEPTH; i++) if (!used[i]) return i;
            return -1;
        }

        /** Submits a pattern write of (block, generation); false if the ring is full. */
        boolean write(long block, int gen) {
            int i = slot();
            if (i < 0) return false;
            header[i].set(LE_INT, VirtioBlk.OUTHDR_TYPE_OFFSET, VirtioBlk.T_OUT);
            header[i].set(LE_INT, VirtioBlk.OUTHDR_IOPRIO_OFFSET, 0);
            header[i].set(LE_LONG, VirtioBlk.OUTHDR_SECTOR_OFFSET, block * (BLOCK / VirtioBlk.SECTOR_SIZE));
            BlockPattern.fill(data[i], block, gen, BLOCK);
            status[i].set(ValueLayout.JAVA_BYTE, 0, (byte) 0xff);
            int id = ring.add(buffers.clear().readable(headerGpa[i], 16).readable(dataGpa[i], BLOCK).writable(statusGpa[i], 1), false);
            if (id < 0) return false;
            slotOfId[id] = i;
            used[i] = true;
            freeSlots--;
            slotBlock[i] = block;
            slotGen[i] = gen;
            q.publishAndKick();
            return true;
        }

        /** Takes completions for up to {@code waitMillis}; records acknowledged writes; returns how many completed. */
        int reap(long waitMillis, Map<Long, Integer> acknowledged, int[] statusErrors) throws InterruptedException {
            int done = 0;
            long end = System.nanoTime() + waitMillis * 1_000_000;
            while (System.nanoTime() < end) {
                int id = ring.pollUsed();
                if (id == DriverRing.NONE) {
                    if (done > 0) break;
                    Thread.sleep(1);
                    continue;
                }
                if (id < 0) throw new AssertionError("ring violation: " + ring.lastViolation());
                int i = slotOfId[id];
                byte st = status[i].get(ValueLayout.JAVA_BYTE, 0);
                if (st == VirtioBlk.S_OK) acknowledged.put(slotBlock[i], slotGen[i]);
                else statusErrors[0]++;
                used[i] = false;
                freeSlots++;
                done++;
            }
            return done;
        }

        /** Reads one block synchronously; returns the data buffer (valid until the next request). */
        MemorySegment read(long block) {
            int i = 0;
            header[i].set(LE_INT, VirtioBlk.OUTHDR_TYPE_OFFSET, VirtioBlk.T_IN);
            header[i].set(LE_INT, VirtioBlk.OUTHDR_IOPRIO_OFFSET, 0);
            header[i].set(LE_LONG, VirtioBlk.OUTHDR_SECTOR_OFFSET, block * (BLOCK / VirtioBlk.SECTOR_SIZE));
            status[i].set(ValueLayout.JAVA_BYTE, 0, (byte) 0xff);
            long len = q.roundTrip(buffers.clear().readable(headerGpa[i], 16).writable(dataGpa[i], BLOCK).writable(statusGpa[i], 1), false, 5000);
            assertEquals(BLOCK + 1, len, "read of block " + block);
            assertEquals(VirtioBlk.S_OK, status[i].get(ValueLayout.JAVA_BYTE, 0));
            return data[i];
        }
    }
}
