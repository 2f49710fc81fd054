package org.vhostj.harness.guest;

/**
 * The guest-side test scripts shipped in every {@link GuestImage} under /cases (resources
 * org/vhostj/harness/guest/cases/*.sh; each script's header documents its environment variables and
 * the {@code RESULT} lines it prints). A script exits non-zero, after a "FAIL: reason" line, when its
 * check fails.
 */
public enum GuestCase {
    /** Lists block devices, interfaces and virtio devices: RESULT smoke virtio= blk= net=. */
    SMOKE("smoke"),
    /** O_DIRECT write of random data, drop_caches, read-back MD5; then 4 KiB requests at an odd offset. */
    BLK_VERIFY("blk-verify"),
    /** mke2fs, mount, write files, umount, drop_caches, remount and compare. */
    BLK_MKFS("blk-mkfs"),
    /** Numbered, checksummed O_DIRECT+fsync records with an ACK console line each (see {@link BlkCrashLedger}). */
    BLK_CRASH("blk-crash"),
    /** virtiofs mount: data and metadata operations, MD5s for the host, a host-side change seen in the guest. */
    FS_VERIFY("fs-verify"),
    /** Ping a peer address through an echoing net backend (testpmd 5tswap). */
    NET_PING("net-ping"),
    /** fio on the raw disk (needs an image built with fio). */
    BLK_FIO("blk-fio"),
    /** fio on the virtiofs mount (needs an image built with fio). */
    FS_FIO("fs-fio");

    /** Sourced by every case; not a case itself. */
    static final String LIBRARY = "lib.sh";

    private final String id;

    GuestCase(String id) {
        this.id = id;
    }

    /** File name in /cases and in the resources. */
    public String fileName() {
        return id + ".sh";
    }

    /** The guest shell line that runs this case (sourced, so its {@code exit} ends the test script). */
    public String command() {
        return ". /cases/" + fileName();
    }
}
