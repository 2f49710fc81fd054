package org.vhostj.vhost.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.ErrnoException;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.ops.MetricsServer;
import org.vhostj.vhost.ops.Systemd;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The command line and lifecycle every device daemon shares; a device daemon subclasses it, adds its own
 * options and builds its device in {@link #createDevice()}. Owns, in order: logging set-up, validation of
 * the common options, the {@link Daemon}, the metrics endpoint, the pidfile, systemd readiness, and the
 * graceful stop on SIGTERM/SIGINT.
 *
 * <p>Exit status: 0 after a clean stop (a signal), 1 on a runtime failure (the socket cannot be created,
 * the metrics port is taken, a worker died), 2 on a usage error, with one line naming the option and why.
 *
 * <p>Option names follow virtiofsd and qemu-storage-daemon where they overlap ({@code --socket-path},
 * {@code --fd}, {@code --pidfile}, {@code --log-level}, {@code --thread-pool-size}).
 */
public abstract class DaemonCommand implements Callable<Integer> {
    /** Exit statuses. */
    public static final int EXIT_OK = 0, EXIT_FAILURE = 1, EXIT_USAGE = 2;

    /** Log levels as virtiofsd names them. */
    public enum LogLevel { off, error, warn, info, debug, trace }

    @Option(names = {"--socket-path", "--socket"}, paramLabel = "PATH", order = 1,
            description = "vhost-user socket to create and listen on (a stale socket file is replaced)")
    Path socketPath;

    @Option(names = "--fd", paramLabel = "FD", order = 2,
            description = "serve this inherited listening socket instead of creating one (systemd socket activation is detected by itself)")
    Integer listenFd;

    @Option(names = "--poll-us", paramLabel = "N", order = 3,
            description = "busy-poll a queue this many microseconds after its last request before sleeping (default: ${DEFAULT-VALUE}, never)")
    int pollMicros = 0;

    @Option(names = "--metrics", paramLabel = "ADDR:PORT", order = 4,
            description = "serve Prometheus metrics on /metrics and health on /healthz and /readyz over HTTP")
    String metrics;

    @Option(names = "--pidfile", paramLabel = "FILE", order = 5, description = "write the daemon's pid here (removed at exit)")
    Path pidfile;

    @Option(names = "--log-level", paramLabel = "LEVEL", order = 6,
            description = "off, error, warn, info, debug or trace (default: ${DEFAULT-VALUE})")
    LogLevel logLevel = LogLevel.info;

    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", order = 7,
            description = "on SIGTERM, wait this long for requests in flight before exiting anyway (default: ${DEFAULT-VALUE})")
    double shutdownTimeoutSeconds = 5;

    /**
     * Validates the device's own options and builds the device. Throws {@link UsageException} for a value
     * that cannot work; anything else thrown is a runtime failure (exit 1).
     */
    protected abstract VirtioDevice createDevice();

    /** Lets a device daemon adjust the daemon options (for example, time requests). */
    protected DaemonOptions daemonOptions(DaemonOptions options) { return options; }

    /**
     * Called once the socket exists and before any front-end is served (one that connects waits): a device
     * confines itself here (a sandbox), after the socket file was made outside it.
     */
    protected void listening(Daemon daemon) {}

    /** Called once the daemon serves (before readiness is reported); a device may start its own services. */
    protected void started(Daemon daemon) {}

    /** The busy-poll setting ({@code --poll-us}), for devices that poll their backends too. */
    protected final int pollMicros() { return pollMicros; }

    /** Parses {@code args} and runs {@code command} until it stops; returns the exit status. */
    public static int execute(DaemonCommand command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.getCommandSpec().mixinStandardHelpOptions(true);
        cl.getCommandSpec().versionProvider(() -> new String[] {cl.getCommandName() + " " + version()});
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((e, a) -> usageError(e.getCommandLine(), e.getMessage()));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageException) return usageError(cmd, e.getMessage());
            cmd.getErr().println(cmd.getCommandName() + ": " + describe(e));
            return EXIT_FAILURE;
        });
        return cl.execute(args);
    }

    private static int usageError(CommandLine cmd, String message) {
        PrintWriter err = cmd.getErr();
        err.println(cmd.getCommandName() + ": " + message.replace('\n', ' ').strip() + " (see --help)");
        err.flush();
        return EXIT_USAGE;
    }

    private static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** The version in the jar's manifest, or "dev" when run from classes. */
    public static String version() {
        String v = DaemonCommand.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    @Override
    public final Integer call() throws Exception {
        configureLogging(logLevel);
        Logger log = LoggerFactory.getLogger(getClass());
        DaemonOptions options = daemonOptions(commonOptions());
        InetSocketAddress metricsAddress = metrics == null ? null : parseHostPort("--metrics", metrics);
        VirtioDevice device = createDevice();

        Daemon daemon = new Daemon(device, options);
        AtomicReference<MetricsServer> metricsServer = new AtomicReference<>();
        AtomicBoolean stopping = new AtomicBoolean();
        // registered before the socket exists: a signal that arrives as soon as a client sees the socket
        // must already find the graceful stop in place
        Thread shutdown = Thread.ofPlatform().name("vhost-shutdown").unstarted(() -> {
            if (!stopping.compareAndSet(false, true)) return;
            log.info("stopping: completing requests in flight (at most {} s)", shutdownTimeoutSeconds);
            Systemd.notify("STOPPING=1");
            daemon.close();
            MetricsServer ms = metricsServer.get();
            if (ms != null) ms.close();
            removePidfile(log);
            // a signal ended us, but the stop was clean: report success to the supervisor
            Runtime.getRuntime().halt(EXIT_OK);
        });
        Runtime.getRuntime().addShutdownHook(shutdown);
        try {
            daemon.listen();
            // the metrics server and pidfile before listening(): a sandbox hides the paths (and netty's native library) they need
            if (metricsAddress != null) metricsServer.set(MetricsServer.start(metricsAddress, daemon));
            if (pidfile != null) writePidfile(pidfile);
            listening(daemon);
            daemon.start();
            started(daemon);
        } catch (ErrnoException | IOException | IllegalArgumentException | IllegalStateException e) {
            if (!stopping.compareAndSet(false, true)) throw e;   // a signal is already stopping us
            Runtime.getRuntime().removeShutdownHook(shutdown);   // a failed start exits 1, not 0
            daemon.close();
            MetricsServer ms = metricsServer.get();
            if (ms != null) ms.close();
            removePidfile(log);
            throw e instanceof IllegalArgumentException ? new IllegalStateException(e.getMessage(), e) : e;
        }
        Systemd.notify("READY=1\nMAINPID=" + ProcessHandle.current().pid());
        daemon.awaitTermination();
        return EXIT_OK;
    }

    private DaemonOptions commonOptions() {
        if (pollMicros < 0) throw new UsageException("--poll-us", "must be 0 or more, not " + pollMicros);
        if (!(shutdownTimeoutSeconds > 0 && shutdownTimeoutSeconds <= 3600)) {
            throw new UsageException("--shutdown-timeout", "must be more than 0 and at most 3600 seconds, not " + shutdownTimeoutSeconds);
        }
        int inherited = Systemd.listenFd();
        if (inherited < 0 && listenFd != null) {
            if (listenFd < 0) throw new UsageException("--fd", "must be a file descriptor number, not " + listenFd);
            inherited = listenFd;
        }
        if (inherited < 0) {
            if (socketPath == null) throw new UsageException("--socket-path", "required (or --fd, or systemd socket activation)");
            checkSocketPath(socketPath);
        }
        if (pidfile != null) {
            Path dir = pidfile.toAbsolutePath().getParent();
            if (dir != null && !Files.isDirectory(dir)) throw new UsageException("--pidfile", "directory does not exist: " + dir);
        }
        Duration shutdown = Duration.ofMillis((long) (shutdownTimeoutSeconds * 1000));
        DaemonOptions o = socketPath != null ? DaemonOptions.forSocket(socketPath) : DaemonOptions.forSocket(Path.of("fd" + inherited));
        return o.withInheritedListenFd(inherited).withPollMicros(pollMicros).withShutdownTimeout(shutdown)
                .withTimeRequests(metrics != null);
    }

    private static void checkSocketPath(Path path) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) throw new UsageException("--socket-path", path + " is a directory");
            if (!Daemon.isSocketFile(path)) throw new UsageException("--socket-path", path + " exists and is not a socket");
        }
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new UsageException("--socket-path", "directory does not exist: " + dir);
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > 107) {
            throw new UsageException("--socket-path", "longer than the 107 bytes a unix socket path may have: " + path);
        }
    }

    /** Parses HOST:PORT (or :PORT, or [v6]:PORT) for an option. */
    public static InetSocketAddress parseHostPort(String option, String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 0) throw new UsageException(option, "expected ADDR:PORT, got '" + value + "'");
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageException(option, "bad port in '" + value + "'");
        }
        if (port < 0 || port > 65535) throw new UsageException(option, "port " + port + " is not in 0..65535");
        InetSocketAddress a = host.isEmpty() ? new InetSocketAddress("127.0.0.1", port) : new InetSocketAddress(host, port);
        if (a.isUnresolved()) throw new UsageException(option, "cannot resolve '" + host + "'");
        return a;
    }

    private void writePidfile(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void removePidfile(Logger log) {
        if (pidfile == null) return;
        try {
            Files.deleteIfExists(pidfile);
        } catch (IOException e) {
            log.warn("cannot remove pidfile {}: {}", pidfile, e.getMessage());
        }
    }

    /** slf4j-simple reads its settings once, at the first logger: one line per event, to stderr (the journal). */
    static void configureLogging(LogLevel level) {
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", level.name().toLowerCase(Locale.ROOT));
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        setDefault("org.slf4j.simpleLogger.showThreadName", "false");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
        setDefault("org.slf4j.simpleLogger.levelInBrackets", "true");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
