#!/bin/busybox sh
# /init of the vhostj test guest (GuestImage puts it into the initramfs; QemuGuest boots it).
#
# 1. mounts proc, sys, devtmpfs and tmpfs, installs the busybox applets and loads the modules
#    listed in /etc/modules.order (virtio_pci, virtio_blk, virtio_net, virtiofs, virtio_rng, ext4 ... with
#    their dependencies, in load order);
# 2. waits until every virtio device QEMU was given has a driver, then prints
#    "VHOSTJ-BOOTED uptime=<s>";
# 3. runs /run/vhostj/test.sh (the per-run archive QemuGuest appends to the initramfs) or, when
#    there is none, /cases/smoke.sh; the script's output goes to the serial console, and it
#    reports measurements as lines "RESULT <name> key=value ...";
# 4. prints "VHOSTJ-RESULT rc=<exit status>" and "VHOSTJ-END", then powers the machine off.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mkdir -p /run/vhostj
export PATH=/usr/bin:/bin:/sbin
# fio (optional) keeps its shared libraries at Debian's multiarch paths
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu/ceph
export HOME=/root

for m in $(cat /etc/modules.order); do
  out=$(insmod "/lib/modules/$m" 2>&1) || case "$out" in
    *exists*) ;;
    *) echo "VHOSTJ-WARN insmod $m: $out" ;;
  esac
done
ip link set lo up 2>/dev/null

# virtio_pci lists a device on the virtio bus at once; its blk/net/fs driver binds a moment later.
i=0
while [ $i -lt 50 ]; do
  pending=0
  for d in /sys/bus/virtio/devices/*; do
    [ -e "$d" ] || continue
    [ -e "$d/driver" ] || pending=1
  done
  [ $pending = 0 ] && break
  sleep 0.1; i=$((i + 1))
done

echo; echo "VHOSTJ-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
if [ -f /run/vhostj/test.sh ]; then
  sh /run/vhostj/test.sh; rc=$?
else
  sh /cases/smoke.sh; rc=$?
fi
sync
echo; echo "VHOSTJ-RESULT rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "VHOSTJ-END"
poweroff -f
