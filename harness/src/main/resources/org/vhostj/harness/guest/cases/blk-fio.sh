# blk-fio (image with fio): O_DIRECT fio on the raw disk BLK_DEV (/dev/vda), FIO_RUNTIME (10) s per job:
#   blk_randread_4k QD32 one job; blk_seqread_1m QD8; blk_randwrite_4k QD32 when BLK_WRITE=1.
. /cases/lib.sh
dev=${BLK_DEV:-/dev/vda}; rt=${FIO_RUNTIME:-10}
[ -b "$dev" ] || fail "no $dev"
eng=$(fio_engine)
common="--filename=$dev --ioengine=$eng --direct=1 --time_based --runtime=$rt --ramp_time=1 --size=${FIO_SIZE:-256M}"
fio_run blk_randread_4k $common --rw=randread --bs=4k --iodepth=32
fio_run blk_seqread_1m $common --rw=read --bs=1M --iodepth=8
[ "${BLK_WRITE:-0}" = 1 ] && fio_run blk_randwrite_4k $common --rw=randwrite --bs=4k --iodepth=32
echo "RESULT blk_fio engine=$eng"
