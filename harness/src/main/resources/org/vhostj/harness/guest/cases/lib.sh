# Sourced by every guest case (busybox sh). fail prints the reason and ends the case with rc 1.
fail() { echo "FAIL: $*"; exit 1; }

# md5 of stdin, just the digest
md5() { md5sum | cut -d' ' -f1; }

# fio_run NAME FIO-ARGS...: one fio job (needs the image built with fio), then one line
#   RESULT NAME rw=<rw> bs=<bs> qd=<iodepth> jobs=<numjobs> iops=<n> MBps=<n> p99_us=<n>
# read from fio's terse v3 output: read iops/bw(KiB/s)/p99 are fields 8/7/30, write 49/48/71.
fio_run() {
  name=$1; shift
  command -v fio >/dev/null || fail "fio is not in this image (GuestImage with fio)"
  out=$(fio --name="$name" --output-format=terse --terse-version=3 --group_reporting "$@" 2>&1) ||
    { echo "$out"; fail "fio $name"; }
  echo "$out" | grep '^3;fio-' | awk -F';' -v n="$name" -v args="$*" '
    function arg(k,  i, a, c) { c = split(args, a, " "); for (i = 1; i <= c; i++) if (index(a[i], "--" k "=") == 1) return substr(a[i], length(k) + 4); return "?" }
    { w = ($49 > $8); iops = w ? $49 : $8; bw = w ? $48 : $7; p = w ? $71 : $30; sub(/.*=/, "", p)
      j = arg("numjobs"); if (j == "?") j = 1
      printf "RESULT %s rw=%s bs=%s qd=%s jobs=%s iops=%d MBps=%.1f p99_us=%s\n", n, arg("rw"), arg("bs"), arg("iodepth"), j, iops, bw / 1024, p }'
}

# io_uring when the kernel has it (Debian 6.1 does), else libaio
fio_engine() {
  if [ -n "$FIO_ENGINE" ]; then echo "$FIO_ENGINE"; return; fi
  if fio --name=probe --ioengine=io_uring --filename=/tmp/.probe --size=4k --rw=read --output=/dev/null >/dev/null 2>&1
  then echo io_uring; else echo libaio; fi
  rm -f /tmp/.probe
}
