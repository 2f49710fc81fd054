package org.vhostj.net.backend;

/**
 * Parses {@code --backend SPEC} and opens the backend:
 * <ul>
 *   <li>{@code tap:NAME}: a Linux tap device ({@link TapBackend});</li>
 *   <li>{@code switch:NAME}: a userspace learning switch shared by every daemon attached to NAME ({@link SwitchBackend});</li>
 *   <li>{@code udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT}: frames tunnelled in UDP datagrams to a peer daemon ({@link UdpBackend});</li>
 *   <li>test and benchmark backends: {@code reflect} (frames come back with MACs swapped), {@code sink},
 *   {@code source:LEN} ({@link ReflectBackend}).</li>
 * </ul>
 */
public final class BackendSpec {
    private BackendSpec() {}

    /** Opens the backend {@code spec} names for {@code pairs} queue pairs; IllegalArgumentException says what is wrong. */
    public static NetBackend open(String spec, int pairs, int mtu) {
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? spec : spec.substring(0, colon), arg = colon < 0 ? "" : spec.substring(colon + 1);
        int maxFrame = mtu + 18;
        return switch (kind) {
            case "tap" -> new TapBackend(requireArg(spec, arg, "tap:NAME"), pairs);
            case "switch" -> new SwitchBackend(requireArg(spec, arg, "switch:NAME"), pairs);
            case "udp" -> UdpBackend.open(requireArg(spec, arg, "udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT"), pairs, maxFrame);
            case "reflect" -> new ReflectBackend(ReflectBackend.Mode.REFLECT, pairs, maxFrame, 0);
            case "sink" -> new ReflectBackend(ReflectBackend.Mode.SINK, pairs, maxFrame, 0);
            case "source" -> {
                int len;
                try { len = Integer.parseInt(requireArg(spec, arg, "source:LEN")); } catch (NumberFormatException e) { len = -1; }
                if (len < 14 || len > maxFrame) throw new IllegalArgumentException("source:LEN needs a frame length of 14.." + maxFrame + ": " + spec);
                yield new ReflectBackend(ReflectBackend.Mode.SOURCE, pairs, maxFrame, len);
            }
            default -> throw new IllegalArgumentException("unknown backend '" + kind + "' in '" + spec
                    + "' (tap:NAME, switch:NAME, udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT, reflect, sink, source:LEN)");
        };
    }

    private static String requireArg(String spec, String arg, String form) {
        if (arg.isEmpty()) throw new IllegalArgumentException("backend '" + spec + "' needs an argument: " + form);
        return arg;
    }
}
