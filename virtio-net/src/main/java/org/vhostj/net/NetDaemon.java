package org.vhostj.net;

import org.vhostj.net.backend.BackendSpec;
import org.vhostj.net.backend.NetBackend;
import org.vhostj.vhost.cli.DaemonCommand;
import org.vhostj.vhost.cli.UsageException;
import org.vhostj.vhost.device.VirtioDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vhost-user-net}: the virtio-net daemon. The shared {@link DaemonCommand} owns the socket, lifecycle
 * and signals; this class validates the net options, opens the backend and builds the {@link NetDevice},
 * which closes the backend when the daemon stops.
 */
@Command(name = "vhost-user-net", sortOptions = false,
        description = "Serve a virtio-net device over vhost-user, its frames going to a tap device, a userspace switch or a UDP tunnel.")
public final class NetDaemon extends DaemonCommand {
    @Option(names = "--backend", required = true, paramLabel = "SPEC", order = 20,
            description = "tap:NAME (a Linux tap, created if absent, multiqueue, vnet header), switch:NAME (userspace learning switch "
                    + "shared by every daemon attached to NAME), udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT (frames tunnelled in UDP to a peer "
                    + "daemon); for tests and benchmarks: reflect (frames come back MAC-swapped), sink, source:LEN")
    String backend;

    @Option(names = "--mac", paramLabel = "MAC", order = 21, description = "device MAC address (default: random, locally administered)")
    String mac;

    @Option(names = "--num-queue-pairs", paramLabel = "N", order = 22, description = "RX/TX queue pairs, 1..127 (default: ${DEFAULT-VALUE})")
    int pairs = 1;

    @Option(names = "--mtu", paramLabel = "N", order = 23, description = "MTU offered to the driver, " + NetDevice.MIN_MTU + ".." + NetDevice.MAX_MTU + " (default: ${DEFAULT-VALUE})")
    int mtu = VirtioNet.DEFAULT_MTU;

    @Override
    protected VirtioDevice createDevice() {
        if (pairs < 1 || pairs > 127) throw new UsageException("--num-queue-pairs", "must be 1..127, not " + pairs);
        if (mtu < NetDevice.MIN_MTU || mtu > NetDevice.MAX_MTU) throw new UsageException("--mtu", "must be " + NetDevice.MIN_MTU + ".." + NetDevice.MAX_MTU + ", not " + mtu);
        long m;
        try {
            m = mac == null ? Macs.random() : Macs.parse(mac);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--mac", e.getMessage());
        }
        if (Macs.isMulticast(m)) throw new UsageException("--mac", mac + " is a multicast address");
        NetBackend b;
        try {
            b = BackendSpec.open(backend, pairs, mtu);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--backend", e.getMessage());
        }
        try {
            return new NetDevice(b, m, pairs, mtu);
        } catch (IllegalArgumentException e) {
            b.close();
            throw new UsageException("--backend", e.getMessage());
        }
    }

    /** Builds a device as the command line would (for tests and in-process use); IllegalArgumentException on bad options. */
    public static NetDevice createDevice(String backendSpec, String macText, int pairs, int mtu) {
        NetDaemon d = new NetDaemon();
        d.backend = backendSpec;
        d.mac = macText;
        d.pairs = pairs;
        d.mtu = mtu;
        try {
            return (NetDevice) d.createDevice();
        } catch (UsageException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    public static void main(String[] args) { System.exit(DaemonCommand.execute(new NetDaemon(), args)); }
}
