# blk-verify: BLK_VERIFY_MB (16) MiB of random data written to the disk BLK_DEV (/dev/vda) from
# offset 0 with O_DIRECT, page cache dropped, read back with O_DIRECT and compared by MD5; then
# 1 MiB of it again with 4 KiB requests at 4 KiB block BLK_VERIFY_MB*256+3 (an offset that is
# not a multiple of any larger request), read back and compared.
#   RESULT blk_verify ok=1 md5=<md5 of the first pass> mb=<MiB> offset_md5=<md5 of the second>
# The host compares md5 with the first BLK_VERIFY_MB MiB of its image file.
. /cases/lib.sh
dev=${BLK_DEV:-/dev/vda}; mb=${BLK_VERIFY_MB:-16}
[ -b "$dev" ] || fail "no $dev (is the vhost-user-blk device there?)"
name=${dev#/dev/}
echo "$dev: $(cat /sys/block/$name/size) sectors, queues=$(ls /sys/block/$name/mq | wc -l)"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$mb 2>/dev/null || fail "make pattern"
want=$(md5 < /tmp/pattern)
dd if=/tmp/pattern of=$dev bs=1M oflag=direct conv=fsync 2>/dev/null || fail "O_DIRECT write"
echo 3 > /proc/sys/vm/drop_caches
got=$(dd if=$dev bs=1M count=$mb iflag=direct 2>/dev/null | md5)
echo "written md5=$want read-back md5=$got"
[ "$want" = "$got" ] || fail "read-back differs"
blk=$((mb * 256 + 3))
dd if=/tmp/pattern of=$dev bs=4k seek=$blk count=256 oflag=direct conv=fsync 2>/dev/null || fail "4k write"
echo 3 > /proc/sys/vm/drop_caches
want2=$(head -c 1048576 /tmp/pattern | md5)
got2=$(dd if=$dev bs=4k skip=$blk count=256 iflag=direct 2>/dev/null | md5)
[ "$want2" = "$got2" ] || fail "4k read-back at block $blk differs ($want2 != $got2)"
echo "RESULT blk_verify ok=1 md5=$want mb=$mb offset_md5=$got2 offset_block=$blk"
