package org.vhostj.sys;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketTest {
    @TempDir Path dir;

    @Test
    void headerAndPayloadArriveWithAllEightFdsInOrderAndTheNextMessageKeepsItsOwn() throws Exception {
        Path path = dir.resolve("s.sock");
        try (UnixSocket listener = UnixSocket.listen(path, 4); Arena arena = Arena.ofShared()) {
            CompletableFuture<UnixSocket> accepted = CompletableFuture.supplyAsync(listener::accept);
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket server = accepted.get(5, TimeUnit.SECONDS)) {
                Fd[] memfds = new Fd[8];
                int[] raw = new int[8];
                for (int i = 0; i < 8; i++) {
                    memfds[i] = Memfd.create("r" + i, 4096);
                    MemorySegment m = Memfd.mapShared(memfds[i].value(), 0, 4096, true, arena);
                    m.set(ValueLayout.JAVA_INT, 0, 1000 + i);
                    raw[i] = memfds[i].value();
                }
                MemorySegment msg = arena.allocate(12 + 40);
                msg.set(ValueLayout.JAVA_INT, 0, 5);
                msg.set(ValueLayout.JAVA_INT, 8, 40);
                assertEquals(0, client.send(msg, 52, raw));
                try (EventFd kick = EventFd.create()) {
                    MemorySegment second = arena.allocate(20);
                    second.set(ValueLayout.JAVA_INT, 0, 12);
                    assertEquals(0, client.send(second, 20, kick.fd()));
                }
                for (Fd f : memfds) f.close();

                MemorySegment buf = arena.allocate(64);
                try (ReceivedFds fds = new ReceivedFds()) {
                    assertEquals(12, server.receiveExact(buf, 12, fds));
                    assertEquals(8, fds.count());
                    assertFalse(fds.truncated());
                    assertEquals(5, buf.get(ValueLayout.JAVA_INT, 0));
                    assertEquals(40, server.receiveExact(buf.asSlice(12), 40, fds));
                    assertEquals(8, fds.count(), "payload read must not pick up the next message's fd");
                    for (int i = 0; i < 8; i++) {
                        try (Fd f = fds.take(i)) {
                            MemorySegment m = Memfd.mapShared(f.value(), 0, 4096, false, arena);
                            assertEquals(1000 + i, m.get(ValueLayout.JAVA_INT, 0));
                        }
                    }
                }
                try (ReceivedFds fds = new ReceivedFds()) {
                    assertEquals(20, server.receiveExact(buf, 20, fds));
                    assertEquals(12, buf.get(ValueLayout.JAVA_INT, 0));
                    assertEquals(1, fds.count());
                    try (EventFd kick = EventFd.adopt(fds.take(0))) {
                        assertEquals(0, kick.signal());
                        assertEquals(1, kick.read());
                    }
                }
            }
        }
    }

    @Test
    void moreFdsThanTheControlBufferHoldsAreFlaggedAndNoneLeak() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofConfined()) {
            EventFd[] many = new EventFd[ReceivedFds.CAPACITY];
            int[] raw = new int[many.length];
            for (int i = 0; i < many.length; i++) { many[i] = EventFd.create(); raw[i] = many[i].fd(); }
            MemorySegment one = arena.allocate(1);
            assertEquals(0, a.send(one, 1, raw));
            try (ReceivedFds fds = new ReceivedFds()) {
                assertEquals(1, b.receive(one, 1, fds, 0));
                assertEquals(ReceivedFds.CAPACITY, fds.count());
            }
            for (EventFd e : many) e.close();
        }
    }

    @Test
    void shutdownWakesABlockedAcceptAndAReceiveSeesEof() throws Exception {
        Path path = dir.resolve("w.sock");
        UnixSocket listener = UnixSocket.listen(path, 1);
        CompletableFuture<UnixSocket> accepted = CompletableFuture.supplyAsync(listener::accept);
        Thread.sleep(100);
        listener.shutdown();
        assertNull(accepted.get(5, TimeUnit.SECONDS));
        listener.close();
        Files.deleteIfExists(path);

        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofShared(); ReceivedFds fds = new ReceivedFds()) {
            MemorySegment buf = arena.allocate(12);
            CompletableFuture<Long> r = CompletableFuture.supplyAsync(() -> b.receiveExact(buf, 12, fds));
            Thread.sleep(100);
            b.shutdown();
            assertEquals(0L, r.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void tooLongSocketPathIsAClearError() {
        Path p = dir.resolve("x".repeat(120));
        ErrnoException e = assertThrows(ErrnoException.class, () -> UnixSocket.listen(p, 1));
        assertEquals(Errno.ENAMETOOLONG, e.errno());
        assertTrue(e.getMessage().contains("socket path"), e.getMessage());
    }

    @Test
    void connectToMissingSocketNamesThePath() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> UnixSocket.connect(dir.resolve("none.sock")));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("none.sock"));
    }
}
