# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# rpmsg_eth against the emulated remote: /dev/rpmsg-eth<N> per channel,
# frames both ways; the remote going away while a reader blocks gives the
# reader an error (EPIPE) and the kernel no oops; the remote coming back
# brings the devices back; rpmsg_eth going away under an open device too.

scenario_30_rpmsg_eth_lifecycle() {
	local out=/tmp/dev-hold.out i

	load_rpmsg_eth
	load_emu
	wait_for 5 "/dev/rpmsg-eth0..$(($(emu_count) - 1))" eth_devs_present
	for ((i = 0; i < $(emu_count); i++)); do
		vx_up "vx$i"
		"$KMOD_BIN/frame-xfer" --iface "vx$i" --dev "/dev/rpmsg-eth$i" ||
			fail "frame-xfer on /dev/rpmsg-eth$i"
	done

	# the remote core goes away under a blocked reader
	hold_device /dev/rpmsg-eth0 "$out"
	unload_emu
	wait_reader_failed "$out" /dev/rpmsg-eth0
	reader_failed_with EPIPE "$out" || fail "reader of a vanished channel: $(tail -n1 "$out"), want EPIPE"
	say "remote gone: reader got $(tail -n1 "$out")"

	# ... and comes back: same device names, frames flow again
	load_emu
	wait_for 5 "/dev/rpmsg-eth* after the remote came back" eth_devs_present
	vx_up vx0
	"$KMOD_BIN/frame-xfer" --iface vx0 --dev /dev/rpmsg-eth0 ||
		fail "frame-xfer after the remote came back"

	# rpmsg_eth goes away under a blocked reader: either rmmod refuses
	# while the file is open, or the reader gets an error; unbinding the
	# driver must always end the reader.
	hold_device /dev/rpmsg-eth1 "$out"
	if rmmod rpmsg_eth 2>/tmp/rmmod.err; then
		say "rmmod rpmsg_eth with the device open succeeded"
	else
		say "rmmod rpmsg_eth with the device open refused: $(cat /tmp/rmmod.err)"
		for d in /sys/bus/rpmsg/drivers/rpmsg_eth/virtio*; do
			[ -e "$d" ] && basename "$d" >/sys/bus/rpmsg/drivers/rpmsg_eth/unbind
		done
	fi
	wait_reader_failed "$out" /dev/rpmsg-eth1
	reader_failed_with EPIPE "$out" || fail "reader of an unbound device: $(tail -n1 "$out"), want EPIPE"
	say "driver gone: reader got $(tail -n1 "$out")"
	wait_for 5 "rmmod rpmsg_eth" rmmod rpmsg_eth 2>/dev/null
	[ ! -e /dev/rpmsg-eth0 ] || fail "/dev/rpmsg-eth0 left after rmmod rpmsg_eth"
}
