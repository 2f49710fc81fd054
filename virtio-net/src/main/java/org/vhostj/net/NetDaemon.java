package org.vhostj.net;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.vhostj.net.backend.BackendSpec;
import org.vhostj.net.backend.NetBackend;
import org.vhostj.vhost.daemon.Daemon;
import org.vhostj.vhost.daemon.DaemonOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vhost-user-net}: the virtio-net daemon. Builds a {@link NetDevice} over the backend {@code --backend}
 * names and serves it on the vhost-user socket.
 */
@Command(name = "vhost-user-net", mixinStandardHelpOptions = true,
        description = "vhost-user virtio-net backend: tap:NAME, switch:NAME, udp:LOCAL:PORT,REMOTE:PORT (test: reflect, sink, source:LEN)")
public final class NetDaemon implements Callable<Integer> {
    @Option(names = {"--socket-path", "--socket"}, required = true, paramLabel = "PATH", description = "vhost-user socket to create")
    Path socket;

    @Option(names = "--backend", required = true, paramLabel = "SPEC", description = "tap:NAME | switch:NAME | udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT | reflect | sink | source:LEN")
    String backend;

    @Option(names = "--mac", paramLabel = "MAC", description = "device MAC (default: random, locally administered)")
    String mac;

    @Option(names = "--num-queue-pairs", paramLabel = "N", defaultValue = "1", description = "RX/TX queue pairs (default 1)")
    int pairs;

    @Option(names = "--mtu", paramLabel = "N", defaultValue = "1500", description = "MTU offered to the driver (default 1500)")
    int mtu;

    @Option(names = "--poll-us", paramLabel = "N", defaultValue = "0", description = "busy-poll queues this long after their last request")
    int pollMicros;

    /** Validates the options and builds the device (owning its backend). IllegalArgumentException on bad options. */
    public static NetDevice createDevice(String backendSpec, String macText, int pairs, int mtu) {
        if (pairs < 1 || pairs > 127) throw new IllegalArgumentException("--num-queue-pairs must be 1..127: " + pairs);
        if (mtu < NetDevice.MIN_MTU || mtu > NetDevice.MAX_MTU) throw new IllegalArgumentException("--mtu must be " + NetDevice.MIN_MTU + ".." + NetDevice.MAX_MTU + ": " + mtu);
        long m = macText == null ? Macs.random() : Macs.parse(macText);
        if (Macs.isMulticast(m)) throw new IllegalArgumentException("--mac must be a unicast address: " + macText);
        NetBackend b = BackendSpec.open(backendSpec, pairs, mtu);
        try {
            return new NetDevice(b, m, pairs, mtu);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    @Override
    public Integer call() throws Exception {
        NetDevice device;
        try {
            device = createDevice(backend, mac, pairs, mtu);
        } catch (IllegalArgumentException e) {
            System.err.println("vhost-user-net: " + e.getMessage());
            return 2;
        }
        try (Daemon d = new Daemon(device, DaemonOptions.forSocket(socket).withPollMicros(pollMicros))) {
            d.start();
            Runtime.getRuntime().addShutdownHook(new Thread(d::close));
            d.awaitTermination();
        }
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new NetDaemon()).execute(args));
    }
}
