package org.vhostj.harness.hostile;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.vhostj.harness.frontend.Frontend;
import org.vhostj.harness.frontend.FrontendException;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.GuestRam;
import org.vhostj.harness.frontend.RawFrontend;
import org.vhostj.harness.frontend.VhostSession;
import org.vhostj.harness.frontend.VirtQueue;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.vhost.driver.BufferList;
import org.vhostj.vhost.driver.ChainCorruption;
import org.vhostj.vhost.driver.DriverRing;
import org.vhostj.vhost.driver.DriverSplitRing;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;

/**
 * Sends a backend what no VMM or guest driver would: malformed vhost-user messages (bad headers, sizes,
 * fds, memory tables, ring numbers and addresses) and malformed descriptor chains (loops, indices and
 * addresses out of range, nested or bad indirect tables, wrong order, short device headers, an avail
 * index jump). Each attack runs on a fresh connection; afterwards the suite checks that the backend
 * process lives, whether the attacked queue still serves, and that a fresh connection is set up and
 * served. Runs on the caller's thread.
 */
public final class HostileSuite {
    private final Supplier<DeviceProbe> probes;
    private VhostSession.Options base;
    private final long backendPid;
    private final long waitMillis;
    private final PrintStream log;
    private final List<Attack> results = new ArrayList<>();
    private int attackIndex;
    private java.util.regex.Pattern skip;
    private String stoppedBecause;

    /**
     * @param probes     makes the device probe for each session
     * @param waitMillis how long to wait for a reaction (a reply, a completion, a close)
     * @param log        one line per attack as it finishes, or null
     */
    public HostileSuite(Supplier<DeviceProbe> probes, VhostSession.Options base, long backendPid, long waitMillis, PrintStream log) {
        this.probes = probes;
        this.base = base;
        this.backendPid = backendPid;
        this.waitMillis = waitMillis;
        this.log = log;
    }

    public List<Attack> results() { return results; }

    /** Leaves out attacks whose name matches {@code regex} (a known crash that would end the run early). */
    public HostileSuite skip(String regex) {
        this.skip = regex == null ? null : java.util.regex.Pattern.compile(regex);
        return this;
    }

    /** Why the suite stopped before its end (the backend died or stopped serving), or null. */
    public String stoppedBecause() { return stoppedBecause; }

    /** Whether {@code name} is to run: not skipped, and the backend still serving after the previous attacks. */
    private boolean wanted(String name) {
        return stoppedBecause == null && (skip == null || !skip.matcher(name).find());
    }

    /** Runs every attack; returns the results (also kept in {@link #results()}). */
    public List<Attack> run() {
        // indirect attacks need indirect descriptors negotiated: use them whenever the backend offers them
        if (!base.rings().indirect()) {
            long offered;
            try (Frontend fe = Frontend.connect(base.socket(), base.timeoutMillis())) {
                offered = fe.getFeatures();
            }
            if (VirtioFeature.has(offered, VirtioFeature.RING_INDIRECT_DESC)) {
                base = base.withRings(new RingConfig(base.rings().queueSize(), base.rings().packed(), 4));
            }
        }
        if (!baselineServes()) {
            throw new FrontendException(FrontendException.Kind.IO, "baseline", "the backend does not serve a valid request on a fresh connection"
                    + " before any attack (" + baselineFailure + "; a backend that serves one connection only cannot be tested this way)");
        }
        preHandshakeAttacks();
        sessionMessageAttacks();
        chainAttacks();
        return results;
    }

    // ---- the checks --------------------------------------------------------------------------------------

    private VhostSession.Options options() { return probes.get().options(base); }

    private String baselineFailure;

    private boolean baselineServes() {
        DeviceProbe p = probes.get();
        try (VhostSession s = VhostSession.open(p.options(base))) {
            VirtQueue q = p.start(s);
            boolean ok = p.serves(q, Math.max(waitMillis, 2000));
            baselineFailure = ok ? null : "a valid request was not served";
            return ok;
        } catch (RuntimeException e) {
            baselineFailure = e.getMessage();
            return false;
        }
    }

    private Boolean alive() {
        if (backendPid <= 0) return null;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(backendPid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (Exception e) {
            return false;
        }
    }

    /** Records an attack: liveness and a fresh connection that must serve. */
    private void record(String name, String kind, String outcome, boolean accepted, Boolean sameQueue) {
        Boolean alive = alive();
        boolean serves = !Boolean.FALSE.equals(alive) && baselineServes();
        Attack a = new Attack(name, kind, outcome, accepted, alive, sameQueue, serves);
        results.add(a);
        if (!a.passed()) {
            stoppedBecause = "after \"" + name + "\" the backend " + (Boolean.FALSE.equals(alive) ? "process is gone" : "no longer serves a fresh connection")
                    + "; the remaining attacks were not run (restart it, or leave this attack out with --skip)";
        }
        attackIndex++;
        if (log != null) {
            log.printf("[%2d] %-44s %-6s %s%s%n", attackIndex, name, a.passed() ? (accepted ? "WARN" : "ok") : "FAIL", outcome,
                    sameQueue == null ? "" : sameQueue ? "; queue still serves" : "; queue stopped");
        }
    }

    // ---- protocol messages -------------------------------------------------------------------------------

    private static byte[] u64(long v) { return le(8).putLong(v).array(); }

    private static byte[] vringState(int index, int num) { return le(8).putInt(index).putInt(num).array(); }

    private static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    private static final int NEED_REPLY = MessageHeader.VERSION | MessageHeader.NEED_REPLY;

    /** What the backend did after a bad message: a reply, a close, silence; {@code accepted[0]} is set if it took it. */
    private String react(RawFrontend raw, int request, boolean replyExpected, boolean[] accepted) {
        long t = raw.timeoutMillis();
        raw.setTimeout(waitMillis);
        try {
            if (replyExpected) {
                try {
                    RawFrontend.Message m = raw.receive("attack");
                    if (m.request() != request) return "replied with an unrelated " + Request.of(m.request());
                    if (m.payload().length == 8) {
                        long v = m.u64();
                        if (v == 0) {
                            accepted[0] = true;
                            return "acknowledged it (0)";
                        }
                        return "refused it (NACK " + v + ")";
                    }
                    accepted[0] = m.payload().length > 0;
                    return m.payload().length == 0 ? "answered with an empty payload (refusal)" : "answered with " + m.payload().length + " bytes";
                } catch (FrontendException e) {
                    if (e.kind() == FrontendException.Kind.CLOSED || e.kind() == FrontendException.Kind.IO) return "closed the connection";
                    if (e.kind() == FrontendException.Kind.BAD_REPLY) return "sent a malformed reply: " + e.getMessage();
                }
            }
            if (raw.peerClosed(waitMillis)) return "closed the connection";
            try {
                raw.send(Request.GET_FEATURES.code, MessageHeader.VERSION, new byte[0]);
                for (int i = 0; i < 3; i++) {
                    RawFrontend.Message m = raw.receive("GET_FEATURES");
                    if (m.request() == Request.GET_FEATURES.code) return "ignored it; the connection still answers";
                }
                return "answered out of turn";
            } catch (FrontendException e) {
                return e.kind() == FrontendException.Kind.TIMEOUT ? "kept the connection open but stopped answering" : "closed the connection";
            }
        } finally {
            try { raw.setTimeout(t); } catch (RuntimeException ignored) { /* closed */ }
        }
    }

    /** A bad message on a brand-new connection, before any handshake. */
    private void raw(String name, byte[] bytes, int request, boolean replyExpected, int... fds) {
        if (!wanted(name)) return;
        boolean[] accepted = new boolean[1];
        String outcome;
        try (RawFrontend raw = RawFrontend.connect(base.socket(), base.timeoutMillis())) {
            raw.sendBytes(bytes, fds);
            outcome = react(raw, request, replyExpected, accepted);
        } catch (FrontendException e) {
            outcome = "connection failed: " + e.getMessage();
        }
        record(name, "message", outcome, accepted[0], null);
    }

    private static byte[] header(int request, int flags, int size, byte[] payload) {
        ByteBuffer b = le(MessageHeader.SIZE + payload.length).putInt(request).putInt(flags).putInt(size).put(payload);
        return b.array();
    }

    private void preHandshakeAttacks() {
        int gf = Request.GET_FEATURES.code;
        raw("garbage header", header(0xdeadbeef, 0x55, -1, new byte[0]), 0xdeadbeef, false);
        raw("truncated header, then hang-up", new byte[] {1, 0, 0, 0, 1, 0}, gf, false);
        raw("payload size of 1 MiB", header(gf, MessageHeader.VERSION, 1 << 20, new byte[0]), gf, false);
        raw("unknown request 200", header(200, NEED_REPLY, 0, new byte[0]), 200, true);
        raw("protocol version 2", header(gf, 2, 0, new byte[0]), gf, true);
        raw("REPLY flag set by the front-end", header(gf, MessageHeader.VERSION | MessageHeader.REPLY, 0, new byte[0]), gf, true);
        raw("reserved flag bits set", header(gf, MessageHeader.VERSION | 0x100, 0, new byte[0]), gf, true);
        raw("SET_FEATURES with a 4-byte payload", header(Request.SET_FEATURES.code, MessageHeader.VERSION, 4, new byte[4]), Request.SET_FEATURES.code, false);
        try (EventFd e = EventFd.create()) {
            raw("GET_FEATURES carrying an fd", header(gf, MessageHeader.VERSION, 0, new byte[0]), gf, true, e.fd());
        }
        List<EventFd> many = new ArrayList<>();
        try {
            int[] fds = new int[9];
            for (int i = 0; i < fds.length; i++) {
                EventFd e = EventFd.create();
                many.add(e);
                fds[i] = e.fd();
            }
            raw("SET_VRING_KICK carrying 9 fds", header(Request.SET_VRING_KICK.code, MessageHeader.VERSION, 8, u64(0)),
                    Request.SET_VRING_KICK.code, false, fds);
        } finally {
            for (EventFd e : many) e.close();
        }
    }

    /** A bad message on a connection that completed the handshake and has guest memory. */
    private interface SessionAttack {
        /** Sends the bad message; returns the request code sent. */
        int send(VhostSession s, RawFrontend raw);
    }

    private void session(String name, SessionAttack attack) {
        if (!wanted(name)) return;
        boolean[] accepted = new boolean[1];
        String outcome;
        try (VhostSession s = VhostSession.open(options())) {
            RawFrontend raw = s.frontend().raw();
            int code = attack.send(s, raw);
            Request r = Request.of(code);
            boolean replyExpected = s.frontend().replyAck() || (r != null && r.hasReply);
            outcome = react(raw, code, replyExpected, accepted);
        } catch (Refused e) {
            outcome = e.getMessage();
        } catch (FrontendException e) {
            outcome = "handshake failed: " + e.getMessage();
        } catch (UnsupportedOperationException e) {
            outcome = "not applicable: " + e.getMessage();
        }
        record(name, "message", outcome, accepted[0], null);
    }

    private static int send(VhostSession s, Request r, byte[] payload, int... fds) {
        int flags = MessageHeader.VERSION | (s.frontend().replyAck() && !r.hasReply ? MessageHeader.NEED_REPLY : 0);
        s.frontend().raw().send(r.code, flags, payload, fds);
        return r.code;
    }

    /** A refusal that came before the message the attack is about (its outcome is known). */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String what) { super(what, null, false, false); }
    }

    /** Sends {@code r} and reads its acknowledgement; a refusal ends the attack with that outcome. */
    private static void acked(VhostSession s, Request r, byte[] payload, int... fds) {
        send(s, r, payload, fds);
        if (!s.frontend().replyAck()) return;
        RawFrontend.Message m = s.frontend().raw().receive(r.name());
        if (m.payload().length == 8 && m.u64() != 0) throw new Refused(r.name() + " refused (NACK " + m.u64() + ")");
    }

    /**
     * Ring 0 with these front-end addresses, then started: NUM, ADDR, BASE, CALL, and KICK, whose reaction
     * is observed; the kick fd is signalled at once, so a backend that takes the addresses touches them.
     */
    private static int startRingAt(VhostSession s, RawFrontend raw, long descVa, long usedVa, long availVa) {
        acked(s, Request.SET_VRING_NUM, vringState(0, 64));
        acked(s, Request.SET_VRING_ADDR, le(Payloads.VRING_ADDR_SIZE).putInt(0).putInt(0).putLong(descVa).putLong(usedVa)
                .putLong(availVa).putLong(0).array());
        acked(s, Request.SET_VRING_BASE, vringState(0, s.packed() ? 0x8000 : 0));
        try (EventFd call = EventFd.create(); EventFd kick = EventFd.create()) {
            acked(s, Request.SET_VRING_CALL, u64(0), call.fd());
            send(s, Request.SET_VRING_KICK, u64(0), kick.fd());
            kick.signal();
        }
        return Request.SET_VRING_KICK.code;
    }

    private static byte[] region(long gpa, long size, long va, long offset) {
        return le(Payloads.REGION_SIZE).putLong(gpa).putLong(size).putLong(va).putLong(offset).array();
    }

    private static byte[] memTable(int claimed, byte[]... regions) {
        ByteBuffer b = le(Payloads.MEM_TABLE_HEADER_SIZE + Payloads.REGION_SIZE * regions.length).putInt(claimed).putInt(0);
        for (byte[] r : regions) b.put(r);
        return b.array();
    }

    private void sessionMessageAttacks() {
        session("SET_FEATURES with bits never offered", (s, raw) -> send(s, Request.SET_FEATURES, u64(~s.offeredFeatures())));
        session("SET_VRING_NUM for ring 255", (s, raw) -> send(s, Request.SET_VRING_NUM, vringState(255, 64)));
        session("SET_VRING_NUM of 0", (s, raw) -> send(s, Request.SET_VRING_NUM, vringState(0, 0)));
        session("SET_VRING_NUM of 65535 (split: not a power of 2)", (s, raw) -> send(s, Request.SET_VRING_NUM, vringState(0, 65535)));
        session("SET_VRING_ADDR outside guest memory, ring started", (s, raw) ->
                startRingAt(s, raw, 0xdead_0000L, 0xdead_1000L, 0xdead_2000L));
        session("SET_VRING_ADDR with the descriptor area past the region end, ring started", (s, raw) -> {
            // 64 entries take 1 KiB in either layout; the last 64 bytes of the region hold only 4 of them
            GuestRam.Region r = s.ram().regions().get(0);
            long end = r.frontendVa() + r.sizeBytes();
            return startRingAt(s, raw, end - 64, r.frontendVa() + 8192, r.frontendVa() + 4096);
        });
        session("SET_VRING_KICK without fd and without the no-fd flag", (s, raw) -> send(s, Request.SET_VRING_KICK, u64(0)));
        try (EventFd e = EventFd.create()) {
            session("SET_VRING_CALL for ring 200", (s, raw) -> send(s, Request.SET_VRING_CALL, u64(200), e.fd()));
            session("SET_MEM_TABLE naming 2 regions with 1 fd", (s, raw) -> {
                GuestRam.Region r = s.ram().regions().get(0);
                return send(s, Request.SET_MEM_TABLE, memTable(2, region(r.gpa(), r.sizeBytes(), r.frontendVa(), 0),
                        region(r.gpaEnd() + (1L << 30), r.sizeBytes(), r.frontendVa() + r.sizeBytes(), 0)), r.fd().value());
            });
            session("SET_MEM_TABLE with an eventfd as memory", (s, raw) ->
                    send(s, Request.SET_MEM_TABLE, memTable(1, region(0, 1 << 20, 0x7000_0000_0000L, 0)), e.fd()));
        }
        session("SET_MEM_TABLE naming 9 regions", (s, raw) -> {
            GuestRam.Region r = s.ram().regions().get(0);
            byte[][] regions = new byte[9][];
            int[] fds = new int[9];
            for (int i = 0; i < 9; i++) {
                regions[i] = region(i * (1L << 32), 4096, r.frontendVa(), 0);
                fds[i] = r.fd().value();
            }
            return send(s, Request.SET_MEM_TABLE, memTable(9, regions), fds);
        });
        session("SET_MEM_TABLE with 0 regions", (s, raw) -> send(s, Request.SET_MEM_TABLE, memTable(0)));
        session("SET_MEM_TABLE region wrapping 2^64", (s, raw) -> {
            GuestRam.Region r = s.ram().regions().get(0);
            return send(s, Request.SET_MEM_TABLE, memTable(1, region(-4096, r.sizeBytes(), r.frontendVa(), 0)), r.fd().value());
        });
        try (Fd small = Memfd.create("vhost-harness-small", 4096)) {
            session("SET_MEM_TABLE mapping past the end of the memfd", (s, raw) ->
                    send(s, Request.SET_MEM_TABLE, memTable(1, region(0, 1L << 30, 0x7100_0000_0000L, 1L << 40)), small.value()));
        }
        session("GET_CONFIG at offset 0xffffff00", (s, raw) ->
                send(s, Request.GET_CONFIG, le(Payloads.CONFIG_HEADER_SIZE + 256).putInt(0xffffff00).putInt(256).putInt(0).array()));
        session("GET_VRING_BASE for ring 255", (s, raw) -> send(s, Request.GET_VRING_BASE, vringState(255, 0)));
        session("REM_MEM_REG of a region that does not exist", (s, raw) -> {
            if (!ProtocolFeature.has(s.protocolFeatures(), ProtocolFeature.CONFIGURE_MEM_SLOTS)) throw new UnsupportedOperationException("no CONFIGURE_MEM_SLOTS");
            return send(s, Request.REM_MEM_REG, le(Payloads.SINGLE_REGION_SIZE).putLong(0).put(region(1L << 40, 4096, 0x7200_0000_0000L, 0)).array());
        });
        session("ADD_MEM_REG overlapping guest memory", (s, raw) -> {
            if (!ProtocolFeature.has(s.protocolFeatures(), ProtocolFeature.CONFIGURE_MEM_SLOTS)) throw new UnsupportedOperationException("no CONFIGURE_MEM_SLOTS");
            GuestRam.Region r = s.ram().regions().get(0);
            return send(s, Request.ADD_MEM_REG, le(Payloads.SINGLE_REGION_SIZE).putLong(0).put(region(r.gpa(), r.sizeBytes(), r.frontendVa() + (1L << 40), 0)).array(),
                    r.fd().value());
        });
    }

    // ---- descriptor chains -------------------------------------------------------------------------------

    private interface ChainAttack {
        /** Puts the bad chain in the ring (and publishes); returns its id, or -1 if there is none to wait for. */
        int place(DriverRing ring, DeviceProbe p, VhostSession s);
    }

    private void chain(String name, boolean poisonsRing, ChainAttack attack) {
        if (!wanted(name)) return;
        String outcome;
        Boolean sameQueue = null;
        DeviceProbe p = probes.get();
        try (VhostSession s = VhostSession.open(p.options(base))) {
            VirtQueue q = p.start(s);
            int id = attack.place(q.ring(), p, s);
            q.kick();
            if (id < 0) {
                outcome = "ring corrupted";
            } else {
                long used = q.waitFor(id, waitMillis);
                outcome = used == VirtQueue.TIMED_OUT ? "never completed it" : used == VirtQueue.RING_BROKEN
                        ? "wrote an invalid used ring: " + q.ring().lastViolation() : "completed it with used length " + used;
            }
            if (!poisonsRing && !q.ring().broken()) sameQueue = p.serves(q, waitMillis);
        } catch (FrontendException e) {
            outcome = "session failed: " + e.getMessage();
        }
        record(name, "chain", outcome, false, sameQueue);
    }

    private void chainAttacks() {
        boolean packed = base.rings().packed();
        for (ChainCorruption c : ChainCorruption.values()) {
            if (!c.appliesTo(packed)) continue;
            boolean indirectKind = c.name().contains("INDIRECT");
            if (indirectKind && !base.rings().indirect()) continue;   // needs the backend to have acked indirect descriptors
            chain(c.name().toLowerCase().replace('_', ' '), c == ChainCorruption.UNTERMINATED_CHAIN, (ring, p, s) -> {
                int id = ring.addCorrupt(p.validRequest(), c);
                ring.publish();
                return id;
            });
        }
        chain("buffer outside guest memory", false, (ring, p, s) -> {
            BufferList good = p.validRequest();
            BufferList bad = new BufferList(good.count());
            for (int i = 0; i < good.count(); i++) bad.add(i == good.count() - 1 ? s.ram().unmappedGpa() : good.gpa(i), good.length(i), good.isWritable(i));
            int id = ring.add(bad, false);
            ring.publish();
            return id;
        });
        chain("device-writable buffer before a readable one", false, (ring, p, s) -> {
            BufferList good = p.validRequest();
            BufferList bad = new BufferList(good.count() + 1);
            bad.add(good.gpa(good.count() - 1), good.length(good.count() - 1), true);
            for (int i = 0; i < good.count(); i++) bad.add(good.gpa(i), good.length(i), false);
            int id = ring.add(bad, false);
            ring.publish();
            return id;
        });
        chain("device header too short", false, (ring, p, s) -> {
            int id = ring.add(p.shortHeaderRequest(), false);
            ring.publish();
            return id;
        });
        if (!packed) {
            chain("avail index jumps past the queue size", true, (ring, p, s) -> {
                ((DriverSplitRing) ring).corruptAvailIndex(ring.size() + 7);
                return -1;
            });
            chain("avail entry naming descriptor 65535", true, (ring, p, s) -> {
                ((DriverSplitRing) ring).publishRawHead(0xffff);
                return -1;
            });
        }
    }

    // ---- report ------------------------------------------------------------------------------------------

    public boolean passed() { return !results.isEmpty() && results.stream().allMatch(Attack::passed); }

    public String table(String device) {
        StringBuilder sb = new StringBuilder();
        long failed = results.stream().filter(a -> !a.passed()).count();
        long accepted = results.stream().filter(Attack::accepted).count();
        long stopped = results.stream().filter(a -> Boolean.FALSE.equals(a.sameQueueServes())).count();
        sb.append("vhost-harness ").append(device).append(" --hostile  socket=").append(base.socket()).append("  ring=")
                .append(base.rings().packed() ? "packed" : "split").append("  indirect=").append(base.rings().indirect()).append('\n');
        for (int i = 0; i < results.size(); i++) {
            Attack a = results.get(i);
            sb.append(String.format("%3d %-7s %-52s %-5s %s%s%n", i + 1, a.kind(), a.name(), a.passed() ? (a.accepted() ? "WARN" : "ok") : "FAIL",
                    a.outcome(), a.sameQueueServes() == null ? "" : a.sameQueueServes() ? "; queue still serves" : "; queue stopped"));
        }
        sb.append(String.format("attacks %d: backend survived and served a fresh connection after %d; failed %d; invalid input accepted %d;"
                + " attacked queue stopped %d%n", results.size(), results.size() - failed, failed, accepted, stopped));
        if (stoppedBecause != null) sb.append("stopped: ").append(stoppedBecause).append('\n');
        sb.append(passed() ? "result: PASS" : "result: FAIL").append('\n');
        return sb.toString();
    }

    public String json(String device) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("device", device);
        m.put("mode", "hostile");
        m.put("socket", base.socket().toString());
        List<Object> list = new ArrayList<>();
        for (Attack a : results) {
            java.util.Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("attack", a.name());
            e.put("kind", a.kind());
            e.put("outcome", a.outcome());
            e.put("accepted_invalid", a.accepted());
            e.put("alive", a.alive());
            e.put("same_queue_serves", a.sameQueueServes());
            e.put("backend_serves", a.backendServes());
            e.put("passed", a.passed());
            list.add(e);
        }
        m.put("attacks", list);
        m.put("stopped", stoppedBecause);
        m.put("passed", passed());
        return org.vhostj.harness.load.Json.write(m);
    }
}
