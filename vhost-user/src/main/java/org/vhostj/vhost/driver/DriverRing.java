package org.vhostj.vhost.driver;

/**
 * The driver side of one virtqueue (what a guest's virtio driver does): it lists buffers in the ring,
 * publishes them, decides whether the device must be kicked, reads completions and suppresses or
 * re-enables used-buffer notifications. Written from the virtio 1.2 spec (2.7 split, 2.8 packed),
 * independently of the device side in {@code org.vhostj.vhost.ring}, so the two can check each other.
 *
 * <p>Owned by one thread (a harness queue worker or a test): no method is thread-safe. The data path
 * ({@link #add}, {@link #publish}, {@link #pollUsed}) does not allocate. What a device does wrong (an
 * unknown id in the used ring, a used length above what the driver offered, a used index that runs
 * ahead) is counted as a {@link #violations() violation}, never thrown.
 */
public interface DriverRing {
    /** {@link #add} found no room (descriptors, ring slots or buffer ids). */
    int NO_SPACE = -1;
    /** {@link #pollUsed}: nothing completed. */
    int NONE = -1;
    /** {@link #pollUsed}: the device returned something invalid (see {@link #lastViolation()}). */
    int BAD_USED = -2;

    /** Number of entries (the queue size told to the device with SET_VRING_NUM). */
    int size();

    boolean packed();

    /** Whether VIRTIO_F_EVENT_IDX was negotiated for this ring (event index / descriptor event suppression). */
    boolean eventIdx();

    /** Largest number of buffers one {@link #add} may list; indirect chains may list up to the indirect table size. */
    int maxChainLength(boolean indirect);

    /**
     * Lists {@code buffers} as one chain (in one indirect table if {@code indirect}) without showing it to the
     * device yet. Returns the chain's id, which {@link #pollUsed} returns when the device is done with it (a
     * descriptor index for split rings, a buffer id for packed ones; always in {@code [0, size)}), or
     * {@link #NO_SPACE}.
     */
    int add(BufferList buffers, boolean indirect);

    /**
     * Makes every chain added since the last publish available to the device, with release ordering, then
     * reads the device's notification suppression. Returns true if the device asked to be kicked for them.
     */
    boolean publish();

    /**
     * The next completed chain's id, reading the used ring with acquire ordering; {@link #NONE} if there is
     * none yet, {@link #BAD_USED} if the device wrote something invalid. {@link #usedLength()} then holds the
     * length the device reported.
     */
    int pollUsed();

    /** Used length of the chain {@link #pollUsed} last returned (an unsigned 32-bit value). */
    int usedLength();

    /**
     * Whether {@link #usedLength()} is meaningful: always for split rings; for packed ones only if the used
     * descriptor has VIRTQ_DESC_F_WRITE ("data was written"; without it the length is reserved, virtio 1.2
     * 2.8.3 and 2.8.4, and reads as 0 here).
     */
    default boolean usedLengthValid() { return true; }

    /** Where the driver has consumed the used ring to: split the used index, packed slot | wrap counter << 15. */
    int usedBase();

    /** Asks the device not to send used-buffer notifications (a hint: it may still send some). */
    void disableInterrupts();

    /**
     * Asks for a notification at the next used buffer. Returns true if used buffers are already waiting (the
     * caller must poll again rather than sleep: the device may have completed them before it saw the request).
     */
    boolean enableInterrupts();

    /** Chains added and not yet completed. */
    int inFlight();

    /** Free descriptors (split) or free ring slots (packed). */
    int freeDescriptors();

    /** The value for SET_VRING_BASE: the next available index (packed: bit 15 holds the wrap counter). */
    int vringBase();

    /** Descriptor area (descriptor table or packed descriptor ring). */
    RingArea descriptorArea();

    /** Driver area (split: available ring; packed: driver event suppression). */
    RingArea driverArea();

    /** Device area (split: used ring; packed: device event suppression). */
    RingArea deviceArea();

    /** Count of invalid things the device did on this ring. */
    long violations();

    /** What the last violation was, or null. */
    String lastViolation();

    /**
     * True once the device wrote something the driver cannot continue from (a used index running ahead, an
     * unknown packed buffer id): every further {@link #pollUsed} returns {@link #BAD_USED}.
     */
    boolean broken();

    /**
     * Adds {@code buffers} as a deliberately malformed chain (for hostile testing of devices). Returns the id
     * the device would complete it with, or {@link #NO_SPACE}. The ring's own bookkeeping stays sound: if the
     * device completes the chain, its descriptors are reclaimed as usual. Throws IllegalArgumentException for
     * a corruption this ring layout cannot express.
     */
    int addCorrupt(BufferList buffers, ChainCorruption corruption);

    /** u16 test from Linux's vring_need_event: did the index move from {@code oldIdx} past {@code eventIdx} to {@code newIdx}? */
    static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
}
