# fs-fio (image with fio): on the virtio-fs share FS_TAG (share): 1 MiB sequential write then read
# of one FIO_SIZE (256M) file, then 4 KiB random read QD16; O_DIRECT in the guest (FS_DIRECT=1).
. /cases/lib.sh
tag=${FS_TAG:-share}; rt=${FIO_RUNTIME:-10}
mkdir -p /mnt/fs && mount -t virtiofs "$tag" /mnt/fs || fail "mount -t virtiofs $tag"
eng=$(fio_engine)
common="--directory=/mnt/fs --filename=fio.dat --size=${FIO_SIZE:-256M} --ioengine=$eng --direct=${FS_DIRECT:-1} --time_based --runtime=$rt"
fio_run fs_seqwrite_1m $common --rw=write --bs=1M --iodepth=4
fio_run fs_seqread_1m $common --rw=read --bs=1M --iodepth=4
fio_run fs_randread_4k $common --rw=randread --bs=4k --iodepth=16
rm -f /mnt/fs/fio.dat
umount /mnt/fs
echo "RESULT fs_fio engine=$eng"
