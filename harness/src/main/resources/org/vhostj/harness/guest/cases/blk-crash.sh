# blk-crash: the guest half of a crash test. While this writes, the host kills the vhost-user-blk
# backend and starts it again on the same socket (QEMU's chardev needs reconnect=1, see
# QemuGuest blk(..., reconnect=true)); afterwards the host checks its image against the ACK lines
# printed here (BlkCrashLedger). Needs no fio.
#
# BLK_CRASH_WRITERS (1) writers write numbered 4 KiB records for BLK_CRASH_SECS (10) seconds;
# record seq N goes to 4 KiB block BLK_CRASH_LBA0 (256) + N; writer w writes seq w, w+W, w+2W ...
# one at a time: dd oflag=direct conv=fsync (an O_DIRECT write, then a flush).
# A record: bytes 0..63     "VHOSTJ-CRASH run=R seq=N lba=L", space-padded, then '\n'
#           bytes 64..4063  random
#           bytes 4064..4095 the md5 (32 hex digits) of bytes 0..4063
# Console lines, each printed only after what it reports has happened:
#   BLK-CRASH-BEGIN run=R writers=W secs=T lba0=L blocks=B
#   ACK seq=N lba=L sum=MD5 ms=T    dd returned 0: the write and its flush completed (T ms)
#   EIO seq=N lba=L rc=RC           dd failed: not acknowledged, so it may be lost
#   BLK-CRASH-WRITTEN               every writer stopped
#   RB seq=N lba=L ok|bad           O_DIRECT read-back (caches dropped) of each ACKed record
#   RESULT blk_crash run=R writers=W secs=T acked=A ioerrs=E readback_ok=O readback_bad=B max_write_ms=M
# Exit 1 if a read-back differs. While the backend is down a write waits; it does not fail.
. /cases/lib.sh
dev=${BLK_DEV:-/dev/vda}; W=${BLK_CRASH_WRITERS:-1}; T=${BLK_CRASH_SECS:-10}; LBA0=${BLK_CRASH_LBA0:-256}
[ -b "$dev" ] || fail "no $dev (is the vhost-user-blk device there?)"
blocks=$(( $(cat /sys/block/${dev#/dev/}/size) / 8 ))
run=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
mkdir -p /tmp/rec
echo "BLK-CRASH-BEGIN run=$run writers=$W secs=$T lba0=$LBA0 blocks=$blocks"

# centiseconds since boot into $cs, without forking
now_cs() { read up _ < /proc/uptime; cs=$(( ${up%.*} * 100 + 1${up#*.} - 100 )); }

writer() {
  w=$1; k=0; : > /tmp/acked.$w; : > /tmp/eio.$w
  now_cs; end=$((cs + T * 100))
  while [ $cs -lt $end ]; do
    seq=$((w + k * W)); lba=$((LBA0 + seq)); k=$((k + 1))
    [ $lba -lt $blocks ] || { echo "writer $w: disk full at seq=$seq"; break; }
    f=/tmp/rec/$seq
    { printf '%-63s\n' "VHOSTJ-CRASH run=$run seq=$seq lba=$lba"; head -c 4000 /dev/urandom; } > $f
    sum=$(md5 < $f)
    printf %s "$sum" >> $f
    now_cs; t0=$cs
    if err=$(dd if=$f of=$dev bs=4096 seek=$lba count=1 oflag=direct conv=notrunc,fsync 2>&1); then
      now_cs
      echo "ACK seq=$seq lba=$lba sum=$sum ms=$(((cs - t0) * 10))"
      echo "$seq $lba $sum $(((cs - t0) * 10))" >> /tmp/acked.$w
    else
      rc=$?
      echo "EIO seq=$seq lba=$lba rc=$rc: $(echo $err | tr '\n' ' ')"
      echo "$seq $lba" >> /tmp/eio.$w
      sleep 0.1; now_cs
    fi
  done
}

i=0; while [ $i -lt $W ]; do writer $i & i=$((i + 1)); done
wait
echo "BLK-CRASH-WRITTEN"

acked=$(cat /tmp/acked.* | wc -l); ioerrs=$(cat /tmp/eio.* | wc -l)
maxms=$(cat /tmp/acked.* | awk '$4 > m {m = $4} END {print m + 0}')
echo 3 > /proc/sys/vm/drop_caches
ok=0; bad=0
for line in $(cat /tmp/acked.* | sort -n | tr ' ' ':'); do
  seq=${line%%:*}; rest=${line#*:}; lba=${rest%%:*}
  if dd if=$dev bs=4096 skip=$lba count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/rec/$seq; then
    st=ok; ok=$((ok + 1))
  else
    st=bad; bad=$((bad + 1))
  fi
  echo "RB seq=$seq lba=$lba $st"
done
echo "RESULT blk_crash run=$run writers=$W secs=$T acked=$acked ioerrs=$ioerrs readback_ok=$ok readback_bad=$bad max_write_ms=$maxms"
[ $bad -eq 0 ] || fail "$bad acknowledged records read back wrong"
