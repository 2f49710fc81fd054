# fs-verify: the virtio-fs share FS_TAG (share) mounted on /mnt/fs.
#   RESULT fs_host md5=...        of host.bin, when the host put one there
#   RESULT fs_guest md5=...       of guest.bin (8 MiB random, written here, read back after drop_caches)
#   RESULT fs_kept mode=... links=... target=... md5=...
#                                 kept/: a file written, renamed to kept/renamed, hard-linked as
#                                 kept/hardlink, symlinked as kept/symlink -> renamed, chmod 600;
#                                 left for the host to inspect
#   RESULT fs_late md5=...        with FS_WAIT_FILE=NAME: prints "FS-WAIT-HOST file=NAME", waits
#                                 up to FS_WAIT_SECS (30) for the host to create NAME in the share
#                                 (a host-side change seen through the backend), prints its md5
#   RESULT fs_verify ok=1 entries=200
# Also: mkdir -p, write, rename across directories, symlink, unlink, rmdir, and a 200-entry readdir.
. /cases/lib.sh
tag=${FS_TAG:-share}; m=/mnt/fs
mkdir -p $m && mount -t virtiofs "$tag" $m || fail "mount -t virtiofs $tag"
grep virtiofs /proc/mounts
[ -f $m/host.bin ] && echo "RESULT fs_host md5=$(md5 < $m/host.bin)"
dd if=/dev/urandom of=$m/guest.bin bs=1M count=8 2>/dev/null || fail "write guest.bin"
sync
echo 3 > /proc/sys/vm/drop_caches
echo "RESULT fs_guest md5=$(md5 < $m/guest.bin)"

mkdir -p $m/kept || fail "mkdir kept"
echo "kept $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" > $m/kept/new || fail "write kept/new"
mv $m/kept/new $m/kept/renamed || fail "rename"
ln $m/kept/renamed $m/kept/hardlink || fail "hard link"
ln -s renamed $m/kept/symlink || fail "symlink"
chmod 600 $m/kept/renamed || fail "chmod"
[ "$(cat $m/kept/symlink)" = "$(cat $m/kept/renamed)" ] || fail "symlink does not read the target"
[ ! -e $m/kept/new ] || fail "kept/new still there after rename"
echo "RESULT fs_kept mode=$(stat -c %a $m/kept/renamed) links=$(stat -c %h $m/kept/renamed) target=$(readlink $m/kept/symlink) md5=$(md5 < $m/kept/hardlink)"

mkdir -p $m/d1/d2 && echo hello > $m/d1/d2/f && mv $m/d1/d2/f $m/d1/g && ln -s g $m/d1/s &&
  [ "$(cat $m/d1/s)" = hello ] && rm $m/d1/g $m/d1/s && rmdir $m/d1/d2 $m/d1 || fail "metadata ops"
[ ! -e $m/d1 ] || fail "d1 still there after rmdir"
i=0; while [ $i -lt 200 ]; do : > $m/many.$i; i=$((i + 1)); done
n=$(ls $m | grep -c '^many\.')
[ "$n" = 200 ] || fail "readdir found $n of 200 entries"
rm -f $m/many.*
[ "$(ls $m | grep -c '^many\.')" = 0 ] || fail "unlink left entries"

if [ -n "$FS_WAIT_FILE" ]; then
  # look the name up first, so the guest holds a negative entry the host's create must overcome
  [ ! -e "$m/$FS_WAIT_FILE" ] || fail "host file $FS_WAIT_FILE exists before the wait"
  echo "FS-WAIT-HOST file=$FS_WAIT_FILE"
  i=0; limit=$((${FS_WAIT_SECS:-30} * 10))
  while [ ! -f "$m/$FS_WAIT_FILE" ] && [ $i -lt $limit ]; do sleep 0.1; i=$((i + 1)); done
  [ -f "$m/$FS_WAIT_FILE" ] || fail "host file $FS_WAIT_FILE did not appear"
  echo "RESULT fs_late md5=$(md5 < "$m/$FS_WAIT_FILE") waited_ms=$((i * 100))"
fi
umount $m || fail umount
echo "RESULT fs_verify ok=1 entries=$n"
