package org.vhostj.fs;

import static org.junit.jupiter.api.Assertions.*;
import static org.vhostj.vhost.ring.RingLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.fs.passthrough.FsConfig;
import org.vhostj.fs.passthrough.PassthroughFs;
import org.vhostj.sys.EventFd;
import org.vhostj.sys.Fcntl;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import org.vhostj.vhost.protocol.Payloads;
import org.vhostj.vhost.protocol.ProtocolFeature;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;
import org.vhostj.vhost.testing.TestGuest;
import org.vhostj.vhost.testing.TestSplitDriver;

/**
 * The device in a real daemon over a real socket: memfd guest memory, split rings written by the test's
 * driver, FUSE requests as the Linux driver lays them out (header+args readable, out header+reply writable).
 */
class FsDaemonRoundTripTest {
    static final int SIZE = 64;
    @TempDir Path tmp;
    Path share, sock;
    Daemon daemon;
    RawFrontendClient fe;
    TestGuest guest;
    TestSplitDriver hiprio, requests;
    EventFd kick0 = EventFd.create(), call0 = EventFd.create(), kick1 = EventFd.create(), call1 = EventFd.create();
    long inGpa, outGpa, dataGpa;
    long unique = 2;

    @BeforeEach
    void start() throws Exception {
        share = Files.createDirectory(tmp.resolve("share"));
        sock = tmp.resolve("fs.sock");
        daemon = new Daemon(new FsDevice(new PassthroughFs(share, FsConfig.defaults()), "myfs", 1), DaemonOptions.forSocket(sock));
        daemon.start();
        fe = new RawFrontendClient(sock);
        guest = new TestGuest(8 << 20);
        fe.handshake(VirtioFeature.bit(VirtioFeature.VERSION_1) | VirtioFeature.bit(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)
                | VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC), ~0L & ~ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS));
        fe.setMemTable(guest);
        hiprio = new TestSplitDriver(guest, SIZE);
        requests = new TestSplitDriver(guest, SIZE);
        fe.startRing(0, SIZE, 0, hiprio.descGpa, hiprio.availGpa, hiprio.usedGpa, kick0.fd(), call0.fd());
        fe.startRing(1, SIZE, 0, requests.descGpa, requests.availGpa, requests.usedGpa, kick1.fd(), call1.fd());
        inGpa = guest.alloc(8192, 4096);
        outGpa = guest.alloc(8192, 4096);
        dataGpa = guest.alloc(1 << 20, 4096);
    }

    @AfterEach
    void stop() {
        fe.close();
        daemon.close();
        guest.close();
        for (EventFd e : new EventFd[] {kick0, call0, kick1, call1}) e.close();
    }

    @Test
    void configSpaceCarriesTheTagAndOneRequestQueue() {
        assertEquals(2, fe.call(Request.GET_QUEUE_NUM, null).u64());
        MemorySegment get = fe.bytes(Payloads.CONFIG_HEADER_SIZE + FsDevice.CONFIG_SIZE);
        get.set(ValueLayout.JAVA_INT, Payloads.CONFIG_SIZE_OFFSET, FsDevice.CONFIG_SIZE);
        MemorySegment cfg = fe.call(Request.GET_CONFIG, get).payload().asSlice(Payloads.CONFIG_HEADER_SIZE);
        assertEquals("myfs", cfg.getString(0));
        assertEquals(1, cfg.get(ValueLayout.JAVA_INT_UNALIGNED, FsDevice.TAG_SIZE));
    }

    /** Sends one request on the request queue; returns the reply's bytes (out header included). */
    private ByteBuffer call(int opcode, long nodeid, byte[] args, byte[] writeData, int outBytes, int readBytes) throws Exception {
        int dataLen = writeData == null ? 0 : writeData.length;
        ByteBuffer h = ByteBuffer.allocate(Fuse.IN_HEADER_SIZE + args.length).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(Fuse.IN_HEADER_SIZE + args.length + dataLen).putInt(opcode).putLong(unique++).putLong(nodeid).putInt(0).putInt(0).putInt(1).putInt(0);
        h.put(args);
        MemorySegment.copy(h.array(), 0, guest.at(inGpa, 8192), ValueLayout.JAVA_BYTE, 0, h.capacity());
        int d = 0;
        requests.desc(d, inGpa, h.capacity(), DESC_F_NEXT, d + 1);
        d++;
        if (dataLen > 0) {   // write data as two descriptors, like guest pages
            MemorySegment.copy(writeData, 0, guest.at(dataGpa, dataLen), ValueLayout.JAVA_BYTE, 0, dataLen);
            int half = dataLen / 2;
            requests.desc(d, dataGpa, half, DESC_F_NEXT, d + 1);
            d++;
            requests.desc(d, dataGpa + half, dataLen - half, DESC_F_NEXT, d + 1);
            d++;
        }
        guest.at(outGpa, 8192).fill((byte) 0);
        requests.desc(d, outGpa, Fuse.OUT_HEADER_SIZE + outBytes, readBytes > 0 ? DESC_F_WRITE | DESC_F_NEXT : DESC_F_WRITE, d + 1);
        if (readBytes > 0) requests.desc(++d, dataGpa, readBytes, DESC_F_WRITE, 0);
        requests.publish(0);
        kick1.signal();
        long end = System.currentTimeMillis() + 10_000;
        while (requests.pendingUsed() == 0) {
            if (System.currentTimeMillis() > end) throw new AssertionError("no reply");
            Thread.sleep(1);
        }
        int[] used = requests.takeUsed();
        byte[] reply = new byte[used[1]];
        int head = Math.min(used[1], Fuse.OUT_HEADER_SIZE + outBytes);
        MemorySegment.copy(guest.at(outGpa, head), ValueLayout.JAVA_BYTE, 0, reply, 0, head);
        if (used[1] > head) MemorySegment.copy(guest.at(dataGpa, used[1] - head), ValueLayout.JAVA_BYTE, 0, reply, head, used[1] - head);
        ByteBuffer b = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(used[1], b.getInt(0), "out header len matches the used length");
        return b;
    }

    @Test
    void initCreateWriteReadThroughTheDaemon() throws Exception {
        ByteBuffer init = call(Fuse.INIT, 0, ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(38).putInt(65536)
                .putInt((int) (Fuse.ASYNC_READ | Fuse.MAX_PAGES)).array(), null, 64, 0);
        assertEquals(0, init.getInt(4));
        assertEquals(38, init.getInt(16 + 4));
        byte[] name = "hello.txt\0".getBytes(StandardCharsets.UTF_8);
        ByteBuffer cargs = ByteBuffer.allocate(16 + name.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(Fcntl.O_RDWR | Fcntl.O_CREAT).putInt(Fcntl.S_IFREG | 0644).putInt(0).putInt(0).put(name);
        ByteBuffer created = call(Fuse.CREATE, 1, cargs.array(), null, Fuse.ENTRY_OUT_SIZE + Fuse.OPEN_OUT_SIZE, 0);
        assertEquals(0, created.getInt(4));
        long node = created.getLong(16), fh = created.getLong(16 + Fuse.ENTRY_OUT_SIZE);
        byte[] data = new byte[200_000];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i % 251);
        ByteBuffer w = call(Fuse.WRITE, node, ChainClient.rw(fh, 0, data.length), data, Fuse.WRITE_OUT_SIZE, 0);
        assertEquals(0, w.getInt(4));
        assertEquals(data.length, w.getInt(16));
        assertArrayEquals(data, Files.readAllBytes(share.resolve("hello.txt")));
        ByteBuffer r = call(Fuse.READ, node, ChainClient.rw(fh, 1000, 65536), null, 0, 65536);
        assertEquals(16 + 65536, r.getInt(0));
        for (int i = 0; i < 65536; i += 4099) assertEquals(data[1000 + i], r.get(16 + i));
        // FORGET on hiprio: the chain completes with no reply
        ByteBuffer f = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN).putInt(48).putInt(Fuse.FORGET).putLong(unique++).putLong(node)
                .putLong(0).putLong(0).putLong(1);
        MemorySegment.copy(f.array(), 0, guest.at(inGpa, 48), ValueLayout.JAVA_BYTE, 0, 48);
        hiprio.desc(0, inGpa, 48, 0, 0);
        hiprio.publish(0);
        kick0.signal();
        long end = System.currentTimeMillis() + 10_000;
        while (hiprio.pendingUsed() == 0 && System.currentTimeMillis() < end) Thread.sleep(1);
        assertEquals(0, hiprio.takeUsed()[1]);
        assertTrue(daemon.queueMetrics(1).requests() >= 4);
    }
}
