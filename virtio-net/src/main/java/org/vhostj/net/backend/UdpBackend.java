package org.vhostj.net.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vhostj.net.FrameBuffers;
import org.vhostj.sys.Errno;
import org.vhostj.sys.EventFd;

/**
 * {@code udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT}: the guest's frames tunnelled to a peer daemon on another host,
 * one bare Ethernet frame per UDP datagram, so the guests on both ends share one L2 segment. The socket is a
 * netty epoll {@link EpollDatagramChannel} on its own one-thread event loop.
 * <ul>
 *   <li>Receive: the event loop checks each datagram (from the configured peer only, 14..MTU+18 bytes) and
 *   hands it to one of the queue pairs whose receive queue runs, chosen by a hash of its flow (IP addresses,
 *   protocol and ports; MAC addresses for other frames), so one flow stays on one pair and in order, through
 *   that pair's bounded single-producer single-consumer ring of {@value #RING} buffers and an eventfd its
 *   worker watches; the worker copies it into guest memory. Before any receive queue runs, frames wait on
 *   pair 0. A full ring drops (counted in {@link #receiveDrops()}).</li>
 *   <li>Send: any pair's worker copies the frame from guest memory into a pooled direct buffer and writes it
 *   on the channel (netty hands it to the event loop); a channel over its write high-water mark refuses it
 *   (EAGAIN: the device counts a backend drop).</li>
 * </ul>
 * Frames never pass through the Java heap: guest memory to and from netty's direct buffers.
 */
public final class UdpBackend implements NetBackend {
    private static final Logger log = LoggerFactory.getLogger(UdpBackend.class);
    static final int RING = 1024;

    private final InetSocketAddress local, remote;
    private final int pairs, maxFrame;
    private final EventLoopGroup group;
    private final Channel channel;
    private final AtomicLong receiveDrops = new AtomicLong();
    private final Port[] ports;
    /** The pairs whose receive queues run (an immutable array, replaced by the workers, read by the event loop). */
    private volatile int[] receivers = new int[0];

    private UdpBackend(InetSocketAddress local, InetSocketAddress remote, int pairs, int maxFrame) {
        this.local = local;
        this.remote = remote;
        this.pairs = pairs;
        this.maxFrame = maxFrame;
        if (!Epoll.isAvailable()) throw new IllegalArgumentException("netty epoll is not available: " + Epoll.unavailabilityCause());
        ports = new Port[pairs];   // before the bind: the event loop hands datagrams to them from then on
        for (int p = 0; p < pairs; p++) ports[p] = new Port(p);
        group = new MultiThreadIoEventLoopGroup(1, (java.util.concurrent.ThreadFactory) r -> Thread.ofPlatform().daemon(true).name("vhostj-udp").unstarted(r), EpollIoHandler.newFactory());
        try {
            channel = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.SO_RCVBUF, 4 << 20).option(ChannelOption.SO_SNDBUF, 4 << 20)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .handler(new Inbound()).bind(local).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            for (Port p : ports) p.close();
            throw new IllegalArgumentException("udp: cannot bind " + local + ": " + e.getMessage(), e);
        }
        log.info("udp backend: {} <-> {}", channel.localAddress(), remote);
    }

    /** Parses {@code LOCAL_ADDR:PORT,REMOTE_ADDR:PORT} and binds. */
    static NetBackend open(String arg, int pairs, int maxFrame) {
        String[] two = arg.split(",");
        if (two.length != 2) throw new IllegalArgumentException("udp backend wants LOCAL_ADDR:PORT,REMOTE_ADDR:PORT, got '" + arg + "'");
        return new UdpBackend(address(two[0], true), address(two[1], false), pairs, maxFrame);
    }

    private static InetSocketAddress address(String s, boolean local) {
        int c = s.lastIndexOf(':');
        if (c < 0) throw new IllegalArgumentException("'" + s + "' is not ADDR:PORT");
        String host = s.substring(0, c);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try { port = Integer.parseInt(s.substring(c + 1)); } catch (NumberFormatException e) { port = -1; }
        if (port < (local ? 0 : 1) || port > 65535) throw new IllegalArgumentException("bad port in '" + s + "'");
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown host in '" + s + "'");
        }
    }

    @Override public String describe() { return "udp:" + local + "," + remote; }

    @Override public int maxPairs() { return pairs; }

    @Override public NetPort port(int pair) { return ports[pair]; }

    /** The bound local address (the port, when 0 was asked for). */
    public InetSocketAddress localAddress() { return (InetSocketAddress) channel.localAddress(); }

    /** Datagrams dropped on receive: from a stranger, of a bad size, or with the hand-off ring full. */
    public long receiveDrops() { return receiveDrops.get(); }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        for (Port p : ports) p.close();
    }

    /** Pair {@code pair}'s receive queue started (true) or stopped taking frames. */
    private synchronized void setReceiving(int pair, boolean on) {
        int[] r = receivers;
        boolean has = java.util.Arrays.stream(r).anyMatch(x -> x == pair);
        if (on == has) return;
        receivers = on ? java.util.stream.IntStream.concat(java.util.Arrays.stream(r), java.util.stream.IntStream.of(pair)).sorted().toArray()
                : java.util.Arrays.stream(r).filter(x -> x != pair).toArray();
    }

    /**
     * A hash of the frame's flow: IPv4 or IPv6 addresses, protocol and (TCP, UDP, unfragmented) ports;
     * the two MAC addresses for anything else. Equal for every frame of a flow, so its frames keep their order.
     */
    static int flowHash(ByteBuf b) {
        int at = b.readerIndex(), len = b.readableBytes();
        int type = b.getUnsignedShort(at + 12);
        int h;
        if (type == 0x0800 && len >= 34) {
            int ihl = (b.getByte(at + 14) & 0x0f) * 4, proto = b.getUnsignedByte(at + 23);
            h = b.getInt(at + 26) * 31 + b.getInt(at + 30);
            h = h * 31 + proto;
            boolean fragment = (b.getUnsignedShort(at + 20) & 0x3fff) != 0;
            if ((proto == 6 || proto == 17) && !fragment && ihl >= 20 && len >= 14 + ihl + 4) h = h * 31 + b.getInt(at + 14 + ihl);
        } else if (type == 0x86dd && len >= 54) {
            int next = b.getUnsignedByte(at + 20);
            h = next;
            for (int i = 22; i < 54; i += 4) h = h * 31 + b.getInt(at + i);
            if ((next == 6 || next == 17) && len >= 58) h = h * 31 + b.getInt(at + 54);
        } else {
            h = b.getInt(at) * 31 + b.getInt(at + 4);
            h = h * 31 + b.getInt(at + 8);
        }
        return h ^ (h >>> 16);
    }

    /** The event loop's receive side: check, then hand over to the worker of the flow's pair. */
    private final class Inbound extends SimpleChannelInboundHandler<DatagramPacket> {
        Inbound() { super(false); }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            ByteBuf b = p.content();
            int len = b.readableBytes();
            if (!p.sender().equals(remote) || len < 14 || len > maxFrame) {
                receiveDrops.incrementAndGet();
                b.release();
                return;
            }
            int[] r = receivers;
            Port to = ports[r.length == 0 ? 0 : r[Integer.remainderUnsigned(flowHash(b), r.length)]];
            if (!to.offer(b)) {
                receiveDrops.incrementAndGet();
                b.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("udp backend: {}", cause.toString());
        }
    }

    final class Port implements NetPort {
        private final int pair;
        private final EventFd wake = EventFd.create();
        private final AtomicReferenceArray<ByteBuf> ring = new AtomicReferenceArray<>(RING);
        /** Written by the event loop (producer) and the worker (consumer) respectively; release/acquire pairs. */
        private final AtomicLong head = new AtomicLong(), tail = new AtomicLong();

        Port(int pair) { this.pair = pair; }

        /** Event loop: queues a datagram for this pair's worker; false when the ring is full. */
        boolean offer(ByteBuf b) {
            long t = tail.get(), h = head.getAcquire();
            if (t - h == RING) return false;
            ring.setPlain((int) (t & (RING - 1)), b);
            tail.setRelease(t + 1);   // release: the slot is written before the worker can see it
            if (t == h) wake.signal();
            return true;
        }

        @Override public int rxFd() { return wake.fd(); }

        @Override
        public long receive(FrameBuffers into) {
            long h = head.get();
            if (h == tail.getAcquire()) {
                wake.drain();
                if (h == tail.getAcquire()) return -Errno.EAGAIN;   // re-check: a frame may have come between
            }
            int slot = (int) (h & (RING - 1));
            ByteBuf b = ring.getPlain(slot);
            ring.setPlain(slot, null);
            int len = b.readableBytes();
            into.copyIn(MemorySegment.ofBuffer(b.nioBuffer(b.readerIndex(), len)), 0, len);
            b.release();
            head.setRelease(h + 1);
            return len;
        }

        @Override
        public long send(FrameBuffers frame, long dstMac, long srcMac) {
            if (!channel.isWritable()) return -Errno.EAGAIN;
            int len = (int) frame.totalBytes();
            ByteBuf b = channel.alloc().directBuffer(len);
            frame.copyOut(MemorySegment.ofBuffer(b.nioBuffer(0, len)), 0, len);
            b.writerIndex(len);
            channel.writeAndFlush(new DatagramPacket(b, remote), channel.voidPromise());
            return len;
        }

        @Override public void rxStarted() { setReceiving(pair, true); }

        @Override public void rxStopped() { setReceiving(pair, false); }

        /** After the channel closed (no producer left): frees what is still queued. */
        void close() {
            for (long i = head.get(); i != tail.get(); i++) {
                ByteBuf b = ring.getAndSet((int) (i & (RING - 1)), null);
                if (b != null) b.release();
            }
            wake.close();
        }
    }
}
