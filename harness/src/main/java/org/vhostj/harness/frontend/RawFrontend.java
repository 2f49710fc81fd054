package org.vhostj.harness.frontend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.vhostj.sys.Errno;
import org.vhostj.sys.ErrnoException;
import org.vhostj.sys.LibC;
import org.vhostj.sys.ReceivedFds;
import org.vhostj.sys.UnixSocket;
import org.vhostj.vhost.protocol.MessageHeader;
import org.vhostj.vhost.protocol.Request;

/**
 * The wire layer of a vhost-user front-end: sends any header, payload and fds, well-formed or not, and
 * receives the backend's messages with a timeout so a dead backend cannot hang the harness.
 * {@link Frontend} speaks the protocol on top of it; the hostile mode uses it directly to send what no
 * VMM would. Owned by one thread (the session's control thread), which closes it.
 */
public final class RawFrontend implements AutoCloseable {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Largest message this layer sends or accepts; replies are checked against MessageHeader.MAX_PAYLOAD. */
    private static final int BUFFER_BYTES = MessageHeader.SIZE + 64 * 1024;

    /** A message from the backend. Fds that came with it were closed: no backend reply carries any we use. */
    public record Message(int request, int flags, byte[] payload, int fdCount) {
        public long u64() {
            if (payload.length != 8) throw new IllegalStateException("payload is " + payload.length + " bytes, not a u64");
            return MemorySegment.ofArray(payload).get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        }
    }

    private final UnixSocket socket;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(BUFFER_BYTES, 8);
    private final ReceivedFds fds = new ReceivedFds();
    private final String path;
    private long timeoutMillis;

    private RawFrontend(UnixSocket socket, String path, long timeoutMillis) {
        this.socket = socket;
        this.path = path;
        setTimeout(timeoutMillis);
    }

    /**
     * Connects to the backend's socket, retrying while it does not exist yet or refuses (a backend that is
     * still starting) until {@code timeoutMillis} passed. Replies are then awaited for at most that long.
     */
    public static RawFrontend connect(Path socketPath, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            try {
                return new RawFrontend(UnixSocket.connect(socketPath), socketPath.toString(), timeoutMillis);
            } catch (ErrnoException e) {
                boolean retry = e.errno() == Errno.ENOENT || e.errno() == Errno.ECONNREFUSED || e.errno() == Errno.EAGAIN;
                if (!retry || System.nanoTime() > deadline) {
                    throw new FrontendException(FrontendException.Kind.IO, "connect", e.getMessage());
                }
                try { Thread.sleep(20); } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new FrontendException(FrontendException.Kind.IO, "connect", "interrupted");
                }
            }
        }
    }

    /** Adopts an already connected socket (a socketpair in tests, or an accepted connection). */
    public static RawFrontend adopt(UnixSocket socket, long timeoutMillis) {
        return new RawFrontend(socket, "socket", timeoutMillis);
    }

    public void setTimeout(long millis) {
        this.timeoutMillis = millis;
        socket.setReceiveTimeout(millis);
        socket.setSendTimeout(millis);
    }

    public long timeoutMillis() { return timeoutMillis; }

    public String path() { return path; }

    /** Sends one message whose header size field is the payload length. */
    public void send(int request, int flags, byte[] payload, int... fdsToSend) {
        sendWithSize(request, flags, payload.length, payload, fdsToSend);
    }

    /** Sends a header claiming {@code sizeField} bytes followed by {@code payload} (which may be shorter or longer). */
    public void sendWithSize(int request, int flags, int sizeField, byte[] payload, int... fdsToSend) {
        if (payload.length > BUFFER_BYTES - MessageHeader.SIZE) throw new IllegalArgumentException("payload too large: " + payload.length);
        buf.set(LE_INT, MessageHeader.REQUEST_OFFSET, request);
        buf.set(LE_INT, MessageHeader.FLAGS_OFFSET, flags);
        buf.set(LE_INT, MessageHeader.SIZE_OFFSET, sizeField);
        MemorySegment.copy(payload, 0, buf, ValueLayout.JAVA_BYTE, MessageHeader.SIZE, payload.length);
        transmit(name(request), MessageHeader.SIZE + payload.length, fdsToSend);
    }

    /** Sends arbitrary bytes (a truncated header, garbage) with {@code fdsToSend} attached. */
    public void sendBytes(byte[] raw, int... fdsToSend) {
        MemorySegment.copy(raw, 0, buf, ValueLayout.JAVA_BYTE, 0, raw.length);
        transmit("raw bytes", raw.length, fdsToSend);
    }

    private void transmit(String what, long length, int... fdsToSend) {
        int r = socket.send(buf, length, fdsToSend);
        if (r == -Errno.EPIPE || r == -Errno.ECONNRESET) throw new FrontendException(FrontendException.Kind.CLOSED, what, "backend closed the connection");
        if (r == -Errno.EAGAIN) throw new FrontendException(FrontendException.Kind.TIMEOUT, what, "send blocked for " + timeoutMillis + " ms");
        if (r < 0) throw new FrontendException(FrontendException.Kind.IO, what, "sendmsg: " + Errno.describe(-r));
    }

    /** Receives one message (header, then exactly its payload), for the reply to {@code forRequest}. */
    public Message receive(String forRequest) {
        try {
            long n = socket.receiveExact(buf, MessageHeader.SIZE, fds);
            check(forRequest, n, MessageHeader.SIZE);
            int request = buf.get(LE_INT, MessageHeader.REQUEST_OFFSET);
            int flags = buf.get(LE_INT, MessageHeader.FLAGS_OFFSET);
            int size = buf.get(LE_INT, MessageHeader.SIZE_OFFSET);
            if (size < 0 || size > MessageHeader.MAX_PAYLOAD) {
                throw new FrontendException(FrontendException.Kind.BAD_REPLY, forRequest, "reply claims " + Integer.toUnsignedString(size) + " payload bytes");
            }
            if (size > 0) check(forRequest, socket.receiveExact(buf.asSlice(MessageHeader.SIZE), size, fds), size);
            byte[] payload = buf.asSlice(MessageHeader.SIZE, size).toArray(ValueLayout.JAVA_BYTE);
            return new Message(request, flags, payload, fds.count());
        } finally {
            fds.close();
        }
    }

    private void check(String forRequest, long got, long wanted) {
        if (got == -Errno.EAGAIN) throw new FrontendException(FrontendException.Kind.TIMEOUT, forRequest, "no reply within " + timeoutMillis + " ms");
        if (got < 0) throw new FrontendException(FrontendException.Kind.IO, forRequest, "recvmsg: " + Errno.describe((int) -got));
        if (got < wanted) throw new FrontendException(FrontendException.Kind.CLOSED, forRequest, "backend closed the connection"
                + (got > 0 ? " after " + got + " of " + wanted + " bytes" : ""));
    }

    /**
     * Waits up to {@code waitMillis} for the backend to close the connection. Returns true on EOF (or a
     * reset); bytes that arrive meanwhile are read and dropped.
     */
    public boolean peerClosed(long waitMillis) {
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8, 4);
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left < 0) return false;
                pfd.set(ValueLayout.JAVA_INT, 0, socket.fd());
                pfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1);   // POLLIN
                pfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
                int r = LibC.poll(pfd, 1, (int) Math.max(1, left));
                if (r == -Errno.EINTR || r == 0) continue;
                if (r < 0) return true;
                long got = socket.receive(buf, BUFFER_BYTES, fds, UnixSocket.MSG_DONTWAIT);
                fds.close();
                if (got == 0 || got == -Errno.ECONNRESET) return true;
                if (got < 0 && got != -Errno.EAGAIN) return true;
            }
        }
    }

    /** Wakes a thread blocked in {@link #receive} (any thread may call this). */
    public void shutdown() { socket.shutdown(); }

    @Override
    public void close() {
        fds.close();
        socket.close();
        arena.close();
    }

    static String name(int request) {
        Request r = Request.of(request);
        return r == null ? "request " + request : r.name();
    }
}
