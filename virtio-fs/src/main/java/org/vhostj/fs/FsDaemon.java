package org.vhostj.fs;

import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.fs.passthrough.CacheMode;
import org.vhostj.fs.passthrough.FsConfig;
import org.vhostj.fs.passthrough.PassthroughFs;
import org.vhostj.sys.LibC;
import org.vhostj.vhost.cli.DaemonCommand;
import org.vhostj.vhost.cli.UsageException;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.device.VirtioDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vhost-user-fs}: the virtio-fs daemon. Option names follow virtiofsd's, so an operator can swap
 * one for the other. Runs on the main thread until SIGTERM (see {@link DaemonCommand}).
 */
@Command(name = "vhost-user-fs", sortOptions = false,
        description = "virtio-fs over vhost-user: a secure passthrough of one host directory (FUSE 7.38).")
public final class FsDaemon extends DaemonCommand {
    private static final Logger log = LoggerFactory.getLogger(FsDaemon.class);

    @Option(names = "--shared-dir", required = true, paramLabel = "DIR", order = 10, description = "the directory to share")
    Path sharedDir;

    @Option(names = "--tag", paramLabel = "TAG", order = 11,
            description = "the mount tag in the device's config space; without it the VMM provides the tag (QEMU 7.1 to 8.0 need that)")
    String tag;

    @Option(names = "--cache", paramLabel = "MODE", order = 12,
            description = "auto, always, never or metadata (default: ${DEFAULT-VALUE}): how long the guest caches entries, attributes and data")
    String cache = "auto";

    @Option(names = "--readonly", order = 13, description = "refuse every change with EROFS")
    boolean readonly;

    @Option(names = "--xattr", order = 14, description = "serve extended attributes (off: the guest is told ENOSYS and stops asking)")
    boolean xattr;

    @Option(names = "--thread-pool-size", paramLabel = "N", order = 15,
            description = "threads that serve the request queues' requests, so one that blocks does not hold up the others (default: ${DEFAULT-VALUE}: each request queue's requests run in order on its worker thread, as virtiofsd's 0)")
    int threadPoolSize = 0;

    @Option(names = "--sandbox", paramLabel = "MODE", order = 16,
            description = "namespace, chroot or none (default: namespace as root, else none); see virtio-fs/README.md")
    String sandbox;

    @Option(names = "--num-queues", paramLabel = "N", order = 17,
            description = "request queues (default: ${DEFAULT-VALUE}; Linux before 6.11 uses only the first)")
    int numQueues = 1;

    private Sandbox.Mode sandboxMode;
    private PassthroughFs fs;

    @Override
    protected VirtioDevice createDevice() {
        if (!Files.isDirectory(sharedDir)) throw new UsageException("--shared-dir", "not a directory: " + sharedDir);
        CacheMode mode;
        try {
            mode = CacheMode.parse(cache);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--cache", "auto, always, never or metadata, not " + cache);
        }
        if (numQueues < 1 || numQueues > 64) throw new UsageException("--num-queues", "1..64, not " + numQueues);
        if (threadPoolSize < 0 || threadPoolSize > 1024) throw new UsageException("--thread-pool-size", "0..1024, not " + threadPoolSize);
        if (tag != null) {
            int n = tag.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (n == 0 || n > FsDevice.TAG_SIZE || tag.indexOf('\n') >= 0) throw new UsageException("--tag", "1..36 bytes without newline: " + tag);
        }
        boolean root = LibC.geteuid() == 0;
        if (sandbox == null) sandboxMode = root ? Sandbox.Mode.NAMESPACE : Sandbox.Mode.NONE;
        else {
            try {
                sandboxMode = Sandbox.Mode.parse(sandbox);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--sandbox", "namespace, chroot or none, not " + sandbox);
            }
            if (sandboxMode != Sandbox.Mode.NONE && !root) {
                throw new UsageException("--sandbox", sandbox + " needs root (CAP_SYS_ADMIN / CAP_SYS_CHROOT); use --sandbox none");
            }
        }
        // Namespace mode: re-exec inside a private mount namespace first (a JVM cannot unshare its mount
        // namespace for all of its threads); does not return unless already inside one.
        if (sandboxMode == Sandbox.Mode.NAMESPACE) Sandbox.enterMountNamespace();
        if (root) {
            LibC.umask(0);                  // the guest kernel already applied the guest's umask
            Sandbox.dropSupplementaryGroups();  // CVE-2022-0358: no group of ours may leak into guest-created files
        }
        fs = new PassthroughFs(sharedDir, new FsConfig(mode, readonly, xattr));
        return new FsDevice(fs, tag, numQueues, threadPoolSize);
    }

    /** The sandbox goes up before the first front-end is served, and after the socket file was made outside it. */
    @Override
    protected void listening(Daemon daemon) {
        Sandbox.enter(sandboxMode);
    }

    @Override
    protected void started(Daemon daemon) {
        log.info("sharing {} ({} cache{}{}), sandbox {}, {}", sharedDir, cache, readonly ? ", read-only" : "", xattr ? ", xattr" : "",
                sandboxMode.name().toLowerCase(java.util.Locale.ROOT),
                threadPoolSize > 0 ? "requests on " + threadPoolSize + " pool threads" : "requests on the queue workers");
    }

    public static void main(String[] args) { System.exit(DaemonCommand.execute(new FsDaemon(), args)); }
}
