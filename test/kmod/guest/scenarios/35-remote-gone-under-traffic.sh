# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# The remote core goes away while frames flow both ways through rpmsg_eth
# (vx0 flooding Linux, a writer flooding vx0, a reader draining): the
# reader and the writer end with EPIPE, the kernel logs no oops or warning,
# and after the remote comes back frames flow again.

traffic_diag() {
	say "reader: $(grep -c '^dev-hold: frame' /tmp/dev-hold.out) frames, last: $(tail -n1 /tmp/dev-hold.out)"
	say "writer: $(cat /tmp/flood-dev.out)"
	ip -s link show vx0
	ip -s link show vx1
	cat /sys/class/rpmsg-eth/rpmsg-eth0/counters /sys/class/rpmsg-eth/rpmsg-eth1/counters
}

scenario_35_remote_gone_under_traffic() {
	local out=/tmp/dev-hold.out wout=/tmp/flood-dev.out

	load_rpmsg_eth
	load_emu
	wait_for 5 "/dev/rpmsg-eth*" eth_devs_present
	vx_up vx0
	vx_up vx1
	FAIL_DIAG=traffic_diag
	hold_device /dev/rpmsg-eth0 "$out"
	background "$KMOD_BIN/frame-xfer" --iface vx0 --flood 1000000 >/dev/null 2>&1
	background "$KMOD_BIN/frame-xfer" --iface vx1 --dev /dev/rpmsg-eth1 --flood 1000000 >"$wout" 2>&1
	wait_for 30 "frames to flow both ways" eval \
		'[ "$(grep -c "^dev-hold: frame" "$out")" -gt 50 ] &&
		 [ "$(cat /sys/class/net/vx1/statistics/rx_packets)" -gt 50 ]'
	unload_emu
	wait_reader_failed "$out" /dev/rpmsg-eth0
	reader_failed_with EPIPE "$out" || fail "reader: $(tail -n1 "$out"), want EPIPE"
	wait_for 5 "the writer to stop" grep -q '^frame-xfer: ok:' "$wout"
	grep -q '(EPIPE)$' "$wout" || fail "writer: $(cat "$wout"), want EPIPE"
	say "remote gone under traffic: reader read $(grep -c '^dev-hold: frame' "$out") frames, writer: $(cat "$wout")"

	load_emu
	wait_for 5 "/dev/rpmsg-eth* after the remote came back" eth_devs_present
	vx_up vx0
	"$KMOD_BIN/frame-xfer" --iface vx0 --dev /dev/rpmsg-eth0 ||
		fail "frame-xfer after the remote came back"
}
