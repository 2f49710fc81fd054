package org.vhostj.perf.loop;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.vhostj.sys.Epoll;
import org.vhostj.sys.EventFd;

/**
 * Decides the event loop of the queue workers: eventfd ping-pong between a driver thread and a loop
 * thread that waits in (a) our FFM epoll loop, as the workers do, or (b) netty 4.2's epoll IoEventLoop with
 * the eventfd registered as a raw IoHandle. A kick/interrupt round trip is exactly what a worker does per
 * notification. Runs are interleaved (A B A B ...) and the best of each is compared, because cross-vCPU
 * wakeups on a 2-core VM are noisy; the median of each is compared (a loop that happens to spin on a free
 * vCPU produces outliers in either direction).
 *
 * <p>Run: {@code java -cp perf/target/perf-*.jar:perf/target/lib/* org.vhostj.perf.loop.EventLoopBench [roundTrips] [rounds]}
 */
public final class EventLoopBench {
    private EventLoopBench() {}

    public static void main(String[] args) throws Exception {
        int roundTrips = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<Double> ffm = new ArrayList<>(), netty = new ArrayList<>();
        ffmLoop(roundTrips / 10);     // warm up both
        nettyLoop(roundTrips / 10);
        for (int r = 0; r < rounds; r++) {
            ffm.add(ffmLoop(roundTrips));
            netty.add(nettyLoop(roundTrips));
        }
        double medFfm = median(ffm), medNetty = median(netty);
        System.out.printf("eventfd round trips/s   FFM epoll loop: median %,.0f (runs %s)%n", medFfm, fmt(ffm));
        System.out.printf("eventfd round trips/s   netty IoHandle: median %,.0f (runs %s)%n", medNetty, fmt(netty));
        System.out.printf("ratio FFM / netty (medians): %.2f%n", medFfm / medNetty);
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static String fmt(List<Double> v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) b.append(b.isEmpty() ? "" : " ").append(String.format("%.0f", d));
        return b.toString();
    }

    /** The worker's loop: epoll_wait, read the kick, answer on the call eventfd. */
    static double ffmLoop(int n) throws Exception {
        try (EventFd kick = EventFd.create(); EventFd call = EventFd.create(EventFd.EFD_CLOEXEC); Epoll ep = new Epoll(8)) {
            ep.add(kick.fd(), Epoll.EPOLLIN, 1);
            Thread loop = Thread.ofPlatform().start(() -> {
                int done = 0;
                while (done < n) {
                    int k = ep.await(-1);
                    for (int i = 0; i < k; i++) {
                        long v = kick.read();
                        if (v > 0) { done += (int) v; call.write(v); }
                    }
                }
            });
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                kick.signal();
                call.read();   // blocking eventfd: waits for the loop's answer
            }
            long ns = System.nanoTime() - t0;
            loop.join();
            return n * 1e9 / ns;
        }
    }

    /** The same with netty's epoll IoEventLoop: the kick eventfd is a raw IoHandle. */
    static double nettyLoop(int n) throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (EventFd kick = EventFd.create(); EventFd call = EventFd.create(EventFd.EFD_CLOEXEC)) {
            CountDownLatch finished = new CountDownLatch(1);
            int[] done = {0};
            IoHandle handle = new EpollIoHandle() {
                final FileDescriptor fd = new FileDescriptor(kick.fd());
                @Override public FileDescriptor fd() { return fd; }
                @Override public void handle(IoRegistration registration, IoEvent event) {
                    long v = kick.read();
                    if (v > 0) { done[0] += (int) v; call.write(v); }
                    if (done[0] >= n) finished.countDown();
                }
                @Override public void close() { }   // the EventFd owner closes the fd
            };
            IoEventLoop loop = (IoEventLoop) group.next();
            IoRegistration reg = loop.register(handle).sync().getNow();
            reg.submit(EpollIoOps.EPOLLIN);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                kick.signal();
                call.read();
            }
            long ns = System.nanoTime() - t0;
            finished.await();
            reg.cancel();
            return n * 1e9 / ns;
        } finally {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).sync();
        }
    }
}
