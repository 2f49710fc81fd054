package org.vhostj.fs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.vhostj.fs.fuse.FuseServer;
import org.vhostj.fs.fuse.FuseSession;
import org.vhostj.fs.passthrough.PassthroughFs;
import org.vhostj.vhost.device.QueueContext;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * virtio-fs (virtio 1.2 section 5.11) over vhost-user: queue 0 is hiprio (FORGET, no reply), queues
 * 1..N carry requests, as Linux and virtiofsd number them. Each queue has its own worker thread and its own
 * {@link FuseServer} (with that worker's scratch buffers); all share one {@link PassthroughFs}, which the
 * device owns and closes.
 *
 * <p>Config space: {@code tag[36]} (UTF-8, NUL-padded) and {@code le32 num_request_queues}. It is offered
 * (protocol feature CONFIG) only when a tag is given: QEMU 7.1 to 8.0 abort when the backend offers CONFIG
 * for vhost-user-fs, and QEMU sets the tag itself; virtiofsd does the same.
 */
public final class FsDevice implements VirtioDevice {
    public static final int DEVICE_TYPE = 26;
    public static final int TAG_SIZE = 36, CONFIG_SIZE = 40;

    private final PassthroughFs fs;
    private final FuseSession session = new FuseSession();
    private final int requestQueues;
    private final MemorySegment config;
    /** Runs the request queues' requests with --thread-pool-size; null: each on its queue's worker. */
    private final RequestPool pool;

    /** Takes ownership of {@code fs}. {@code tag}: null for none (CONFIG not offered). Requests run on the queue workers. */
    public FsDevice(PassthroughFs fs, String tag, int requestQueues) { this(fs, tag, requestQueues, 0); }

    /**
     * As {@link #FsDevice(PassthroughFs, String, int)}, with the request queues' requests on a pool of
     * {@code threadPoolSize} threads (0: each on its queue's worker thread).
     */
    public FsDevice(PassthroughFs fs, String tag, int requestQueues, int threadPoolSize) {
        if (threadPoolSize < 0) throw new IllegalArgumentException("thread pool size must be 0 or more: " + threadPoolSize);
        if (requestQueues < 1 || requestQueues > 255) throw new IllegalArgumentException("request queues 1..255: " + requestQueues);
        this.fs = fs;
        this.requestQueues = requestQueues;
        if (tag == null) config = MemorySegment.NULL;
        else {
            byte[] t = tag.getBytes(StandardCharsets.UTF_8);
            if (t.length == 0 || t.length > TAG_SIZE || tag.indexOf('\n') >= 0 || tag.indexOf('\0') >= 0)
                throw new IllegalArgumentException("a tag is 1.." + TAG_SIZE + " bytes of UTF-8 without newline or NUL: " + tag);
            config = Arena.ofAuto().allocate(CONFIG_SIZE, 4);
            MemorySegment.copy(t, 0, config, ValueLayout.JAVA_BYTE, 0, t.length);
            config.set(ValueLayout.JAVA_INT_UNALIGNED, TAG_SIZE, requestQueues);
        }
        pool = threadPoolSize > 0 ? new RequestPool(fs, session, threadPoolSize) : null;
    }

    public PassthroughFs fileSystem() { return fs; }

    @Override public int deviceType() { return DEVICE_TYPE; }

    @Override public String name() { return "fs"; }

    @Override public int queueCount() { return 1 + requestQueues; }

    @Override public long offeredFeatures() { return 0; }   // no VIRTIO_FS_F_NOTIFICATION: Linux never acks it

    @Override
    public long protocolFeatures(long coreSupported) {
        return config.equals(MemorySegment.NULL) ? coreSupported & ~ProtocolFeature.bit(ProtocolFeature.CONFIG) : coreSupported;
    }

    @Override public MemorySegment configSpace() { return config; }

    /** Every queue has its own worker: FORGETs never wait behind a long READ, request queues run in parallel. */
    @Override public int workerOf(int queueIndex) { return queueIndex; }

    @Override
    public QueueHandler startQueue(int queueIndex, QueueContext ctx) {
        if (pool != null && queueIndex > 0) return pool.queue(ctx);   // the hiprio queue (FORGET) stays inline
        FuseServer server = new FuseServer(fs, session);
        return new QueueHandler() {
            @Override
            public int onChain(DescriptorChain chain) {
                int used = server.handle(chain);
                long bytes = server.lastDataBytes();
                if (bytes > 0) ctx.countBytes(bytes);
                return used;
            }

            @Override
            public void stop() { server.close(); }
        };
    }

    @Override
    public void reset() {
        session.reset();
        fs.destroy();   // a new session starts from the root: drop the old guest's handles and inodes
    }

    @Override
    public void close() {
        if (pool != null) pool.close();
        fs.close();
    }
}
