package org.vhostj.net;

/**
 * virtio-net wire constants (virtio 1.2 section 5.1; linux/virtio_net.h), shared by the device and by the
 * harness's driver. Little-endian.
 * <pre>
 * struct virtio_net_hdr_v1 { u8 flags @0; u8 gso_type @1; le16 hdr_len @2; le16 gso_size @4;
 *                            le16 csum_start @6; le16 csum_offset @8; le16 num_buffers @10; }   // 12 bytes
 * (with VERSION_1 or MRG_RXBUF the header is 12 bytes; a legacy device without MRG_RXBUF uses 10)
 * struct virtio_net_config { u8 mac[6] @0; le16 status @6; le16 max_virtqueue_pairs @8; le16 mtu @10;
 *                            le32 speed @12; u8 duplex @16; ... }                            // 17 used here
 * struct virtio_net_ctrl_hdr { u8 class; u8 cmd; } then command data, then u8 ack (device-writable)
 * </pre>
 * Queues: RX of pair i is 2i, TX of pair i is 2i+1, the control queue is last (2 * max pairs).
 */
public final class VirtioNet {
    private VirtioNet() {}

    public static final int DEVICE_TYPE = 1;

    public static final int F_CSUM = 0, F_GUEST_CSUM = 1, F_CTRL_GUEST_OFFLOADS = 2, F_MTU = 3, F_MAC = 5,
            F_GUEST_TSO4 = 7, F_GUEST_TSO6 = 8, F_GUEST_ECN = 9, F_GUEST_UFO = 10, F_HOST_TSO4 = 11,
            F_HOST_TSO6 = 12, F_HOST_ECN = 13, F_HOST_UFO = 14, F_MRG_RXBUF = 15, F_STATUS = 16, F_CTRL_VQ = 17,
            F_CTRL_RX = 18, F_CTRL_VLAN = 19, F_CTRL_RX_EXTRA = 20, F_GUEST_ANNOUNCE = 21, F_MQ = 22,
            F_CTRL_MAC_ADDR = 23, F_SPEED_DUPLEX = 63;

    public static final int S_LINK_UP = 1, S_ANNOUNCE = 2;

    public static final int HDR_SIZE = 12, HDR_LEGACY_SIZE = 10;
    public static final int HDR_FLAGS_OFFSET = 0, HDR_GSO_TYPE_OFFSET = 1, HDR_HDR_LEN_OFFSET = 2,
            HDR_GSO_SIZE_OFFSET = 4, HDR_CSUM_START_OFFSET = 6, HDR_CSUM_OFFSET_OFFSET = 8,
            HDR_NUM_BUFFERS_OFFSET = 10;
    public static final int HDR_F_NEEDS_CSUM = 1, HDR_F_DATA_VALID = 2;
    public static final int GSO_NONE = 0, GSO_TCPV4 = 1, GSO_UDP = 3, GSO_TCPV6 = 4, GSO_ECN = 0x80;

    public static final int CONFIG_SIZE = 17, CONFIG_MAC_OFFSET = 0, CONFIG_STATUS_OFFSET = 6,
            CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET = 8, CONFIG_MTU_OFFSET = 10, CONFIG_SPEED_OFFSET = 12,
            CONFIG_DUPLEX_OFFSET = 16;

    public static final byte CTRL_OK = 0, CTRL_ERR = 1;
    public static final int CTRL_RX = 0, CTRL_RX_PROMISC = 0, CTRL_RX_ALLMULTI = 1, CTRL_RX_ALLUNI = 2,
            CTRL_RX_NOMULTI = 3, CTRL_RX_NOUNI = 4, CTRL_RX_NOBCAST = 5;
    public static final int CTRL_MAC = 1, CTRL_MAC_TABLE_SET = 0, CTRL_MAC_ADDR_SET = 1;
    public static final int CTRL_VLAN = 2, CTRL_ANNOUNCE = 3, CTRL_ANNOUNCE_ACK = 0;
    public static final int CTRL_MQ = 4, CTRL_MQ_VQ_PAIRS_SET = 0, CTRL_MQ_VQ_PAIRS_MIN = 1, CTRL_MQ_VQ_PAIRS_MAX = 0x8000;
    public static final int CTRL_GUEST_OFFLOADS = 5, CTRL_GUEST_OFFLOADS_SET = 0;

    public static final int ETH_HEADER_SIZE = 14, ETH_MIN_FRAME = 14, DEFAULT_MTU = 1500;
    /** Largest frame with TSO/GSO offloads: 64 KiB of payload plus headers. */
    public static final int MAX_GSO_FRAME = 65550;
}
