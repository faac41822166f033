# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# Back-pressure through a tiny ring (num_bufs=16: 8 buffers each way):
# every frame written to /dev/rpmsg-eth1 reaches vx1 (writes wait for
# buffers, nothing is lost), and every frame vx1's peer vx0 sends is either
# read from /dev/rpmsg-eth0 or counted as a receive-queue overflow; vx0 drops
# nothing (the emulator waits for Linux to post buffers).

scenario_45_small_ring_backpressure() {
	local n=2000 out=/tmp/dev-hold.out rx1 tx0 over0 ring0 sent

	load_rpmsg_eth
	load_emu num_bufs=16
	wait_for 5 "/dev/rpmsg-eth*" eth_devs_present
	vx_up vx0
	vx_up vx1

	# Linux -> remote
	rx1=$(vx_stat vx1 rx_packets)
	ring0=$(eth_counter rpmsg-eth1 tx_ring_full)
	"$KMOD_BIN/frame-xfer" --iface vx1 --dev /dev/rpmsg-eth1 --flood "$n" ||
		fail "writing $n frames to /dev/rpmsg-eth1"
	wait_for 20 "vx1 to receive $n frames" eval '[ "$(vx_stat vx1 rx_packets)" -ge $((rx1 + n)) ]'
	[ "$(vx_stat vx1 rx_packets)" -eq $((rx1 + n)) ] ||
		fail "vx1 received $(($(vx_stat vx1 rx_packets) - rx1)) frames, $n were written"
	say "Linux -> remote: $n of $n frames through 8 buffers, ring full $(($(eth_counter rpmsg-eth1 tx_ring_full) - ring0)) times"

	# remote -> Linux
	hold_device /dev/rpmsg-eth0 "$out"
	tx0=$(vx_stat vx0 tx_packets)
	over0=$(eth_counter rpmsg-eth0 rx_drop_overflow)
	"$KMOD_BIN/frame-xfer" --iface vx0 --flood "$n" || fail "flooding vx0"
	wait_for 20 "vx0 to hand $n frames to Linux" eval '[ "$(vx_stat vx0 tx_packets)" -ge $((tx0 + n)) ]'
	[ "$(vx_stat vx0 tx_dropped)" -eq 0 ] || fail "vx0 dropped $(vx_stat vx0 tx_dropped) frames"
	sent=$(($(vx_stat vx0 tx_packets) - tx0))
	wait_for 10 "the $sent frames to be read or counted" eval \
		'[ $(($(grep -c "^dev-hold: frame" "$out") + $(eth_counter rpmsg-eth0 rx_drop_overflow) - over0)) -eq "$sent" ]'
	say "remote -> Linux: $sent frames, $(grep -c '^dev-hold: frame' "$out") read, $(($(eth_counter rpmsg-eth0 rx_drop_overflow) - over0)) overflowed"
}
