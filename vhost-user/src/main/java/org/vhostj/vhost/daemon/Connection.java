package org.vhostj.vhost.daemon;

import static org.vhostj.vhost.protocol.Payloads.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.sys.ReceivedFds;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.device.QueueHandler;
import org.vhostj.vhost.device.VirtioDevice;
import org.vhostj.vhost.memory.DirtyLog;
import org.vhostj.vhost.memory.GuestMemory;
import org.vhostj.vhost.memory.MemoryRegion;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.ProtocolException;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.ring.DeviceRing;
import org.vhostj.vhost.ring.PackedRing;
import org.vhostj.vhost.ring.RingAddresses;
import org.vhostj.vhost.ring.RingLayout;
import org.vhostj.vhost.ring.SplitInflight;
import org.vhostj.vhost.ring.SplitRing;

/**
 * One front-end session: reads messages on the control thread (two-phase: the 12-byte header with its
 * fds, checked, then exactly the payload), validates each against what the device declared before any
 * state changes, and drives the workers. Everything here runs on the control thread; a malformed or refused
 * message NACKs (if a reply was requested) and closes this connection only.
 */
final class Connection {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    static final int MAX_MEM_SLOTS = 32;
    /** Transport features the core implements for every device. */
    static final long CORE_FEATURES = VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC)
            | VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) | VirtioFeature.bit(VirtioFeature.RING_PACKED)
            | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES) | VirtioFeature.bit(VirtioFeature.VHOST_F_LOG_ALL);
    static final long CORE_PROTOCOL_FEATURES = ProtocolFeature.bit(ProtocolFeature.MQ) | ProtocolFeature.bit(ProtocolFeature.LOG_SHMFD)
            | ProtocolFeature.bit(ProtocolFeature.REPLY_ACK) | ProtocolFeature.bit(ProtocolFeature.BACKEND_REQ)
            | ProtocolFeature.bit(ProtocolFeature.INFLIGHT_SHMFD) | ProtocolFeature.bit(ProtocolFeature.RESET_DEVICE)
            | ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS) | ProtocolFeature.bit(ProtocolFeature.STATUS);

    private final UnixSocket socket;
    private final VirtioDevice device;
    private final QueueWorker[] workers;
    private final int[] workerOfQueue;
    private final QueueMetrics[] metrics;
    private final DaemonOptions options;
    private final RateLimitedLog refusals;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(MessageHeader.SIZE + MessageHeader.MAX_PAYLOAD + 64, 8);
    private final MemorySegment reply = arena.allocate(MessageHeader.SIZE + MessageHeader.MAX_PAYLOAD + 64, 8);
    private final ReceivedFds fds = new ReceivedFds();
    private final RingState[] rings;
    private final long offeredFeatures, offeredProtocolFeatures;

    private long ackedFeatures, ackedProtocolFeatures;
    private boolean featuresSet;
    private GuestMemory memory = GuestMemory.empty();
    private DirtyLog dirtyLog;
    private int status;
    private UnixSocket backendChannel;
    private final List<Arena> inflightMappings = new ArrayList<>();
    private MemorySegment inflight;
    private int inflightQueueSize;
    private volatile boolean ringsRunning;

    Connection(UnixSocket socket, VirtioDevice device, QueueWorker[] workers, int[] workerOfQueue, QueueMetrics[] metrics,
               DaemonOptions options, RateLimitedLog refusals) {
        this.socket = socket;
        this.device = device;
        this.workers = workers;
        this.workerOfQueue = workerOfQueue;
        this.metrics = metrics;
        this.options = options;
        this.refusals = refusals;
        this.rings = new RingState[device.queueCount()];
        for (int i = 0; i < rings.length; i++) rings[i] = new RingState(i);
        this.offeredFeatures = device.offeredFeatures() | CORE_FEATURES;
        long core = CORE_PROTOCOL_FEATURES | (device.configSpace().byteSize() > 0 ? ProtocolFeature.bit(ProtocolFeature.CONFIG) : 0);
        this.offeredProtocolFeatures = device.protocolFeatures(core);
    }

    /** True while at least one ring is started (readiness). */
    boolean ringsRunning() { return ringsRunning; }

    /** Wakes the control thread out of its receive (daemon shutdown); it then cleans up and returns. */
    void shutdown() { socket.shutdown(); }

    /** Serves messages until the front-end disconnects or breaks the protocol; then frees everything. */
    void serve() {
        try {
            while (true) {
                fds.close();
                long n = socket.receiveExact(buf, MessageHeader.SIZE, fds);
                if (n == 0) { log.info("front-end disconnected"); return; }
                if (n < 0) { log.info("front-end connection failed: recvmsg: {}", org.vhostj.sys.Errno.describe((int) -n)); return; }
                if (n < MessageHeader.SIZE) { refusals.warn("front-end closed the connection in the middle of a message header"); return; }
                if (!handleOne()) return;
            }
        } catch (ErrnoException e) {
            log.info("front-end connection ended: {}", e.getMessage());
        } finally {
            cleanup();
        }
    }

    /** Reads the payload of the message whose header is in {@code buf} and handles it; false ends the connection. */
    private boolean handleOne() {
        int code = buf.get(ValueLayout.JAVA_INT_UNALIGNED, MessageHeader.REQUEST_OFFSET);
        int flags = buf.get(ValueLayout.JAVA_INT_UNALIGNED, MessageHeader.FLAGS_OFFSET);
        long size = Integer.toUnsignedLong(buf.get(ValueLayout.JAVA_INT_UNALIGNED, MessageHeader.SIZE_OFFSET));
        Request req = Request.of(code);
        boolean needReply = (flags & MessageHeader.NEED_REPLY) != 0;
        try {
            if (req == null) throw new ProtocolException(null, "unknown request code " + Integer.toUnsignedString(code));
            if ((flags & MessageHeader.VERSION_MASK) != MessageHeader.VERSION) throw new ProtocolException(req, "unsupported version " + (flags & MessageHeader.VERSION_MASK));
            if ((flags & ~MessageHeader.KNOWN_FLAGS) != 0 || (flags & MessageHeader.REPLY) != 0) throw new ProtocolException(req, "bad header flags 0x" + Integer.toHexString(flags));
            if (size > MessageHeader.MAX_PAYLOAD) throw new ProtocolException(req, "payload size " + size + " exceeds " + MessageHeader.MAX_PAYLOAD);
            long n = socket.receiveExact(buf.asSlice(MessageHeader.SIZE), size, fds);
            if (n != size) { refusals.warn("front-end closed the connection in the middle of a {} message", req); return false; }
            if (fds.truncated()) throw new ProtocolException(req, "more file descriptors than any request carries");
            MemorySegment payload = buf.asSlice(MessageHeader.SIZE, size);
            log.debug("request {} flags=0x{} size={} fds={}", req, Integer.toHexString(flags), size, fds.count());
            boolean ok = dispatch(req, payload, (int) size);
            if (needReply && !req.hasReply && ackNegotiated()) sendU64(req, ok ? 0 : 1);
            return true;
        } catch (ProtocolException e) {
            refusals.warn("closing front-end connection: {}", e.getMessage());
            if (needReply && req != null && ackNegotiated()) sendU64(req, 1);
            return false;
        } catch (ErrnoException | IllegalArgumentException | IllegalStateException e) {
            refusals.warn("closing front-end connection: {} failed: {}", req, e.getMessage());
            if (needReply && req != null && ackNegotiated()) sendU64(req, 1);
            return false;
        }
    }

    private boolean ackNegotiated() { return ProtocolFeature.has(ackedProtocolFeatures, ProtocolFeature.REPLY_ACK); }

    // ---- validation helpers ---------------------------------------------------------------------

    private static void expectSize(Request req, int size, int expected) {
        if (size != expected) throw new ProtocolException(req, "payload is " + size + " bytes, expected " + expected);
    }

    private void expectFds(Request req, int min, int max) {
        if (fds.count() < min || fds.count() > max) {
            throw new ProtocolException(req, "carries " + fds.count() + " file descriptors, expected " + (min == max ? "" + min : min + ".." + max));
        }
    }

    private RingState ring(Request req, long index) {
        if (index < 0 || index >= rings.length) throw new ProtocolException(req, "ring index " + index + " out of range (device has " + rings.length + " queues)");
        return rings[(int) index];
    }

    private static long u64(MemorySegment p, long off) { return p.get(ValueLayout.JAVA_LONG_UNALIGNED, off); }

    private static long u32(MemorySegment p, long off) { return Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT_UNALIGNED, off)); }

    // ---- dispatch ---------------------------------------------------------------------------------

    /** Handles one validated-header message; returns the REPLY_ACK status. Throws ProtocolException to close. */
    private boolean dispatch(Request req, MemorySegment p, int size) {
        if (req.payload == Request.Payload.NONE) expectSize(req, size, 0);
        if (req.payload == Request.Payload.U64) expectSize(req, size, U64_SIZE);
        if (req.payload == Request.Payload.VRING_STATE) expectSize(req, size, VRING_STATE_SIZE);
        if (req.payload == Request.Payload.NONE_OR_U64 && size != 0 && size != U64_SIZE) throw new ProtocolException(req, "payload is " + size + " bytes, expected 0 or 8");
        if (req != Request.SET_VRING_KICK && req != Request.SET_VRING_CALL && req != Request.SET_VRING_ERR) expectFds(req, req.minFds, req.maxFds);
        switch (req) {
            case GET_FEATURES -> sendU64(req, offeredFeatures);
            case SET_FEATURES -> setFeatures(u64(p, 0));
            case GET_PROTOCOL_FEATURES -> sendU64(req, offeredProtocolFeatures);
            case SET_PROTOCOL_FEATURES -> {
                long f = u64(p, 0);
                if ((f & ~offeredProtocolFeatures) != 0) throw new ProtocolException(req, "protocol features 0x" + Long.toHexString(f & ~offeredProtocolFeatures) + " were never offered");
                ackedProtocolFeatures = f;
            }
            case SET_OWNER -> { }
            case RESET_OWNER, RESET_DEVICE -> resetDevice();
            case GET_QUEUE_NUM -> sendU64(req, rings.length);
            case GET_MAX_MEM_SLOTS -> sendU64(req, MAX_MEM_SLOTS);
            case SET_MEM_TABLE -> setMemTable(p, size);
            case ADD_MEM_REG -> addMemRegion(p, size);
            case REM_MEM_REG -> { return removeMemRegion(p, size); }
            case SET_LOG_BASE -> setLogBase(p, size);
            case SET_LOG_FD -> fds.take(0).close();   // we never notify the front-end through it
            case SET_VRING_NUM -> setVringNum(p);
            case SET_VRING_ADDR -> setVringAddr(p, size);
            case SET_VRING_BASE -> setVringBase(p);
            case GET_VRING_BASE -> getVringBase(p);
            case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> setVringFd(req, u64(p, 0));
            case SET_VRING_ENABLE -> setVringEnable(p);
            case GET_CONFIG -> getConfig(p, size);
            case SET_CONFIG -> { return setConfig(p, size); }
            case GET_INFLIGHT_FD -> getInflightFd(p, size);
            case SET_INFLIGHT_FD -> setInflightFd(p, size);
            case SET_BACKEND_REQ_FD -> {
                if (backendChannel != null) backendChannel.close();
                backendChannel = UnixSocket.adopt(fds.take(0));
            }
            case SET_STATUS -> {
                long s = u64(p, 0);
                if (s > 0xff) throw new ProtocolException(req, "status 0x" + Long.toHexString(s) + " is not a u8");
                status = (int) s;
            }
            case GET_STATUS -> sendU64(req, status);
            case SET_VRING_ENDIAN -> { return u32(p, VRING_STATE_NUM_OFFSET) == 0; }  // little-endian only
            case SEND_RARP, NET_SET_MTU -> { return false; }                        // not offered; refuse, keep the session
            default -> throw new ProtocolException(req, "not supported by this back-end");
        }
        return true;
    }

    private void setFeatures(long f) {
        if ((f & ~offeredFeatures) != 0) throw new ProtocolException(Request.SET_FEATURES, "features 0x" + Long.toHexString(f & ~offeredFeatures) + " were never offered");
        boolean logWas = VirtioFeature.has(ackedFeatures, VirtioFeature.VHOST_F_LOG_ALL);
        ackedFeatures = f;
        featuresSet = true;
        if (!VirtioFeature.has(f, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)) {
            for (RingState r : rings) r.enabled = true;   // without protocol features rings start enabled
        }
        device.featuresAcked(f);
        boolean logNow = VirtioFeature.has(f, VirtioFeature.VHOST_F_LOG_ALL);
        if (logNow != logWas) for (QueueWorker w : workers) w.setDirtyLog(logNow ? dirtyLog : null);
    }

    // ---- memory -----------------------------------------------------------------------------------

    private void setMemTable(MemorySegment p, int size) {
        Request req = Request.SET_MEM_TABLE;
        if (size < MEM_TABLE_HEADER_SIZE) throw new ProtocolException(req, "payload of " + size + " bytes has no region count");
        long n = u32(p, 0);
        if (n < 1 || n > MAX_MEM_TABLE_REGIONS) throw new ProtocolException(req, "region count " + n + " not in 1.." + MAX_MEM_TABLE_REGIONS);
        long exact = MEM_TABLE_HEADER_SIZE + REGION_SIZE * n;
        if (size != exact && size != MEM_TABLE_HEADER_SIZE + REGION_SIZE * MAX_MEM_TABLE_REGIONS) {
            throw new ProtocolException(req, "payload is " + size + " bytes for " + n + " regions, expected " + exact);
        }
        if (fds.count() != n) throw new ProtocolException(req, n + " regions but " + fds.count() + " file descriptors");
        List<MemoryRegion> regions = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) regions.add(mapRegion(req, p, MEM_TABLE_HEADER_SIZE + (long) REGION_SIZE * i, fds.take(i)));
            installMemory(GuestMemory.of(regions));
        } catch (RuntimeException e) {
            for (MemoryRegion r : regions) r.release();
            throw e;
        }
    }

    private void addMemRegion(MemorySegment p, int size) {
        Request req = Request.ADD_MEM_REG;
        expectSize(req, size, SINGLE_REGION_SIZE);
        if (memory.regionCount() >= MAX_MEM_SLOTS) throw new ProtocolException(req, "all " + MAX_MEM_SLOTS + " memory slots are in use");
        MemoryRegion region = mapRegion(req, p, SINGLE_REGION_OFFSET, fds.take(0));
        GuestMemory next;
        try {
            next = memory.with(region);
        } catch (IllegalArgumentException e) {
            region.release();
            throw new ProtocolException(req, e.getMessage());
        }
        installMemory(next);
    }

    private boolean removeMemRegion(MemorySegment p, int size) {
        expectSize(Request.REM_MEM_REG, size, SINGLE_REGION_SIZE);
        long at = SINGLE_REGION_OFFSET;
        GuestMemory next = memory.without(u64(p, at + REGION_GPA_OFFSET), u64(p, at + REGION_SIZE_OFFSET), u64(p, at + REGION_FRONTEND_VA_OFFSET));
        if (next == null) {
            refusals.warn("REM_MEM_REG: no region at gpa 0x{} of {} bytes", Long.toHexString(u64(p, at + REGION_GPA_OFFSET)), u64(p, at + REGION_SIZE_OFFSET));
            return false;
        }
        installMemory(next);
        return true;
    }

    /** Maps one described region, reusing the current mapping when it is the same piece of the same file. */
    private MemoryRegion mapRegion(Request req, MemorySegment p, long at, Fd fd) {
        try (fd) {
            long gpa = u64(p, at + REGION_GPA_OFFSET), len = u64(p, at + REGION_SIZE_OFFSET);
            long va = u64(p, at + REGION_FRONTEND_VA_OFFSET), off = u64(p, at + REGION_MMAP_OFFSET_OFFSET);
            if (len <= 0) throw new ProtocolException(req, "region size " + Long.toUnsignedString(len) + " is invalid");
            if (off < 0) throw new ProtocolException(req, "mmap offset " + Long.toUnsignedString(off) + " is invalid");
            if (Long.compareUnsigned(gpa + len - 1, gpa) < 0 || Long.compareUnsigned(va + len - 1, va) < 0) {
                throw new ProtocolException(req, "region at gpa 0x" + Long.toHexString(gpa) + " of " + len + " bytes wraps the address space");
            }
            long fileSize = Memfd.size(fd.value());
            if (fileSize > 0 && (off > fileSize || len > fileSize - off)) {
                // a regular file or memfd must cover the region, or touching it would SIGBUS the daemon
                throw new ProtocolException(req, "region [" + off + ", +" + len + ") lies beyond the end of its " + fileSize + "-byte file");
            }
            long[] file = MemoryRegion.fileIdentity(fd);
            for (int i = 0; i < memory.regionCount(); i++) {
                MemoryRegion existing = memory.regionInfo(i);
                if (existing.sameMapping(file, gpa, len, va, off)) return existing.share();   // keep the mapping in-flight I/O uses
            }
            return MemoryRegion.map(fd, gpa, len, va, off);
        }
    }

    private void installMemory(GuestMemory next) {
        GuestMemory old = memory;
        memory = next;
        for (QueueWorker w : workers) w.swapMemory(next);   // returns once no worker can touch the old snapshot
        old.close();
        for (RingState r : rings) tryStart(r);
        log.info("guest memory: {} region(s), {} MiB", next.regionCount(), totalBytes(next) >> 20);
    }

    private static long totalBytes(GuestMemory m) {
        long t = 0;
        for (int i = 0; i < m.regionCount(); i++) t += m.regionInfo(i).sizeBytes();
        return t;
    }

    private void setLogBase(MemorySegment p, int size) {
        Request req = Request.SET_LOG_BASE;
        if (!ProtocolFeature.has(ackedProtocolFeatures, ProtocolFeature.LOG_SHMFD)) throw new ProtocolException(req, "LOG_SHMFD was not negotiated");
        expectSize(req, size, LOG_SIZE);
        expectFds(req, 1, 1);
        long len = u64(p, LOG_SIZE_OFFSET), off = u64(p, LOG_OFFSET_OFFSET);
        if (len <= 0 || off < 0 || len > (1L << 40)) throw new ProtocolException(req, "log of " + Long.toUnsignedString(len) + " bytes at offset " + Long.toUnsignedString(off) + " is invalid");
        DirtyLog next;
        try (Fd fd = fds.take(0)) {
            long fileSize = Memfd.size(fd.value());
            if (fileSize > 0 && (off > fileSize || len > fileSize - off)) throw new ProtocolException(req, "log lies beyond the end of its file");
            next = DirtyLog.map(fd, len, off);
        }
        DirtyLog old = dirtyLog;
        dirtyLog = next;
        if (VirtioFeature.has(ackedFeatures, VirtioFeature.VHOST_F_LOG_ALL)) for (QueueWorker w : workers) w.setDirtyLog(next);
        if (old != null) old.close();
        sendU64(req, 0);
    }

    // ---- rings ------------------------------------------------------------------------------------

    private void setVringNum(MemorySegment p) {
        RingState r = ring(Request.SET_VRING_NUM, u32(p, VRING_STATE_INDEX_OFFSET));
        long num = u32(p, VRING_STATE_NUM_OFFSET);
        int max = Math.min(device.maxQueueSize(), RingLayout.MAX_QUEUE_SIZE);
        if (num < 1 || num > max) throw new ProtocolException(Request.SET_VRING_NUM, "ring " + r.index + " size " + num + " not in 1.." + max);
        if (r.started) throw new ProtocolException(Request.SET_VRING_NUM, "ring " + r.index + " is running");
        r.size = (int) num;
    }

    private void setVringAddr(MemorySegment p, int size) {
        Request req = Request.SET_VRING_ADDR;
        expectSize(req, size, VRING_ADDR_SIZE);
        RingState r = ring(req, u32(p, VRING_ADDR_INDEX_OFFSET));
        long flags = u32(p, VRING_ADDR_FLAGS_OFFSET);
        if ((flags & ~VRING_F_LOG) != 0) throw new ProtocolException(req, "unknown ring address flags 0x" + Long.toHexString(flags));
        if (r.started) {
            // QEMU re-sends the addresses to switch used-ring logging on a running ring; only that may change
            if (r.descVa != u64(p, VRING_ADDR_DESC_OFFSET) || r.driverVa != u64(p, VRING_ADDR_AVAIL_OFFSET) || r.deviceVa != u64(p, VRING_ADDR_USED_OFFSET)) {
                throw new ProtocolException(req, "ring " + r.index + " is running; its addresses cannot move");
            }
        }
        r.descVa = u64(p, VRING_ADDR_DESC_OFFSET);
        r.deviceVa = u64(p, VRING_ADDR_USED_OFFSET);
        r.driverVa = u64(p, VRING_ADDR_AVAIL_OFFSET);
        r.logGpa = u64(p, VRING_ADDR_LOG_OFFSET);
        r.logUsed = (flags & VRING_F_LOG) != 0;
        r.addressesSet = true;
        if (r.started) workers[workerOfQueue[r.index]].setUsedLog(r.index, r.logGpa, r.logUsed);
        else tryStart(r);
    }

    private void setVringBase(MemorySegment p) {
        RingState r = ring(Request.SET_VRING_BASE, u32(p, VRING_STATE_INDEX_OFFSET));
        long num = u32(p, VRING_STATE_NUM_OFFSET);
        if (r.started) throw new ProtocolException(Request.SET_VRING_BASE, "ring " + r.index + " is running");
        if (!packed() && num > 0xffff) throw new ProtocolException(Request.SET_VRING_BASE, "split ring base " + num + " exceeds 65535");
        r.base = (int) num;
    }

    private void getVringBase(MemorySegment p) {
        RingState r = ring(Request.GET_VRING_BASE, u32(p, VRING_STATE_INDEX_OFFSET));
        if (r.started) r.base = stopRing(r);
        if (r.kick != null) { r.kick.close(); r.kick = null; }
        r.kickReceived = false;
        ringsRunning = anyStarted();
        MemorySegment out = replyBody(VRING_STATE_SIZE);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, VRING_STATE_INDEX_OFFSET, r.index);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, VRING_STATE_NUM_OFFSET, r.base);
        sendReply(Request.GET_VRING_BASE, VRING_STATE_SIZE, new int[0]);
    }

    private void setVringFd(Request req, long value) {
        if ((value & ~(VRING_INDEX_MASK | VRING_NOFD_MASK)) != 0) throw new ProtocolException(req, "reserved bits set in 0x" + Long.toHexString(value));
        RingState r = ring(req, value & VRING_INDEX_MASK);
        boolean noFd = (value & VRING_NOFD_MASK) != 0;
        expectFds(req, noFd ? 0 : 1, noFd ? 0 : 1);
        EventFd fd = noFd ? null : EventFd.adopt(fds.take(0));
        QueueWorker w = workers[workerOfQueue[r.index]];
        EventFd old;
        switch (req) {
            case SET_VRING_KICK -> {
                old = r.kick;
                r.kick = fd;
                r.kickReceived = true;
                if (r.started) w.setKick(r.index, fd);
                else tryStart(r);
            }
            case SET_VRING_CALL -> {
                old = r.call;
                r.call = fd;
                if (r.started) w.setCall(r.index, fd);
            }
            default -> {
                old = r.err;
                r.err = fd;
                if (r.started) w.setErr(r.index, fd);
            }
        }
        if (old != null) old.close();   // the worker has acknowledged the replacement
    }

    private void setVringEnable(MemorySegment p) {
        RingState r = ring(Request.SET_VRING_ENABLE, u32(p, VRING_STATE_INDEX_OFFSET));
        long num = u32(p, VRING_STATE_NUM_OFFSET);
        if (num > 1) throw new ProtocolException(Request.SET_VRING_ENABLE, "enable value " + num + " is not 0 or 1");
        r.enabled = num == 1;
        if (r.started) workers[workerOfQueue[r.index]].setEnabled(r.index, r.enabled);
    }

    private boolean packed() { return VirtioFeature.has(ackedFeatures, VirtioFeature.RING_PACKED); }

    /** Starts the ring once it has a kick, a size, addresses and memory; SET_VRING_KICK is the usual trigger. */
    private void tryStart(RingState r) {
        if (r.started || !r.kickReceived || r.size == 0 || !r.addressesSet || memory.regionCount() == 0) return;
        Request req = Request.SET_VRING_KICK;
        boolean packed = packed();
        long descLen = RingLayout.descTableSize(r.size);
        long driverLen = packed ? RingLayout.EVENT_SUPPRESS_SIZE : RingLayout.availSize(r.size);
        long deviceLen = packed ? RingLayout.EVENT_SUPPRESS_SIZE : RingLayout.usedSize(r.size);
        long desc = memory.gpaOfFrontendVa(r.descVa, descLen), driver = memory.gpaOfFrontendVa(r.driverVa, driverLen);
        long dev = memory.gpaOfFrontendVa(r.deviceVa, deviceLen);
        if (desc == -1 || driver == -1 || dev == -1) throw new ProtocolException(req, "ring " + r.index + " addresses are not inside guest memory");
        RingAddresses addr = new RingAddresses(r.size, desc, driver, dev, r.logGpa, r.logUsed);
        boolean eventIdx = VirtioFeature.has(ackedFeatures, VirtioFeature.RING_EVENT_IDX);
        boolean indirect = VirtioFeature.has(ackedFeatures, VirtioFeature.RING_INDIRECT_DESC);
        DeviceRing ring;
        try {
            ring = packed ? new PackedRing(addr, eventIdx, indirect, r.base) : new SplitRing(addr, eventIdx, indirect, r.base);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(req, "ring " + r.index + ": " + e.getMessage());
        }
        if (!ring.attach(memory)) throw new ProtocolException(req, "ring " + r.index + " areas are misaligned or outside guest memory");
        int[] resubmit = new int[0];
        if (inflight != null && ring instanceof SplitRing split) {
            if (inflightQueueSize == r.size && (long) (r.index + 1) * SplitInflight.regionSize(r.size) <= inflight.byteSize()) {
                long regionSize = SplitInflight.regionSize(r.size);
                resubmit = split.trackInflight(new SplitInflight(inflight.asSlice(r.index * regionSize, regionSize), r.size));
            } else {
                log.warn("ring {}: inflight buffer is for queue size {}, ring has {}; not tracking in-flight requests", r.index, inflightQueueSize, r.size);
            }
        }
        QueueWorker w = workers[workerOfQueue[r.index]];
        QueueWorker.ActiveQueue q = w.new ActiveQueue(r.index, ring, metrics[r.index], ackedFeatures, resubmit, r.kick, r.call, r.err, r.enabled);
        QueueHandler handler = device.startQueue(r.index, q);
        if (handler == null) throw new ProtocolException(req, "device refused to start queue " + r.index);
        q.handler = handler;
        w.startQueue(q);
        r.started = true;
        ringsRunning = true;
        log.info("queue {} started: {} ring of {}, event idx {}, base {}{}", r.index, packed ? "packed" : "split", r.size,
                eventIdx ? "on" : "off", Integer.toHexString(r.base), resubmit.length > 0 ? ", resubmitting " + resubmit.length : "");
    }

    /** Stops a started ring, waiting (bounded) for its deferred requests; returns its base. */
    private int stopRing(RingState r) {
        int base = waitStopped(workers[workerOfQueue[r.index]].stopQueue(r.index), r);
        r.started = false;
        return base;
    }

    private int waitStopped(CompletableFuture<Long> f, RingState r) {
        try {
            long base = f.get(options.stopTimeout().toMillis() + 10_000, TimeUnit.MILLISECONDS);
            return base == QueueWorker.NOT_RUNNING ? r.base : (int) base;
        } catch (Exception e) {
            throw new IllegalStateException("queue " + r.index + " did not stop: " + e);
        }
    }

    private boolean anyStarted() {
        for (RingState r : rings) if (r.started) return true;
        return false;
    }

    /** Stops every ring in parallel (deferred requests complete first). */
    private void stopAllRings() {
        List<CompletableFuture<Long>> pending = new ArrayList<>();
        List<RingState> which = new ArrayList<>();
        for (RingState r : rings) {
            if (!r.started) continue;
            pending.add(workers[workerOfQueue[r.index]].stopQueue(r.index));
            which.add(r);
        }
        for (int i = 0; i < pending.size(); i++) {
            RingState r = which.get(i);
            try { r.base = waitStopped(pending.get(i), r); } catch (IllegalStateException e) { log.warn(e.getMessage()); }
            r.started = false;
        }
        ringsRunning = false;
    }

    private void resetDevice() {
        stopAllRings();
        for (RingState r : rings) r.reset();
        ackedFeatures = 0;
        featuresSet = false;
        status = 0;
        device.reset();
    }

    // ---- config and inflight ----------------------------------------------------------------------

    private void getConfig(MemorySegment p, int size) {
        Request req = Request.GET_CONFIG;
        if (size < CONFIG_HEADER_SIZE) throw new ProtocolException(req, "payload of " + size + " bytes has no config header");
        long off = u32(p, CONFIG_OFFSET_OFFSET), len = u32(p, CONFIG_SIZE_OFFSET);
        MemorySegment config = device.configSpace();
        MemorySegment out = replyBody(CONFIG_HEADER_SIZE + (int) Math.min(len, CONFIG_MAX_SIZE));
        if (len > CONFIG_MAX_SIZE || size != CONFIG_HEADER_SIZE + len || off > config.byteSize() || len > config.byteSize() - off) {
            refusals.warn("GET_CONFIG of {} bytes at offset {} refused (config space is {} bytes)", len, off, config.byteSize());
            sendReply(req, 0, new int[0]);   // zero-length payload: the spec's error answer
            return;
        }
        MemorySegment.copy(p, 0, out, 0, CONFIG_HEADER_SIZE);
        MemorySegment.copy(config, off, out, CONFIG_HEADER_SIZE, len);
        sendReply(req, CONFIG_HEADER_SIZE + (int) len, new int[0]);
    }

    private boolean setConfig(MemorySegment p, int size) {
        Request req = Request.SET_CONFIG;
        if (size < CONFIG_HEADER_SIZE) throw new ProtocolException(req, "payload of " + size + " bytes has no config header");
        long off = u32(p, CONFIG_OFFSET_OFFSET), len = u32(p, CONFIG_SIZE_OFFSET), flags = u32(p, CONFIG_FLAGS_OFFSET);
        long configSize = device.configSpace().byteSize();
        if (len > CONFIG_MAX_SIZE || size != CONFIG_HEADER_SIZE + len || off > configSize || len > configSize - off || flags > 1) {
            refusals.warn("SET_CONFIG of {} bytes at offset {} refused", len, off);
            return false;
        }
        return device.writeConfig((int) off, p.asSlice(CONFIG_HEADER_SIZE, len), flags == CONFIG_FLAG_MIGRATION);
    }

    private void getInflightFd(MemorySegment p, int size) {
        Request req = Request.GET_INFLIGHT_FD;
        if (size != INFLIGHT_SIZE && size != INFLIGHT_PACKED_SIZE) throw new ProtocolException(req, "payload is " + size + " bytes, expected 24");
        int numQueues = Short.toUnsignedInt(p.get(ValueLayout.JAVA_SHORT_UNALIGNED, INFLIGHT_NUM_QUEUES_OFFSET));
        int queueSize = Short.toUnsignedInt(p.get(ValueLayout.JAVA_SHORT_UNALIGNED, INFLIGHT_QUEUE_SIZE_OFFSET));
        if (numQueues < 1 || numQueues > rings.length || queueSize < 1 || queueSize > device.maxQueueSize()) {
            throw new ProtocolException(req, numQueues + " queues of size " + queueSize + " do not fit this device");
        }
        long mmapSize = numQueues * SplitInflight.regionSize(queueSize);
        try (Fd fd = Memfd.create("vhostj-inflight", mmapSize)) {
            Arena a = Arena.ofShared();
            MemorySegment m = Memfd.mapShared(fd.value(), 0, mmapSize, true, a);
            m.fill((byte) 0);
            adoptInflight(a, m, queueSize);
            MemorySegment out = replyBody(INFLIGHT_SIZE);
            out.fill((byte) 0);
            out.set(ValueLayout.JAVA_LONG_UNALIGNED, INFLIGHT_MMAP_SIZE_OFFSET, mmapSize);
            out.set(ValueLayout.JAVA_LONG_UNALIGNED, INFLIGHT_MMAP_OFFSET_OFFSET, 0);
            out.set(ValueLayout.JAVA_SHORT_UNALIGNED, INFLIGHT_NUM_QUEUES_OFFSET, (short) numQueues);
            out.set(ValueLayout.JAVA_SHORT_UNALIGNED, INFLIGHT_QUEUE_SIZE_OFFSET, (short) queueSize);
            sendReply(req, INFLIGHT_SIZE, new int[] {fd.value()});
        }
    }

    private void setInflightFd(MemorySegment p, int size) {
        Request req = Request.SET_INFLIGHT_FD;
        if (size != INFLIGHT_SIZE && size != INFLIGHT_PACKED_SIZE) throw new ProtocolException(req, "payload is " + size + " bytes, expected 24");
        long mmapSize = u64(p, INFLIGHT_MMAP_SIZE_OFFSET), mmapOffset = u64(p, INFLIGHT_MMAP_OFFSET_OFFSET);
        int numQueues = Short.toUnsignedInt(p.get(ValueLayout.JAVA_SHORT_UNALIGNED, INFLIGHT_NUM_QUEUES_OFFSET));
        int queueSize = Short.toUnsignedInt(p.get(ValueLayout.JAVA_SHORT_UNALIGNED, INFLIGHT_QUEUE_SIZE_OFFSET));
        if (numQueues < 1 || numQueues > rings.length || queueSize < 1 || queueSize > device.maxQueueSize()) {
            throw new ProtocolException(req, numQueues + " queues of size " + queueSize + " do not fit this device");
        }
        if (mmapSize < numQueues * SplitInflight.regionSize(queueSize) || mmapSize > (1L << 30) || mmapOffset < 0 || (mmapOffset & 4095) != 0) {
            throw new ProtocolException(req, "inflight area of " + mmapSize + " bytes at " + mmapOffset + " does not fit " + numQueues + " queues of " + queueSize);
        }
        try (Fd fd = fds.take(0)) {
            long fileSize = Memfd.size(fd.value());
            if (mmapOffset > fileSize || mmapSize > fileSize - mmapOffset) throw new ProtocolException(req, "inflight area lies beyond the end of its file");
            Arena a = Arena.ofShared();
            adoptInflight(a, Memfd.mapShared(fd.value(), mmapOffset, mmapSize, true, a), queueSize);
        }
    }

    private void adoptInflight(Arena a, MemorySegment m, int queueSize) {
        inflightMappings.add(a);   // unmapped when the connection ends, after every ring stopped
        inflight = m;
        inflightQueueSize = queueSize;
    }

    // ---- replies ----------------------------------------------------------------------------------

    private MemorySegment replyBody(int size) { return reply.asSlice(MessageHeader.SIZE, size); }

    private void sendU64(Request req, long value) {
        replyBody(8).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
        sendReply(req, 8, new int[0]);
    }

    private void sendReply(Request req, int size, int[] replyFds) {
        reply.set(ValueLayout.JAVA_INT_UNALIGNED, MessageHeader.REQUEST_OFFSET, req.code);
        reply.set(ValueLayout.JAVA_INT_UNALIGNED, MessageHeader.FLAGS_OFFSET, MessageHeader.VERSION | MessageHeader.REPLY);
        reply.set(ValueLayout.JAVA_INT_UNALIGNED, MessageHeader.SIZE_OFFSET, size);
        int r = socket.send(reply, MessageHeader.SIZE + size, replyFds);
        if (r < 0) throw new ErrnoException("sendmsg(" + req + " reply)", -r);
    }

    /** Tells the front-end the config space changed (BACKEND CONFIG_CHANGE_MSG), if it gave us a channel. */
    boolean notifyConfigChanged() {
        UnixSocket ch = backendChannel;
        if (ch == null || !ProtocolFeature.has(ackedProtocolFeatures, ProtocolFeature.CONFIG)) return false;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MessageHeader.SIZE);
            m.set(ValueLayout.JAVA_INT_UNALIGNED, 0, org.vhostj.vhost.protocol.BackendRequest.CONFIG_CHANGE_MSG.code);
            m.set(ValueLayout.JAVA_INT_UNALIGNED, 4, MessageHeader.VERSION);
            m.set(ValueLayout.JAVA_INT_UNALIGNED, 8, 0);
            synchronized (ch) { return ch.send(m, MessageHeader.SIZE) == 0; }
        }
    }

    // ---- teardown ---------------------------------------------------------------------------------

    private void cleanup() {
        try {
            stopAllRings();
        } catch (RuntimeException e) {
            log.warn("stopping rings failed: {}", e.toString());
        }
        for (RingState r : rings) r.reset();
        for (QueueWorker w : workers) {
            try { w.setDirtyLog(null); w.swapMemory(GuestMemory.empty()); } catch (RuntimeException e) { log.warn(e.getMessage()); }
        }
        memory.close();
        memory = GuestMemory.empty();
        if (dirtyLog != null) dirtyLog.close();
        for (Arena a : inflightMappings) a.close();
        inflightMappings.clear();
        inflight = null;
        if (backendChannel != null) backendChannel.close();
        fds.close();
        try { device.reset(); } catch (RuntimeException e) { log.warn("device reset failed: {}", e.toString()); }
        arena.close();
        socket.close();
    }
}
