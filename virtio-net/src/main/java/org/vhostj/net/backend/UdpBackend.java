package org.vhostj.net.backend;

/** {@code udp:LOCAL_ADDR:PORT,REMOTE_ADDR:PORT}: not implemented yet. */
final class UdpBackend {
    private UdpBackend() {}

    static NetBackend open(String arg, int pairs, int maxFrame) {
        throw new IllegalArgumentException("the udp backend is not implemented yet");
    }
}
