/**
 * Real Linux guests against vhost-user backends, for the device modules' acceptance tests and perf.
 *
 * <p>{@link org.vhostj.harness.guest.GuestImage} builds (once, cached) Debian's 6.1 kernel and a
 * busybox initramfs with the virtio modules and the {@link org.vhostj.harness.guest.GuestCase}
 * scripts; {@link org.vhostj.harness.guest.QemuGuest} boots it under QEMU 7.2 with vhost-user devices
 * and returns a {@link org.vhostj.harness.guest.GuestResult}. A test whose backend listens on
 * {@code sock}:
 *
 * <pre>{@code
 * HostPackages.assumeSlowTestsEnabled();
 * for (HostProgram p : GuestImage.hostPrograms(false)) HostPackages.require(p.program(), p.debianPackage());
 * GuestResult r = QemuGuest.of(GuestImage.shared(false))
 *         .device(new QemuGuest.Blk(sock, 2, false, false))
 *         .run(GuestCase.BLK_VERIFY).env("BLK_VERIFY_MB", 16)
 *         .run();
 * assertTrue(r.passed(), r.summary());
 * String md5 = r.value("blk_verify", "md5");    // compare with the backend's file
 * }</pre>
 *
 * For host actions while the guest runs, {@link org.vhostj.harness.guest.QemuGuest#start()} returns a
 * {@link org.vhostj.harness.guest.RunningGuest}: wait for a console line with
 * {@code awaitLine}, act, then {@code await()} the result; {@code onConsoleLine} streams every line
 * (the blk crash test feeds them to a {@link org.vhostj.harness.guest.BlkCrashLedger}).
 * {@link org.vhostj.harness.guest.ReferencePeer} starts the reference backends to compare with.
 * NET-TCG-MSIX.md (resources) explains why vhost-user net devices get INTx under TCG.
 */
package org.vhostj.harness.guest;
