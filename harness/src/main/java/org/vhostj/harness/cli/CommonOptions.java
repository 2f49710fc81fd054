package org.vhostj.harness.cli;

import java.nio.file.Path;
import org.vhostj.harness.frontend.RingConfig;
import org.vhostj.harness.frontend.VhostSession;
import picocli.CommandLine.Option;

/** Options every device command shares: the backend, the rings, memory, output. */
public final class CommonOptions {
    @Option(names = "--socket", required = true, paramLabel = "PATH", description = "the backend's vhost-user socket")
    Path socket;

    @Option(names = "--queue-size", defaultValue = "256", description = "ring entries (split: power of 2; default ${DEFAULT-VALUE})")
    int queueSize;

    @Option(names = "--packed", description = "use packed rings (VIRTIO_F_RING_PACKED)")
    boolean packed;

    @Option(names = "--event-idx", defaultValue = "auto", description = "VIRTIO_F_EVENT_IDX: on, off or auto (use if offered; default)")
    String eventIdx;

    @Option(names = "--indirect", defaultValue = "0", paramLabel = "N", description = "put each request in an indirect table of N entries (0: direct chains)")
    int indirect;

    @Option(names = "--regions", defaultValue = "1", description = "guest memory regions (memfds) to spread buffers over (default ${DEFAULT-VALUE})")
    int regions;

    @Option(names = "--region-size", defaultValue = "64m", converter = Sizes.class, description = "size of each region (default ${DEFAULT-VALUE})")
    long regionSize;

    @Option(names = "--memory", defaultValue = "auto", description = "memory table: auto (ADD_MEM_REG if offered), table (SET_MEM_TABLE) or add-reg")
    String memory;

    @Option(names = "--no-reply-ack", description = "do not negotiate REPLY_ACK")
    boolean noReplyAck;

    @Option(names = "--timeout", defaultValue = "5000", paramLabel = "MS", description = "reply timeout for protocol messages and request timeout (ms; default ${DEFAULT-VALUE})")
    long timeoutMillis;

    @Option(names = "--poll", description = "busy-poll the used rings instead of sleeping on the call eventfd")
    boolean poll;

    @Option(names = "--backend-pid", defaultValue = "0", paramLabel = "PID", description = "report the CPU time this process uses during the run")
    long backendPid;

    @Option(names = "--json", description = "print the report as JSON on stdout")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "no progress lines")
    boolean quiet;

    VhostSession.Options sessionOptions() {
        VhostSession.Toggle ev = switch (eventIdx.toLowerCase()) {
            case "on", "true", "1" -> VhostSession.Toggle.ON;
            case "off", "false", "0" -> VhostSession.Toggle.OFF;
            case "auto" -> VhostSession.Toggle.AUTO;
            default -> throw new IllegalArgumentException("--event-idx must be on, off or auto, not " + eventIdx);
        };
        VhostSession.MemoryMode mem = switch (memory.toLowerCase()) {
            case "auto" -> VhostSession.MemoryMode.AUTO;
            case "table" -> VhostSession.MemoryMode.TABLE;
            case "add-reg", "add_reg" -> VhostSession.MemoryMode.ADD_REG;
            default -> throw new IllegalArgumentException("--memory must be auto, table or add-reg, not " + memory);
        };
        return new VhostSession.Options(socket, timeoutMillis, 0, new RingConfig(queueSize, packed, indirect), ev, regions,
                regionSize, false, mem, !noReplyAck, 0);
    }
}
