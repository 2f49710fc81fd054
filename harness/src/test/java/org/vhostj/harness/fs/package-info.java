/**
 * Acceptance of the virtio-fs daemon ({@code org.vhostj.fs.FsDaemon}) against QEMU 7.2's C virtiofsd as the
 * reference, every test parameterized over both backends ({@link org.vhostj.harness.fs.FsBackend.Kind}):
 * <ul>
 *   <li>{@code FsEscapeTest}: one test per escape from the shared directory, sent through the harness's
 *       FUSE client (which sends what no kernel would); each asserts the errno, that the canary directory
 *       next to the share was not read, written, listed, linked or renamed ({@code Canary}: atime, mtime,
 *       ctime, nlink, content, listing, xattr), and that the same daemon still serves. Ours runs without a
 *       sandbox there ({@code --sandbox none}), virtiofsd in its chroot. Lines {@code ESCAPE <backend> <request>
 *       -> <outcome>} on stdout record each answer; "(differs ...)" marks where virtiofsd 7.2 answers
 *       otherwise than ours must.</li>
 *   <li>{@code FsCommandBackendsTest}: the harness's {@code fs} command, unchanged, with every workload and
 *       --verify; --hostile against ours.</li>
 *   <li>{@code FsGuestTest}: a Linux 6.1 guest under QEMU 7.2 mounts the share with {@code mount -t virtiofs}
 *       and runs cases/fs-verify.sh; the host checks what it sees and makes a change the guest must see.</li>
 * </ul>
 * Run: {@code mvn -B -q -pl harness -am verify -Dtest='Fs*Test' -Dsurefire.failIfNoSpecifiedTests=false}
 * (as root: the tests install qemu-system-common and create device nodes). The benchmark is
 * {@code bin/vhost-perf fs} (perf module, {@code org.vhostj.perf.fs.FsBench}).
 */
package org.vhostj.harness.fs;
