package org.vhostj.vhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vhostj.vhost.ring.RingLayout.DESC_F_WRITE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.LibC;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.example.RngDevice;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.DaemonProcess;
import org.vhostj.vhost.testing.HostPackages;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/**
 * The lifecycle every daemon gets from {@link DaemonCommand}, shown on the example rng daemon run as a
 * real process: usage errors, SIGTERM, pidfile, systemd readiness and socket activation, metrics and health.
 */
class DaemonLifecycleTest {
    private static final String MAIN = RngDevice.class.getName();
    private static final Duration START = Duration.ofSeconds(20);

    @TempDir Path tmp;

    private DaemonProcess start(Map<String, String> env, String... args) throws Exception {
        return DaemonProcess.start(DaemonProcess.javaCommand(MAIN, List.of(args)), env, tmp.resolve("daemon.log"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no socket path                 | --log-level=info                           | --socket-path: required",
        "socket path is a regular file  | --socket-path=@FILE                        | --socket-path: @FILE exists and is not a socket",
        "socket path is a directory     | --socket-path=@DIR                         | --socket-path: @DIR is a directory",
        "socket directory is missing    | --socket-path=@DIR/missing/x.sock          | --socket-path: directory does not exist",
        "negative poll                  | --socket-path=@DIR/s.sock --poll-us=-1     | --poll-us: must be 0 or more",
        "metrics without a port         | --socket-path=@DIR/s.sock --metrics=localhost | --metrics: expected ADDR:PORT",
        "metrics port out of range      | --socket-path=@DIR/s.sock --metrics=:70000 | --metrics: port 70000 is not in 0..65535",
        "zero shutdown timeout          | --socket-path=@DIR/s.sock --shutdown-timeout=0 | --shutdown-timeout: must be more than 0",
        "unknown log level              | --socket-path=@DIR/s.sock --log-level=loud | --log-level",
        "unknown option                 | --socket-path=@DIR/s.sock --bogus          | Unknown option: '--bogus'",
        "pidfile directory is missing   | --socket-path=@DIR/s.sock --pidfile=@DIR/no/pid | --pidfile: directory does not exist",
    })
    void usageErrorIsOneLineAndExitsTwo(String name, String args, String expected) throws Exception {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        Path dir = Files.createDirectories(tmp.resolve("dir"));
        List<String> argv = new ArrayList<>();
        for (String a : args.trim().split(" ")) argv.add(a.replace("@FILE", file.toString()).replace("@DIR", dir.toString()));
        Path log = tmp.resolve("usage.log");
        int rc = DaemonProcess.run(DaemonProcess.javaCommand(MAIN, argv), log, 30);
        String out = Files.readString(log).strip();
        assertEquals(DaemonCommand.EXIT_USAGE, rc, out);
        assertEquals(1, out.lines().count(), "one line: " + out);
        assertTrue(out.startsWith("vhost-user-rng: "), out);
        assertTrue(out.contains(expected.replace("@FILE", file.toString()).replace("@DIR", dir.toString())), out);
    }

    @Test
    void helpAndVersionExitZero() throws Exception {
        Path log = tmp.resolve("help.log");
        assertEquals(0, DaemonProcess.run(DaemonProcess.javaCommand(MAIN, List.of("--help")), log, 30));
        String help = Files.readString(log);
        for (String option : List.of("--socket-path", "--fd", "--metrics", "--pidfile", "--log-level", "--poll-us", "--shutdown-timeout")) {
            assertTrue(help.contains(option), option + " in\n" + help);
        }
        assertEquals(0, DaemonProcess.run(DaemonProcess.javaCommand(MAIN, List.of("--version")), log, 30));
        assertTrue(Files.readString(log).startsWith("vhost-user-rng "));
    }

    @Test
    void sigtermWhileServingExitsZeroAndCleansUp() throws Exception {
        Path sock = tmp.resolve("rng.sock"), pidfile = tmp.resolve("rng.pid");
        try (DaemonProcess d = start(Map.of(), "--socket-path=" + sock, "--pidfile=" + pidfile)) {
            d.awaitSocket(sock, START);
            awaitFile(pidfile);
            assertEquals(Long.toString(d.process.pid()), Files.readString(pidfile).strip());
            try (RngSession s = new RngSession(sock)) {
                assertEquals(8, s.request(8, 512), "requests served before the signal");
                s.post(8, 512);          // more work, possibly in flight when the signal lands
                d.signal("TERM");
                assertEquals(0, d.awaitExit(Duration.ofSeconds(10)), d.logText());
            }
            assertFalse(Files.exists(sock), "socket file removed");
            assertFalse(Files.exists(pidfile), "pidfile removed");
            assertTrue(d.logText().contains("stopping"), d.logText());
        }
    }

    @Test
    void sigintExitsZeroToo() throws Exception {
        Path sock = tmp.resolve("rng.sock");
        try (DaemonProcess d = start(Map.of(), "--socket-path=" + sock)) {
            d.awaitSocket(sock, START);
            d.signal("INT");
            assertEquals(0, d.awaitExit(Duration.ofSeconds(10)), d.logText());
            assertFalse(Files.exists(sock));
        }
    }

    @Test
    void notifySocketReceivesReadyOnceListening() throws Exception {
        Path sock = tmp.resolve("rng.sock"), notify = tmp.resolve("notify.sock");
        int fd = LibC.socket(UnixSocket.AF_UNIX, UnixSocket.SOCK_DGRAM | UnixSocket.SOCK_CLOEXEC, 0);
        assertTrue(fd >= 0);
        try (Arena a = Arena.ofConfined()) {
            byte[] path = notify.toString().getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = a.allocate(2 + path.length + 1, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) UnixSocket.AF_UNIX);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, 2, path.length);
            assertEquals(0, LibC.bind(fd, addr, (int) addr.byteSize()));
            try (DaemonProcess d = start(Map.of("NOTIFY_SOCKET", notify.toString()), "--socket-path=" + sock)) {
                MemorySegment pfd = a.allocate(8, 4);
                pfd.set(ValueLayout.JAVA_INT, 0, fd);
                pfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1);   // POLLIN
                assertEquals(1, LibC.poll(pfd, 1, 20_000), "a notification within 20 s:\n" + d.logText());
                MemorySegment buf = a.allocate(512);
                long n = LibC.read(fd, buf, 512);
                String msg = new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                assertTrue(msg.lines().anyMatch("READY=1"::equals), msg);
                assertTrue(msg.contains("MAINPID=" + d.process.pid()), msg);
                assertTrue(Files.exists(sock), "READY=1 only once the socket listens");
                try (RngSession s = new RngSession(sock)) {
                    assertEquals(4, s.request(4, 256));
                }
            }
        } finally {
            LibC.close(fd);
        }
    }

    @Test
    void socketActivationServesTheInheritedListener() throws Exception {
        Path activate = HostPackages.require("systemd-socket-activate", "systemd");
        Path sock = tmp.resolve("activated.sock");
        List<String> cmd = new ArrayList<>(List.of(activate.toString(), "--listen=" + sock, "--"));
        cmd.addAll(DaemonProcess.javaCommand(MAIN, List.of()));   // no --socket-path: LISTEN_FDS says where
        try (DaemonProcess d = DaemonProcess.start(cmd, Map.of(), tmp.resolve("activated.log"))) {
            d.awaitSocket(sock, START);
            // systemd-socket-activate listens first and execs the daemon on the first connection
            try (RngSession s = new RngSession(sock)) {
                assertEquals(16, s.request(16, 128), d.logText());
            }
            assertTrue(d.logText().contains("inherited fd 3"), d.logText());
            d.signal("TERM");
            assertEquals(0, d.awaitExit(Duration.ofSeconds(10)), d.logText());
        }
    }

    @Test
    void metricsAgreeWithTheRequestsAndParseAsPrometheusText() throws Exception {
        Path sock = tmp.resolve("rng.sock");
        int port = DaemonProcess.freePort();
        try (DaemonProcess d = start(Map.of(), "--socket-path=" + sock, "--metrics=127.0.0.1:" + port)) {
            d.awaitSocket(sock, START);
            d.awaitHttp(port, START);
            assertEquals(200, DaemonProcess.httpGet(port, "/healthz").statusCode());
            assertEquals(503, DaemonProcess.httpGet(port, "/readyz").statusCode(), "no front-end yet");
            int served;
            try (RngSession s = new RngSession(sock)) {
                served = s.request(40, 1000) + s.request(24, 64);
                assertEquals(200, DaemonProcess.httpGet(port, "/readyz").statusCode(), "a ring runs");
                String text = DaemonProcess.httpGet(port, "/metrics").body();
                assertEquals(served, value(text, "vhost_queue_requests_total\\{device=\"rng\",queue=\"0\"\\}"), text);
                assertEquals(40 * 1000 + 24 * 64, value(text, "vhost_queue_bytes_total\\{device=\"rng\",queue=\"0\"\\}"), text);
                assertEquals(0, value(text, "vhost_queue_errors_total\\{device=\"rng\",queue=\"0\"\\}"), text);
                assertEquals(served, value(text, "vhost_queue_request_latency_seconds_count\\{device=\"rng\",queue=\"0\"\\}"), text);
                assertTrue(value(text, "vhost_queue_kicks_total\\{device=\"rng\",queue=\"0\"\\}") >= 2, text);
                assertEquals(1, value(text, "vhost_frontend_connected\\{device=\"rng\"\\}"), text);
                assertTrue(value(text, "process_resident_memory_bytes\\{device=\"rng\"\\}") > 1 << 20, text);
                assertTrue(value(text, "process_open_fds\\{device=\"rng\"\\}") > 3, text);
                assertParsesAsPrometheusText(text);
            }
            assertEquals(64, served);
        }
    }

    @Test
    void sigkillThenRestartOnTheSameSocketServesAgain() throws Exception {
        Path sock = tmp.resolve("rng.sock");
        int port = DaemonProcess.freePort();
        try (DaemonProcess d = start(Map.of(), "--socket-path=" + sock, "--metrics=127.0.0.1:" + port)) {
            d.awaitSocket(sock, START);
            try (RngSession s = new RngSession(sock)) { s.request(4, 64); }
            d.signal("KILL");
            assertEquals(137, d.awaitExit(Duration.ofSeconds(10)));
        }
        assertTrue(Files.exists(sock), "a killed daemon leaves its socket file behind");
        try (DaemonProcess d = start(Map.of(), "--socket-path=" + sock, "--metrics=127.0.0.1:" + port)) {
            d.awaitHttp(port, START);   // the stale socket file was replaced
            assertEquals(200, DaemonProcess.httpGet(port, "/healthz").statusCode(), d.logText());
            try (RngSession s = new RngSession(sock)) {
                assertEquals(4, s.request(4, 64));
                assertEquals(200, DaemonProcess.httpGet(port, "/readyz").statusCode());
            }
        }
    }

    @Test
    void aSocketInUseByAnotherDaemonIsARuntimeFailure() throws Exception {
        Path sock = tmp.resolve("rng.sock");
        try (DaemonProcess first = start(Map.of(), "--socket-path=" + sock)) {
            first.awaitSocket(sock, START);
            Path log = tmp.resolve("second.log");
            int rc = DaemonProcess.run(DaemonProcess.javaCommand(MAIN, List.of("--socket-path=" + sock)), log, 30);
            assertEquals(DaemonCommand.EXIT_FAILURE, rc, Files.readString(log));
            assertTrue(Files.readString(log).contains("in use"), Files.readString(log));
            assertTrue(first.process.isAlive());
        }
    }

    private static void awaitFile(Path p) throws InterruptedException {
        for (int i = 0; i < 500 && !Files.exists(p); i++) Thread.sleep(20);
        assertTrue(Files.exists(p), p + " exists");
    }

    private static long value(String exposition, String seriesRegex) {
        Matcher m = Pattern.compile("(?m)^" + seriesRegex + " (\\S+)$").matcher(exposition);
        assertTrue(m.find(), "series " + seriesRegex);
        return (long) Double.parseDouble(m.group(1));
    }

    /** The reference parser (the Prometheus Python client's) must read every family. */
    private void assertParsesAsPrometheusText(String text) throws Exception {
        HostPackages.requireFile(Path.of("/usr/lib/python3/dist-packages/prometheus_client/parser.py"), "python3-prometheus-client");
        Path in = Files.writeString(tmp.resolve("metrics.txt"), text);
        Path log = tmp.resolve("parse.log");
        int rc = DaemonProcess.run(List.of("/usr/bin/python3", "-c", """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
                print(len(fams), sum(len(f.samples) for f in fams))
                """, in.toString()), log, 60);
        String out = Files.readString(log).strip();
        assertEquals(0, rc, out);
        long families = text.lines().filter(l -> l.startsWith("# TYPE ")).count();
        assertEquals(Long.toString(families), out.split(" ")[0], out);
    }

    /** A front-end of the rng device: ring 0 split, 64 entries, writable buffers. */
    private static final class RngSession implements AutoCloseable {
        final RawFrontendClient fe;
        final TestGuest guest = new TestGuest(4 << 20);
        final EventFd kick = EventFd.create(), call = EventFd.create();
        final TestSplitDriver ring;
        final long data;
        int posted, completed;

        RngSession(Path sock) {
            fe = new RawFrontendClient(sock);
            fe.handshake(VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES),
                    ~0L & ~ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS));
            fe.setMemTable(guest);
            ring = new TestSplitDriver(guest, 64);
            data = guest.alloc(64 * 4096, 4096);
            fe.startRing(0, 64, 0, ring.descGpa, ring.availGpa, ring.usedGpa, kick.fd(), call.fd());
        }

        /** Posts {@code n} requests of {@code len} bytes and kicks. */
        void post(int n, int len) {
            for (int i = 0; i < n; i++) {
                int d = posted++ % 64;
                ring.desc(d, data + 4096L * d, len, DESC_F_WRITE, 0);
                ring.publish(d);
            }
            kick.signal();
        }

        /** Posts {@code n} requests and waits for them; returns how many completed with {@code len} bytes. */
        int request(int n, int len) throws InterruptedException {
            post(n, len);
            long end = System.currentTimeMillis() + 10_000;
            while (((ring.usedIdx() - completed) & 0xffff) < n) {
                if (System.currentTimeMillis() > end) throw new AssertionError("device completed " + ((ring.usedIdx() - completed) & 0xffff) + " of " + n);
                Thread.sleep(1);
            }
            int full = 0;
            for (int i = 0; i < n; i++) {
                if (ring.usedLen(completed + i) == len) full++;
            }
            completed += n;
            return full;
        }

        @Override
        public void close() {
            fe.close();
            kick.close();
            call.close();
            guest.close();
        }
    }
}
