package org.vhostj.vhost.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.QueueMetrics;

/**
 * The daemon's HTTP endpoint: {@code /metrics} (Prometheus text exposition, built at scrape time from the
 * queues' own counters, so the data path pays nothing for it), {@code /healthz} (200 while the daemon
 * listens and is not stopping) and {@code /readyz} (200 while a front-end is connected and a ring runs).
 *
 * <p>Owns the JDK HTTP server and its one thread; {@link #close()} from any thread.
 */
public final class MetricsServer implements AutoCloseable {
    private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();
    private static final long PAGE_SIZE = 4096;

    private final HttpServer server;
    private final Daemon daemon;
    private final Labels deviceLabels;

    private MetricsServer(HttpServer server, Daemon daemon) {
        this.server = server;
        this.daemon = daemon;
        this.deviceLabels = Labels.of("device", daemon.device().name());
    }

    /** Binds {@code address} and serves {@code daemon}'s metrics and health; throws if the address is taken. */
    public static MetricsServer start(InetSocketAddress address, Daemon daemon) throws IOException {
        HttpServer http = HttpServer.create(address, 16);
        MetricsServer m = new MetricsServer(http, daemon);
        http.createContext("/metrics", m::metrics);
        http.createContext("/healthz", ex -> m.health(ex, daemon.listening(), "listening"));
        http.createContext("/readyz", ex -> m.health(ex, daemon.serving(), daemon.connected() ? "connected, no ring running" : "no front-end"));
        http.setExecutor(Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("vhost-metrics").daemon(true).unstarted(r)));
        http.start();
        LoggerFactory.getLogger(MetricsServer.class).info("metrics on http://{}:{}/metrics", address.getHostString(), http.getAddress().getPort());
        return m;
    }

    /** The bound port (useful with port 0). */
    public int port() { return server.getAddress().getPort(); }

    private void health(HttpExchange ex, boolean ok, String notOkReason) throws IOException {
        reply(ex, ok ? 200 : 503, "text/plain; charset=utf-8", (ok ? "ok\n" : "not ready: " + notOkReason + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private void metrics(HttpExchange ex) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        TEXT.write(out, snapshot());
        reply(ex, 200, PrometheusTextFormatWriter.CONTENT_TYPE, out.toByteArray());
    }

    private static void reply(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Type", contentType);
            boolean head = "HEAD".equals(ex.getRequestMethod());
            ex.sendResponseHeaders(status, head ? -1 : body.length);
            if (!head) try (OutputStream os = ex.getResponseBody()) { os.write(body); }
        }
    }

    /** Everything exported, read now from the daemon's counters. */
    MetricSnapshots snapshot() {
        int queues = daemon.queueCount();
        QueueMetrics[] q = new QueueMetrics[queues];
        for (int i = 0; i < queues; i++) q[i] = daemon.queueMetrics(i);
        MetricSnapshots.Builder b = MetricSnapshots.builder();
        b.metricSnapshot(perQueueCounter(q, "vhost_queue_requests", "Requests completed by the device", QueueMetrics::requests));
        b.metricSnapshot(perQueueCounter(q, "vhost_queue_errors", "Requests that failed (bad chain, bad header, I/O error)", QueueMetrics::errors));
        b.metricSnapshot(perQueueCounter(q, "vhost_queue_bytes", "Payload bytes the device moved", QueueMetrics::bytes));
        b.metricSnapshot(perQueueCounter(q, "vhost_queue_kicks", "Kicks (doorbells) received from the driver", QueueMetrics::kicks));
        b.metricSnapshot(perQueueCounter(q, "vhost_queue_interrupts", "Interrupts (call eventfd writes) sent to the driver", QueueMetrics::interrupts));
        b.metricSnapshot(perQueueCounter(q, "vhost_queue_interrupts_suppressed",
                "Used-ring updates the driver asked not to be interrupted for (EVENT_IDX or NO_INTERRUPT)", QueueMetrics::suppressedInterrupts));
        GaugeSnapshot.Builder inflight = GaugeSnapshot.builder().name("vhost_queue_requests_in_flight").help("Requests taken from the ring and not yet completed");
        for (QueueMetrics m : q) inflight.dataPoint(GaugeDataPointSnapshot.builder().labels(queueLabels(m)).value(m.inflight()).build());
        b.metricSnapshot(inflight.build());
        b.metricSnapshot(latency(q));
        b.metricSnapshot(gauge("vhost_frontend_connected", "1 while a vhost-user front-end is connected", daemon.connected() ? 1 : 0));
        b.metricSnapshot(gauge("vhost_device_serving", "1 while a front-end is connected and a ring runs", daemon.serving() ? 1 : 0));
        long accepted = daemon.connectionsAccepted();
        b.metricSnapshot(counter("vhost_frontend_connections", "Front-end connections accepted", accepted));
        b.metricSnapshot(counter("vhost_frontend_reconnects", "Front-end connections after the first", Math.max(0, accepted - 1)));
        b.metricSnapshot(gauge("process_resident_memory_bytes", "Resident set size", residentBytes()));
        b.metricSnapshot(gauge("process_open_fds", "Open file descriptors", openFds()));
        return b.build();
    }

    private Labels queueLabels(QueueMetrics m) { return deviceLabels.add("queue", Integer.toString(m.queueIndex())); }

    private CounterSnapshot perQueueCounter(QueueMetrics[] q, String name, String help, ToLongFunction<QueueMetrics> read) {
        CounterSnapshot.Builder c = CounterSnapshot.builder().name(name).help(help);
        for (QueueMetrics m : q) c.dataPoint(CounterDataPointSnapshot.builder().labels(queueLabels(m)).value(read.applyAsLong(m)).build());
        return c.build();
    }

    private HistogramSnapshot latency(QueueMetrics[] q) {
        long[] bounds = QueueMetrics.LATENCY_BOUNDS_NANOS;
        double[] upper = new double[bounds.length + 1];
        for (int i = 0; i < bounds.length; i++) upper[i] = bounds[i] / 1e9;
        upper[bounds.length] = Double.POSITIVE_INFINITY;
        HistogramSnapshot.Builder h = HistogramSnapshot.builder().name("vhost_queue_request_latency_seconds")
                .help("Time from taking a request off the ring to completing it (with --metrics)");
        for (QueueMetrics m : q) {
            h.dataPoint(HistogramDataPointSnapshot.builder().labels(queueLabels(m))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, m.latencyBuckets()))
                    .sum(m.latencySumNanos() / 1e9).build());
        }
        return h.build();
    }

    private CounterSnapshot counter(String name, String help, long value) {
        return CounterSnapshot.builder().name(name).help(help)
                .dataPoint(CounterDataPointSnapshot.builder().labels(deviceLabels).value(value).build()).build();
    }

    private GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeDataPointSnapshot.builder().labels(deviceLabels).value(value).build()).build();
    }

    private static long residentBytes() {
        try {
            String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(statm[1]) * PAGE_SIZE;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count() - 1;   // less the directory stream's own fd
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() { server.stop(0); }
}
