package org.vhostj.vhost.protocol;

/**
 * Front-end requests, numbered as in QEMU's docs/interop/vhost-user.rst. Each entry states the payload
 * shape it must carry and how many fds may come with it; the connection checks both before any handler
 * runs, so a handler can trust the sizes it reads.
 */
public enum Request {
    GET_FEATURES(1, Payload.NONE, 0, 0, true),
    SET_FEATURES(2, Payload.U64, 0, 0, false),
    SET_OWNER(3, Payload.NONE, 0, 0, false),
    RESET_OWNER(4, Payload.NONE, 0, 0, false),
    SET_MEM_TABLE(5, Payload.MEM_TABLE, 1, Payloads.MAX_MEM_TABLE_REGIONS, false),
    SET_LOG_BASE(6, Payload.LOG, 0, 1, true),          // with LOG_SHMFD (the only form we accept) it always replies
    SET_LOG_FD(7, Payload.NONE_OR_U64, 0, 1, false),
    SET_VRING_NUM(8, Payload.VRING_STATE, 0, 0, false),
    SET_VRING_ADDR(9, Payload.VRING_ADDR, 0, 0, false),
    SET_VRING_BASE(10, Payload.VRING_STATE, 0, 0, false),
    GET_VRING_BASE(11, Payload.VRING_STATE, 0, 0, true),
    SET_VRING_KICK(12, Payload.U64, 0, 1, false),
    SET_VRING_CALL(13, Payload.U64, 0, 1, false),
    SET_VRING_ERR(14, Payload.U64, 0, 1, false),
    GET_PROTOCOL_FEATURES(15, Payload.NONE, 0, 0, true),
    SET_PROTOCOL_FEATURES(16, Payload.U64, 0, 0, false),
    GET_QUEUE_NUM(17, Payload.NONE, 0, 0, true),
    SET_VRING_ENABLE(18, Payload.VRING_STATE, 0, 0, false),
    SEND_RARP(19, Payload.U64, 0, 0, false),
    NET_SET_MTU(20, Payload.U64, 0, 0, false),
    SET_BACKEND_REQ_FD(21, Payload.NONE_OR_U64, 1, 1, false),
    IOTLB_MSG(22, Payload.ANY, 0, 0, true),
    SET_VRING_ENDIAN(23, Payload.VRING_STATE, 0, 0, false),
    GET_CONFIG(24, Payload.CONFIG, 0, 0, true),
    SET_CONFIG(25, Payload.CONFIG, 0, 0, false),
    CREATE_CRYPTO_SESSION(26, Payload.ANY, 0, 0, true),
    CLOSE_CRYPTO_SESSION(27, Payload.U64, 0, 0, false),
    POSTCOPY_ADVISE(28, Payload.NONE, 0, 0, true),
    POSTCOPY_LISTEN(29, Payload.NONE, 0, 0, false),
    POSTCOPY_END(30, Payload.NONE, 0, 0, true),
    GET_INFLIGHT_FD(31, Payload.INFLIGHT, 0, 0, true),
    SET_INFLIGHT_FD(32, Payload.INFLIGHT, 1, 1, false),
    GPU_SET_SOCKET(33, Payload.NONE, 1, 1, false),
    RESET_DEVICE(34, Payload.NONE, 0, 0, false),
    VRING_KICK(35, Payload.VRING_STATE, 0, 0, false),
    GET_MAX_MEM_SLOTS(36, Payload.NONE, 0, 0, true),
    ADD_MEM_REG(37, Payload.SINGLE_REGION, 1, 1, false),
    REM_MEM_REG(38, Payload.SINGLE_REGION, 0, 1, false),
    SET_STATUS(39, Payload.U64, 0, 0, false),
    GET_STATUS(40, Payload.NONE, 0, 0, true),
    GET_SHARED_OBJECT(41, Payload.ANY, 0, 0, true),
    SET_DEVICE_STATE_FD(42, Payload.ANY, 0, 1, true),
    CHECK_DEVICE_STATE(43, Payload.NONE, 0, 0, true);

    /** Payload shapes; sizes are checked exactly (or by their own rule for variable ones). */
    public enum Payload { NONE, U64, NONE_OR_U64, VRING_STATE, VRING_ADDR, MEM_TABLE, SINGLE_REGION, LOG, CONFIG, INFLIGHT, ANY }

    public final int code;
    public final Payload payload;
    public final int minFds, maxFds;
    /** The request always has a reply body (independent of REPLY_ACK). */
    public final boolean hasReply;

    Request(int code, Payload payload, int minFds, int maxFds, boolean hasReply) {
        this.code = code;
        this.payload = payload;
        this.minFds = minFds;
        this.maxFds = maxFds;
        this.hasReply = hasReply;
    }

    private static final Request[] BY_CODE = new Request[64];
    static { for (Request r : values()) BY_CODE[r.code] = r; }

    /** The request with this code, or null for a code the spec does not define. */
    public static Request of(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
