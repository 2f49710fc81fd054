# smoke: what the guest sees. RESULT smoke virtio=<devices with a driver> blk=<disks> net=<ifaces>
. /cases/lib.sh
echo "--- block devices"; cat /proc/partitions
echo "--- network interfaces"; ip -o link
echo "--- virtio devices"
nv=0
for d in /sys/bus/virtio/devices/*; do
  [ -e "$d" ] || continue
  echo "$(basename "$d") device=$(cat "$d/device") driver=$(basename "$(readlink "$d/driver")")"
  nv=$((nv + 1))
done
nb=$(ls /sys/block | grep -c '^vd')
nn=$(ls /sys/class/net | grep -vc '^lo$')
echo "RESULT smoke virtio=$nv blk=$nb net=$nn cpus=$(nproc) mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
