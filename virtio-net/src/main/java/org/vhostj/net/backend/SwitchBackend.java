package org.vhostj.net.backend;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.net.FrameBuffers;
import org.vhostj.net.Macs;
import org.vhostj.sys.Errno;
import org.vhostj.sys.Fd;
import org.vhostj.sys.LibC;
import org.vhostj.sys.NetCalls;

/**
 * {@code switch:NAME}: a userspace learning switch with no central process. Every queue pair of every device
 * attached to switch NAME (in this process or another) is one AF_UNIX datagram socket in the abstract
 * namespace, named {@code @vhostj-switch/NAME/DEVICE/PAIR}; a datagram is one bare Ethernet frame.
 * <ul>
 *   <li><b>Directory:</b> the ports of a switch are the sockets with that name prefix in /proc/net/unix (the
 *   kernel's list, so a crashed daemon's ports vanish with it). One background thread per JVM rescans it every
 *   {@value #SCAN_MILLIS} ms and publishes an immutable snapshot; a new port scans once when it opens.</li>
 *   <li><b>Forwarding:</b> a frame to a unicast MAC this port has learned goes to the socket it was learned
 *   from; a broadcast, multicast or unknown destination is flooded to pair 0 of every other device, so each
 *   guest gets one copy. A port learns a source MAC from each frame it receives (the sender's address comes
 *   with the datagram). Entries age out after {@value #AGE_SECONDS} s and are forgotten when their socket is
 *   gone.</li>
 *   <li><b>Congestion:</b> sends never block; a receiver whose queue is full (net.unix.max_dgram_qlen
 *   datagrams, default 10, or its buffer) makes the send fail with EAGAIN and the frame is dropped and counted,
 *   as a switch drops on a congested port.</li>
 * </ul>
 * Threads: the daemon's main thread opens and closes; each port is used by its pair's worker thread only;
 * the directory thread only publishes snapshots (a volatile reference).
 */
public final class SwitchBackend implements NetBackend {
    private static final Logger log = LoggerFactory.getLogger(SwitchBackend.class);
    static final String PREFIX = "vhostj-switch/";
    static final long SCAN_MILLIS = 100, AGE_SECONDS = 300;
    private static final int SOCKET_BUFFER_BYTES = 4 << 20;
    private static final AtomicInteger DEVICES = new AtomicInteger();
    private static final List<SwitchBackend> OPEN = new CopyOnWriteArrayList<>();
    private static Thread scanner;

    private final String name, deviceId;
    private final SwitchPort[] ports;
    volatile Peers peers = Peers.EMPTY;

    public SwitchBackend(String name, int pairs) {
        if (name.isEmpty() || name.length() > 40 || !name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("switch name must be 1..40 of [A-Za-z0-9._-]: '" + name + "'");
        }
        this.name = name;
        this.deviceId = ProcessHandle.current().pid() + "." + DEVICES.incrementAndGet();
        ports = new SwitchPort[pairs];
        try {
            for (int p = 0; p < pairs; p++) ports[p] = new SwitchPort(this, p, NetCalls.bindAbstractDatagram(address(deviceId, p), SOCKET_BUFFER_BYTES));
        } catch (RuntimeException e) {
            close();
            throw new IllegalArgumentException("switch " + name + ": " + e.getMessage(), e);
        }
        rescan();
        register(this);
        log.info("switch {}: device {} attached with {} port(s); {} other device(s) on the switch", name, deviceId, pairs, peers.count());
    }

    private String address(String device, int pair) { return PREFIX + name + "/" + device + "/" + pair; }

    @Override public String describe() { return "switch:" + name + " (device " + deviceId + ")"; }

    @Override public int maxPairs() { return ports.length; }

    @Override public NetPort port(int pair) { return ports[pair]; }

    /** Other devices on this switch in the last directory snapshot. */
    public int peerCount() { return peers.count(); }

    @Override
    public void close() {
        OPEN.remove(this);
        for (SwitchPort p : ports) if (p != null) p.close();
    }

    // ---- directory ---------------------------------------------------------------------------------

    /** Pair-0 sockets of the other devices on the switch, as sockaddr_un (abstract), immutable. */
    record Peers(MemorySegment[] addrs, int[] lengths) {
        static final Peers EMPTY = new Peers(new MemorySegment[0], new int[0]);

        int count() { return lengths.length; }

        MemorySegment addr(int i) { return addrs[i]; }
    }

    private static synchronized void register(SwitchBackend b) {
        OPEN.add(b);
        if (scanner == null) {
            scanner = Thread.ofPlatform().daemon(true).name("vhostj-switch-directory").start(() -> {
                while (true) {
                    try {
                        Thread.sleep(SCAN_MILLIS);
                        if (!OPEN.isEmpty()) scanAll();
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        log.warn("switch directory scan failed: {}", e.toString());
                    }
                }
            });
        }
    }

    private static void scanAll() {
        List<String> names = abstractDatagramNames();
        for (SwitchBackend b : OPEN) b.update(names);
    }

    private void rescan() { update(abstractDatagramNames()); }

    private void update(List<String> names) {
        String mine = PREFIX + name + "/";
        List<String> others = new ArrayList<>();
        for (String n : names) {
            if (!n.startsWith(mine) || !n.endsWith("/0")) continue;
            String device = n.substring(mine.length(), n.length() - 2);
            if (!device.equals(deviceId) && !device.contains("/")) others.add(n);
        }
        others.sort(null);
        Peers old = peers;
        if (old.count() == others.size() && sameNames(old, others)) return;
        Arena auto = Arena.ofAuto();
        MemorySegment[] addrs = new MemorySegment[others.size()];
        int[] lengths = new int[others.size()];
        for (int i = 0; i < others.size(); i++) {
            addrs[i] = auto.allocate(NetCalls.SOCKADDR_UN_SIZE, 8);
            lengths[i] = NetCalls.abstractAddress(addrs[i], others.get(i));
        }
        peers = new Peers(addrs, lengths);
        log.debug("switch {}: device {} sees {} other device(s)", name, deviceId, others.size());
    }

    private static boolean sameNames(Peers p, List<String> names) {
        for (int i = 0; i < names.size(); i++) {
            MemorySegment a = p.addr(i);
            byte[] n = names.get(i).getBytes(StandardCharsets.UTF_8);
            if (p.lengths()[i] != NetCalls.SUN_PATH_OFFSET + 1 + n.length) return false;
            if (MemorySegment.mismatch(a, NetCalls.SUN_PATH_OFFSET + 1, NetCalls.SUN_PATH_OFFSET + 1 + n.length,
                    MemorySegment.ofArray(n), 0, n.length) != -1) return false;
        }
        return true;
    }

    /** Abstract AF_UNIX datagram socket names (without '@') of this network namespace, from /proc/net/unix. */
    static List<String> abstractDatagramNames() {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
                // Num RefCount Protocol Flags Type St Inode Path
                String[] f = line.trim().split("\\s+");
                if (f.length >= 8 && f[4].equals("0002") && f[7].startsWith("@" + PREFIX)) out.add(f[7].substring(1));
            }
        } catch (IOException e) {
            log.warn("cannot read /proc/net/unix: {}", e.toString());
        }
        return out;
    }

    // ---- port --------------------------------------------------------------------------------------

    /** One queue pair's socket, learning table and message header; used only by that pair's worker. */
    static final class SwitchPort implements NetPort {
        private static final int TABLE = 256, PROBES = 8, ECONNREFUSED = 111;
        private static final long AGE_NANOS = AGE_SECONDS * 1_000_000_000L;
        private final SwitchBackend sw;
        private final Fd socket;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment msg, from, tableAddrs;
        private final MemorySegment[] tableAddr = new MemorySegment[TABLE];
        private final long[] tableMac = new long[TABLE], tableTime = new long[TABLE];
        private final int[] tableLen = new int[TABLE];
        private int fromLen;

        SwitchPort(SwitchBackend sw, int pair, Fd socket) {
            this.sw = sw;
            this.socket = socket;
            msg = arena.allocate(NetCalls.MSGHDR_SIZE, 8);
            from = arena.allocate(NetCalls.SOCKADDR_UN_SIZE, 8);
            tableAddrs = arena.allocate((long) TABLE * NetCalls.SOCKADDR_UN_SIZE, 8);
            java.util.Arrays.fill(tableMac, -1);
            for (int i = 0; i < TABLE; i++) tableAddr[i] = tableAddrs.asSlice((long) i * NetCalls.SOCKADDR_UN_SIZE, NetCalls.SOCKADDR_UN_SIZE);
        }

        @Override public int rxFd() { return socket.value(); }

        private void header(MemorySegment name, int nameLen, FrameBuffers bufs) {
            msg.set(ValueLayout.ADDRESS, NetCalls.MSG_NAME_OFFSET, name);
            msg.set(ValueLayout.JAVA_INT, NetCalls.MSG_NAMELEN_OFFSET, nameLen);
            msg.set(ValueLayout.ADDRESS, NetCalls.MSG_IOV_OFFSET, bufs.iov().segment());
            msg.set(ValueLayout.JAVA_LONG, NetCalls.MSG_IOVLEN_OFFSET, bufs.iov().count());
            msg.set(ValueLayout.JAVA_LONG, NetCalls.MSG_CONTROL_OFFSET, 0);
            msg.set(ValueLayout.JAVA_LONG, NetCalls.MSG_CONTROLLEN_OFFSET, 0);
            msg.set(ValueLayout.JAVA_INT, NetCalls.MSG_FLAGS_OFFSET, 0);
        }

        @Override
        public long receive(FrameBuffers into) {
            header(from, NetCalls.SOCKADDR_UN_SIZE, into);
            long n = LibC.recvmsg(socket.value(), msg, NetCalls.MSG_DONTWAIT | NetCalls.MSG_TRUNC);
            fromLen = n >= 0 ? msg.get(ValueLayout.JAVA_INT, NetCalls.MSG_NAMELEN_OFFSET) : 0;
            return n;
        }

        @Override public boolean learns() { return true; }

        @Override
        public void received(long srcMac) {
            if (Macs.isMulticast(srcMac) || fromLen <= NetCalls.SUN_PATH_OFFSET || fromLen > NetCalls.SOCKADDR_UN_SIZE) return;
            int slot = find(srcMac);
            long now = System.nanoTime();
            if (slot < 0) slot = victim(srcMac, now);
            tableMac[slot] = srcMac;
            tableTime[slot] = now;
            tableLen[slot] = fromLen;
            MemorySegment.copy(from, 0, tableAddrs, (long) slot * NetCalls.SOCKADDR_UN_SIZE, fromLen);
        }

        private int find(long mac) {
            int h = hash(mac);
            for (int k = 0; k < PROBES; k++) {
                int s = (h + k) & (TABLE - 1);
                if (tableMac[s] == mac) return s;
            }
            return -1;
        }

        /** A free probe slot for {@code mac}, or the oldest one. */
        private int victim(long mac, long now) {
            int h = hash(mac), oldest = h & (TABLE - 1);
            for (int k = 0; k < PROBES; k++) {
                int s = (h + k) & (TABLE - 1);
                if (tableMac[s] == -1 || now - tableTime[s] > AGE_NANOS) return s;
                if (tableTime[s] - tableTime[oldest] < 0) oldest = s;
            }
            return oldest;
        }

        private static int hash(long mac) { return (int) ((mac * 0x9E37_79B9_7F4A_7C15L) >>> 56); }

        @Override
        public long send(FrameBuffers frame, long dstMac, long srcMac) {
            if (!Macs.isMulticast(dstMac)) {
                int s = find(dstMac);
                if (s >= 0 && System.nanoTime() - tableTime[s] <= AGE_NANOS) {
                    header(tableAddr[s], tableLen[s], frame);
                    long r = LibC.sendmsg(socket.value(), msg, NetCalls.MSG_DONTWAIT | NetCalls.MSG_NOSIGNAL);
                    if (r != -ECONNREFUSED && r != -Errno.ENOENT) return r;
                    tableMac[s] = -1;   // that port is gone: forget it and flood
                }
            }
            Peers p = sw.peers;
            long sent = frame.totalBytes();
            int eagain = 0;
            for (int i = 0; i < p.count(); i++) {
                header(p.addr(i), p.lengths()[i], frame);
                long r = LibC.sendmsg(socket.value(), msg, NetCalls.MSG_DONTWAIT | NetCalls.MSG_NOSIGNAL);
                if (r == -Errno.EAGAIN) eagain++;
            }
            return eagain > 0 && eagain == p.count() ? -Errno.EAGAIN : sent;
        }

        void close() {
            socket.close();
            arena.close();
        }
    }
}
