package org.vhostj.vhost.protocol;

/**
 * The 12-byte vhost-user message header, native (little-endian) byte order:
 * <pre>
 *   u32 request @0;  u32 flags @4;  u32 size @8;     // then size bytes of payload
 *   flags: bits 0-1 version (1), bit 2 REPLY, bit 3 NEED_REPLY, others reserved (0)
 * </pre>
 */
public final class MessageHeader {
    private MessageHeader() {}

    public static final int SIZE = 12;
    public static final long REQUEST_OFFSET = 0, FLAGS_OFFSET = 4, SIZE_OFFSET = 8;
    public static final int VERSION = 1, VERSION_MASK = 0x3, REPLY = 0x4, NEED_REPLY = 0x8;
    public static final int KNOWN_FLAGS = VERSION_MASK | REPLY | NEED_REPLY;
    /** No request of the spec comes near this; a larger size is a malformed header (rust-vmm's MAX_MSG_SIZE). */
    public static final int MAX_PAYLOAD = 0x1000;
}
