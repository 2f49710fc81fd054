package org.vhostj.vhost.protocol;

/** VHOST_USER_PROTOCOL_F_* bit numbers (vhost-user.rst "Protocol features"). */
public final class ProtocolFeature {
    private ProtocolFeature() {}

    public static final int MQ = 0, LOG_SHMFD = 1, RARP = 2, REPLY_ACK = 3, NET_MTU = 4, BACKEND_REQ = 5,
            CROSS_ENDIAN = 6, CRYPTO_SESSION = 7, PAGEFAULT = 8, CONFIG = 9, BACKEND_SEND_FD = 10,
            HOST_NOTIFIER = 11, INFLIGHT_SHMFD = 12, RESET_DEVICE = 13, INBAND_NOTIFICATIONS = 14,
            CONFIGURE_MEM_SLOTS = 15, STATUS = 16, XEN_MMAP = 17, SHARED_OBJECT = 18, DEVICE_STATE = 19;

    public static long bit(int feature) { return 1L << feature; }

    public static boolean has(long features, int feature) { return (features & (1L << feature)) != 0; }
}
