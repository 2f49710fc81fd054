package org.vhostj.vhost.protocol;

/**
 * Transport feature bits (virtio 1.2 section 6) and the vhost bits that share the feature word. Device
 * types define their own bits below 24.
 */
public final class VirtioFeature {
    private VirtioFeature() {}

    public static final int NOTIFY_ON_EMPTY = 24, ANY_LAYOUT = 27, RING_INDIRECT_DESC = 28, RING_EVENT_IDX = 29,
            VERSION_1 = 32, ACCESS_PLATFORM = 33, RING_PACKED = 34, IN_ORDER = 35, ORDER_PLATFORM = 36,
            SR_IOV = 37, NOTIFICATION_DATA = 38, NOTIF_CONFIG_DATA = 39, RING_RESET = 40;
    /** vhost: the front-end can log writes for migration. */
    public static final int VHOST_F_LOG_ALL = 26;
    /** vhost-user: GET/SET_PROTOCOL_FEATURES are supported (reuses the reserved bit 30). */
    public static final int VHOST_USER_F_PROTOCOL_FEATURES = 30;

    public static long bit(int feature) { return 1L << feature; }

    public static boolean has(long features, int feature) { return (features & (1L << feature)) != 0; }

    /** Device status bits (virtio 1.2 2.1). */
    public static final int STATUS_ACKNOWLEDGE = 1, STATUS_DRIVER = 2, STATUS_DRIVER_OK = 4, STATUS_FEATURES_OK = 8,
            STATUS_NEEDS_RESET = 64, STATUS_FAILED = 128;
}
