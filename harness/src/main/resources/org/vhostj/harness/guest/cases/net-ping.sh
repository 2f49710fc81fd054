# net-ping: eth0 (virtio-net over vhost-user) gets NET_ADDR (169.254.77.2/24) and a static
# neighbour NET_PEER (169.254.77.1) -> NET_PEER_MAC (02:00:00:00:00:01), so no ARP is needed and
# nothing is routed anywhere (link-local). A peer that swaps addresses and echoes each frame
# (testpmd --forward-mode=5tswap) turns our echo request into a request to us; the kernel
# answers, and the answer returns as a reply from the peer address: ping counts a reply only if
# frames went through the backend both ways. PING_COUNT (10) requests, 0.2 s apart.
#   RESULT net_ping sent=N received=M eth0_tx=.. eth0_rx=..
. /cases/lib.sh
n=${PING_COUNT:-10}; peer=${NET_PEER:-169.254.77.1}
ip link set eth0 up || fail "no eth0 (is the vhost-user net device there?)"
ip addr add ${NET_ADDR:-169.254.77.2/24} dev eth0 || fail "ip addr add"
arp -i eth0 -s $peer ${NET_PEER_MAC:-02:00:00:00:00:01} || fail "static neighbour"
ip -o link show eth0
out=$(ping -c "$n" -i 0.2 -W 3 $peer 2>&1); echo "$out" | tail -3
rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
s=/sys/class/net/eth0/statistics
echo "RESULT net_ping sent=$n received=${rx:-0} eth0_tx=$(cat $s/tx_packets) eth0_rx=$(cat $s/rx_packets)"
[ "${rx:-0}" -gt 0 ] || fail "no echo replies"
