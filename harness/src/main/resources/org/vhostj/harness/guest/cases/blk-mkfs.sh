# blk-mkfs: a file system on the vhost-user disk BLK_DEV (/dev/vda): busybox mke2fs (ext2, which
# the kernel's ext4 driver mounts), mount, write files (4 MiB random, 100 small ones, a
# directory tree), umount; drop caches, mount again and check every MD5 and the file count.
#   RESULT blk_mkfs ok=1 big_md5=<md5> files=<n>
. /cases/lib.sh
dev=${BLK_DEV:-/dev/vda}
[ -b "$dev" ] || fail "no $dev (is the vhost-user-blk device there?)"
mke2fs -q -b 4096 "$dev" >/tmp/mkfs.out 2>&1 || { cat /tmp/mkfs.out; fail "mke2fs $dev"; }
mkdir -p /mnt/disk
mount -t ext2 "$dev" /mnt/disk || fail "mount $dev"
dd if=/dev/urandom of=/mnt/disk/big bs=1M count=4 2>/dev/null || fail "write big"
big=$(md5 < /mnt/disk/big)
mkdir -p /mnt/disk/a/b/c
i=0; while [ $i -lt 100 ]; do echo "file $i $big" > /mnt/disk/a/b/c/f$i; i=$((i + 1)); done
small=$(cat /mnt/disk/a/b/c/f* | md5)
umount /mnt/disk || fail "umount"
echo 3 > /proc/sys/vm/drop_caches
mount -t ext2 "$dev" /mnt/disk || fail "remount $dev"
[ "$(md5 < /mnt/disk/big)" = "$big" ] || fail "big file differs after remount"
n=$(ls /mnt/disk/a/b/c | wc -l)
[ "$n" = 100 ] || fail "found $n small files after remount, want 100"
[ "$(cat /mnt/disk/a/b/c/f* | md5)" = "$small" ] || fail "small files differ after remount"
umount /mnt/disk || fail "final umount"
echo "RESULT blk_mkfs ok=1 big_md5=$big files=$n"
