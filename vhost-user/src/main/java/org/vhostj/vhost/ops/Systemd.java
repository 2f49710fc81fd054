package org.vhostj.vhost.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.slf4j.LoggerFactory;
import org.vhostj.sys.LibC;
import org.vhostj.sys.UnixSocket;

/**
 * The two systemd protocols a service daemon speaks, without libsystemd: readiness notification
 * ({@code sd_notify}: a datagram to {@code $NOTIFY_SOCKET}, for {@code Type=notify} units) and socket
 * activation ({@code $LISTEN_FDS}/{@code $LISTEN_PID}: the listening socket starts at fd 3).
 * Stateless; any thread.
 */
public final class Systemd {
    /** SD_LISTEN_FDS_START: the first passed descriptor. */
    public static final int LISTEN_FDS_START = 3;

    private Systemd() {}

    /**
     * The listening socket systemd passed to this process, or -1 when it passed none (or passed them to
     * another process: LISTEN_PID must be ours). With several, the first is used.
     */
    public static int listenFd() {
        String pid = System.getenv("LISTEN_PID"), fds = System.getenv("LISTEN_FDS");
        if (pid == null || fds == null) return -1;
        try {
            if (Long.parseLong(pid.strip()) != ProcessHandle.current().pid()) return -1;
            int n = Integer.parseInt(fds.strip());
            if (n > 1) LoggerFactory.getLogger(Systemd.class).warn("systemd passed {} sockets; serving the first (fd {})", n, LISTEN_FDS_START);
            return n >= 1 ? LISTEN_FDS_START : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Sends {@code state} ("READY=1", "STOPPING=1", "STATUS=...") to the service manager if it asked for
     * notifications. Returns false if there is no {@code $NOTIFY_SOCKET} or the send failed (never throws:
     * a daemon keeps serving without a supervisor).
     */
    public static boolean notify(String state) {
        String target = System.getenv("NOTIFY_SOCKET");
        if (target == null || target.isEmpty()) return false;
        byte[] path = target.getBytes(StandardCharsets.UTF_8);
        if (path.length > 107 || (path[0] != '/' && path[0] != '@')) return false;
        int fd = LibC.socket(UnixSocket.AF_UNIX, UnixSocket.SOCK_DGRAM | UnixSocket.SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(2 + path.length + (path[0] == '@' ? 0 : 1), 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) UnixSocket.AF_UNIX);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, 2, path.length);
            if (path[0] == '@') addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);   // abstract namespace
            byte[] msg = state.getBytes(StandardCharsets.UTF_8);
            MemorySegment buf = a.allocateFrom(ValueLayout.JAVA_BYTE, msg);
            return LibC.sendto(fd, buf, msg.length, UnixSocket.MSG_NOSIGNAL, addr, (int) addr.byteSize()) == msg.length;
        } finally {
            LibC.close(fd);
        }
    }
}
