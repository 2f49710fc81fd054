package org.vhostj.fs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.fs.fuse.FuseServer;
import org.vhostj.fs.fuse.FuseSession;
import org.vhostj.fs.passthrough.FsConfig;
import org.vhostj.fs.passthrough.PassthroughFs;
import org.vhostj.sys.Fcntl;
import org.vhostj.vhost.ring.DescriptorChain;

/**
 * Drives a {@link FuseServer} directly: each request is a descriptor chain over native memory (readable
 * header + args [+ data], writable out buffer), as the virtio-fs driver builds it. For unit tests of the
 * decoder and the passthrough filesystem without a daemon.
 */
final class ChainClient implements AutoCloseable {
    static final int BUF = 2 << 20;
    final Arena arena = Arena.ofShared();
    final MemorySegment in = arena.allocate(BUF, 4096), data = arena.allocate(BUF, 4096), outMem = arena.allocate(BUF, 4096);
    final DescriptorChain chain = new DescriptorChain(16);
    final PassthroughFs fs;
    final FuseServer server;
    long unique = 2;
    int uid = 0, gid = 0;

    record Reply(int error, int used, long unique, ByteBuffer body) {
        Reply { }
        long nodeid() { return body.getLong(0); }
    }

    ChainClient(Path dir, FsConfig config) {
        fs = new PassthroughFs(dir, config);
        server = new FuseServer(fs, new FuseSession());
    }

    static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    static byte[] z(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] r = new byte[b.length + 1];
        System.arraycopy(b, 0, r, 0, b.length);
        return r;
    }

    static byte[] cat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] r = new byte[n];
        int at = 0;
        for (byte[] p : parts) { System.arraycopy(p, 0, r, at, p.length); at += p.length; }
        return r;
    }

    /** Sends a well-formed request; {@code outBytes} of writable space after the out header. */
    Reply call(int opcode, long nodeid, byte[] args, byte[] payload, int outBytes) {
        int payloadLen = payload == null ? 0 : payload.length;
        int len = Fuse.IN_HEADER_SIZE + args.length + payloadLen;
        ByteBuffer h = le(Fuse.IN_HEADER_SIZE);
        h.putInt(len).putInt(opcode).putLong(unique).putLong(nodeid).putInt(uid).putInt(gid).putInt(1).putShort((short) 0).putShort((short) 0);
        byte[] readable = cat(h.array(), args);
        MemorySegment.copy(readable, 0, in, ValueLayout.JAVA_BYTE, 0, readable.length);
        chain.clear();
        chain.add(in, 0, readable.length, 0x1000, false);
        if (payloadLen > 0) {
            MemorySegment.copy(payload, 0, data, ValueLayout.JAVA_BYTE, 0, payloadLen);
            chain.add(data, 0, payloadLen, 0x200000, false);
        }
        return exchange(Fuse.OUT_HEADER_SIZE + outBytes);
    }

    /** Sends {@code readable} verbatim (headers may lie) with {@code writable} bytes to answer in. */
    Reply raw(byte[] readable, int writable) {
        MemorySegment.copy(readable, 0, in, ValueLayout.JAVA_BYTE, 0, readable.length);
        chain.clear();
        chain.add(in, 0, readable.length, 0x1000, false);
        return exchange(writable);
    }

    private Reply exchange(int writable) {
        outMem.asSlice(0, Math.max(writable, 16)).fill((byte) 0x5a);
        if (writable > 0) chain.add(outMem, 0, writable, 0x400000, true);
        long u = unique;
        unique += 2;
        int used = server.handle(chain);
        if (used == 0) return new Reply(Integer.MIN_VALUE, 0, u, le(0));
        if (used < Fuse.OUT_HEADER_SIZE) throw new AssertionError("used length " + used);
        int len = outMem.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        if (len != used) throw new AssertionError("out header len " + len + " != used " + used);
        long ru = outMem.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        byte[] body = outMem.asSlice(Fuse.OUT_HEADER_SIZE, used - Fuse.OUT_HEADER_SIZE).toArray(ValueLayout.JAVA_BYTE);
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        return new Reply(outMem.get(ValueLayout.JAVA_INT_UNALIGNED, 4), used, ru, b);
    }

    // ---- typed helpers ---------------------------------------------------------------------------------

    Reply init() {
        return call(Fuse.INIT, 0, le(64).putInt(7).putInt(38).putInt(128 * 1024).putInt((int) (Fuse.ASYNC_READ | Fuse.DO_READDIRPLUS
                | Fuse.READDIRPLUS_AUTO | Fuse.BIG_WRITES | Fuse.MAX_PAGES | Fuse.INIT_EXT | Fuse.PARALLEL_DIROPS)).putInt(0).array(), null, 64);
    }

    Reply lookup(long parent, String name) { return call(Fuse.LOOKUP, parent, z(name), null, Fuse.ENTRY_OUT_SIZE); }

    Reply getattr(long node) { return call(Fuse.GETATTR, node, le(16).array(), null, Fuse.ATTR_OUT_SIZE); }

    Reply mkdir(long parent, String name, int mode) {
        return call(Fuse.MKDIR, parent, cat(le(8).putInt(mode).putInt(0).array(), z(name)), null, Fuse.ENTRY_OUT_SIZE);
    }

    Reply mknod(long parent, String name, int mode, int rdev) {
        return call(Fuse.MKNOD, parent, cat(le(16).putInt(mode).putInt(rdev).putInt(0).putInt(0).array(), z(name)), null, Fuse.ENTRY_OUT_SIZE);
    }

    Reply create(long parent, String name, int flags, int mode) {
        return call(Fuse.CREATE, parent, cat(le(16).putInt(flags | Fcntl.O_CREAT).putInt(Fcntl.S_IFREG | mode).putInt(0).putInt(0).array(), z(name)),
                null, Fuse.ENTRY_OUT_SIZE + Fuse.OPEN_OUT_SIZE);
    }

    Reply open(long node, int flags) { return call(Fuse.OPEN, node, le(8).putInt(flags).putInt(0).array(), null, Fuse.OPEN_OUT_SIZE); }

    Reply opendir(long node) { return call(Fuse.OPENDIR, node, le(8).putInt(Fcntl.O_RDONLY).putInt(0).array(), null, Fuse.OPEN_OUT_SIZE); }

    static byte[] rw(long fh, long offset, int size) {
        return le(40).putLong(fh).putLong(offset).putInt(size).putInt(0).putLong(0).putInt(0).putInt(0).array();
    }

    Reply write(long node, long fh, long offset, byte[] bytes) { return call(Fuse.WRITE, node, rw(fh, offset, bytes.length), bytes, Fuse.WRITE_OUT_SIZE); }

    Reply read(long node, long fh, long offset, int size) { return call(Fuse.READ, node, rw(fh, offset, size), null, size); }

    Reply readdir(int opcode, long node, long fh, long offset, int size) { return call(opcode, node, rw(fh, offset, size), null, size); }

    Reply release(long node, long fh, boolean dir) {
        return call(dir ? Fuse.RELEASEDIR : Fuse.RELEASE, node, le(24).putLong(fh).putInt(0).putInt(0).putLong(0).array(), null, 0);
    }

    Reply unlink(long parent, String name) { return call(Fuse.UNLINK, parent, z(name), null, 0); }

    Reply rmdir(long parent, String name) { return call(Fuse.RMDIR, parent, z(name), null, 0); }

    Reply symlink(long parent, String name, String target) { return call(Fuse.SYMLINK, parent, cat(z(name), z(target)), null, Fuse.ENTRY_OUT_SIZE); }

    Reply readlink(long node) { return call(Fuse.READLINK, node, new byte[0], null, 4096); }

    Reply link(long node, long newParent, String name) {
        return call(Fuse.LINK, newParent, cat(le(8).putLong(node).array(), z(name)), null, Fuse.ENTRY_OUT_SIZE);
    }

    Reply rename(long parent, String from, long newParent, String to, int flags) {
        if (flags == 0) return call(Fuse.RENAME, parent, cat(le(8).putLong(newParent).array(), z(from), z(to)), null, 0);
        return call(Fuse.RENAME2, parent, cat(le(16).putLong(newParent).putInt(flags).putInt(0).array(), z(from), z(to)), null, 0);
    }

    Reply forget(long node, long n) { return call(Fuse.FORGET, node, le(8).putLong(n).array(), null, 0); }

    @Override
    public void close() {
        server.close();
        fs.close();
        arena.close();
    }
}
