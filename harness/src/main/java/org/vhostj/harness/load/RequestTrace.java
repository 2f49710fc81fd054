package org.vhostj.harness.load;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

/**
 * A recorded request stream, so two backends can be driven with exactly the same workload. The file is one
 * LZ4 frame holding:
 * <pre>
 *   "VHTRACE1"  u32 headerLength  header (UTF-8 "key=value" lines: device, queues, max_length, records)
 *   records, each 24 bytes, big-endian: u8 op, u8 queue, u16 reserved, u32 lengthBytes, u64 sector,
 *                                       u64 issueNanos (since the run started)
 * </pre>
 * Records of one queue are in issue order. While a run records, each worker writes its own uncompressed
 * part (no sharing, no allocation per record); {@link #merge} compresses the parts into the trace file.
 */
public final class RequestTrace {
    private RequestTrace() {}

    public static final int OP_READ = 0, OP_WRITE = 1, OP_FLUSH = 2;
    static final byte[] MAGIC = "VHTRACE1".getBytes(StandardCharsets.US_ASCII);
    static final int RECORD_BYTES = 24;

    /** One worker's part of a recording. Owned by that worker until {@link #close()}. */
    public static final class Writer implements AutoCloseable {
        private final Path part;
        private final DataOutputStream out;
        private long records;
        private int maxLength;

        public Writer(Path part) {
            this.part = part;
            try {
                out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(part), 1 << 16));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create trace part " + part, e);
            }
        }

        /** Data path: buffered write, no allocation; an I/O error is rethrown unchecked (ends the worker). */
        public void record(int queue, int op, long sector, int lengthBytes, long issueNanos) {
            try {
                out.writeByte(op);
                out.writeByte(queue);
                out.writeShort(0);
                out.writeInt(lengthBytes);
                out.writeLong(sector);
                out.writeLong(issueNanos);
            } catch (IOException e) {
                throw new UncheckedIOException("trace part " + part, e);
            }
            records++;
            if (lengthBytes > maxLength) maxLength = lengthBytes;
        }

        public long records() { return records; }

        @Override
        public void close() {
            try { out.close(); } catch (IOException e) { throw new UncheckedIOException("trace part " + part, e); }
        }
    }

    /** Compresses the parts (in queue order) into {@code trace} with {@code header} entries, then deletes the parts. */
    public static void merge(List<Writer> parts, Path trace, Map<String, String> header) throws IOException {
        long records = 0;
        int maxLength = 0;
        for (Writer w : parts) {
            w.close();
            records += w.records;
            maxLength = Math.max(maxLength, w.maxLength);
        }
        Map<String, String> h = new LinkedHashMap<>(header);
        h.put("records", Long.toString(records));
        h.put("max_length", Integer.toString(maxLength));
        StringBuilder text = new StringBuilder();
        h.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        byte[] hb = text.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream raw = Files.newOutputStream(trace); DataOutputStream out = new DataOutputStream(new LZ4FrameOutputStream(raw))) {
            out.write(MAGIC);
            out.writeInt(hb.length);
            out.write(hb);
            for (Writer w : parts) {
                Files.copy(w.part, out);
                Files.delete(w.part);
            }
        }
    }

    /** The header of a trace file. */
    public static Map<String, String> header(Path trace) throws IOException {
        try (DataInputStream in = open(trace)) {
            return readHeader(in, trace);
        }
    }

    private static DataInputStream open(Path trace) throws IOException {
        return new DataInputStream(new BufferedInputStream(new LZ4FrameInputStream(Files.newInputStream(trace)), 1 << 16));
    }

    private static Map<String, String> readHeader(DataInputStream in, Path trace) throws IOException {
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new IOException(trace + " is not a vhost-harness trace");
        int n = in.readInt();
        if (n < 0 || n > 1 << 16) throw new IOException(trace + ": implausible header length " + n);
        byte[] hb = new byte[n];
        in.readFully(hb);
        Map<String, String> h = new LinkedHashMap<>();
        for (String line : new String(hb, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) h.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return h;
    }

    /**
     * The records one replaying queue issues: those recorded on queues {@code q} with
     * {@code q % queueCount == queueIndex}, in order. Owned by that queue's worker.
     */
    public static final class Reader implements AutoCloseable {
        private final DataInputStream in;
        private final int queueIndex, queueCount, maxLength;
        private int op, lengthBytes;
        private long sector, issueNanos;
        private boolean ended;

        public Reader(Path trace, int queueIndex, int queueCount) throws IOException {
            this.in = open(trace);
            this.queueIndex = queueIndex;
            this.queueCount = queueCount;
            Map<String, String> h = readHeader(in, trace);
            this.maxLength = Integer.parseInt(h.getOrDefault("max_length", "0"));
        }

        public int maxLengthBytes() { return maxLength; }

        /** Moves to this queue's next record; false at the end. Data path: no allocation. */
        public boolean next() {
            if (ended) return false;
            try {
                while (true) {
                    int o = in.read();
                    if (o < 0) { ended = true; return false; }
                    int q = in.readUnsignedByte();
                    in.readShort();
                    int len = in.readInt();
                    long sec = in.readLong();
                    long t = in.readLong();
                    if (q % queueCount != queueIndex) continue;
                    op = o;
                    lengthBytes = len;
                    sector = sec;
                    issueNanos = t;
                    return true;
                }
            } catch (EOFException e) {
                ended = true;
                return false;
            } catch (IOException e) {
                throw new UncheckedIOException("trace", e);
            }
        }

        public int op() { return op; }

        public int lengthBytes() { return lengthBytes; }

        public long sector() { return sector; }

        public long issueNanos() { return issueNanos; }

        @Override
        public void close() throws IOException { in.close(); }
    }

}
