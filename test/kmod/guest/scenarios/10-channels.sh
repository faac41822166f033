# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# The remote core comes up: its channels are announced over the name
# service and appear on the rpmsg bus with their rpmsg_ctrl devices and
# vx<N> netdevs; when it goes away everything it brought goes with it.

scenario_10_channels_appear() {
	local n i m name vdevs
	n=$(emu_count)
	for m in $RPMSG_CORE_MODULES; do
		module_loaded "$m" || fail "module $m is not loaded"
	done

	# one virtio device per channel, as on the board
	load_emu
	wait_for 5 "the channels on /sys/bus/rpmsg/devices" channels_present
	[ "$(count_glob /dev/rpmsg_ctrl*)" -eq "$n" ] ||
		fail "expected $n /dev/rpmsg_ctrl*, found: $(echo /dev/rpmsg_ctrl*)"
	i=0
	for name in $(emu_names); do
		ctrl_of "$name" >/dev/null || fail "no rpmsg_ctrl device for $name"
		vx_up "vx$i"
		wait_for 2 "carrier on vx$i" grep -qx 1 "/sys/class/net/vx$i/carrier"
		i=$((i + 1))
	done
	vdevs=$(for name in $(emu_names); do basename "$(rpmsg_dev_of "$name")" | cut -d. -f1; done | sort -u | wc -l)
	[ "$vdevs" -eq "$n" ] || fail "expected $n virtio devices, channels sit on $vdevs"
	say "$n channels on $n virtio devices: $(cd /sys/bus/rpmsg/devices && echo *)"

	# the Linux side restarts under a running remote: the channels are
	# announced again to the new virtio_rpmsg_bus instance
	rmmod virtio_rpmsg_bus || fail "rmmod virtio_rpmsg_bus"
	channels_absent || fail "channels still on the rpmsg bus without virtio_rpmsg_bus"
	insmod "$KMOD_CORE_DIR/virtio_rpmsg_bus.ko" || fail "insmod virtio_rpmsg_bus"
	wait_for 5 "the channels announced again" channels_present
	vx_up vx0
	wait_for 2 "carrier on vx0" grep -qx 1 /sys/class/net/vx0/carrier

	# the remote core goes away
	unload_emu
	channels_absent || fail "channels still on the rpmsg bus after rmmod"
	[ "$(count_glob /dev/rpmsg_ctrl*)" -eq 0 ] || fail "rpmsg_ctrl devices left: $(echo /dev/rpmsg_ctrl*)"
	[ ! -e /sys/class/net/vx0 ] || fail "vx0 left after rmmod"

	# all channels on one virtio device
	load_emu shared_vdev=1
	wait_for 5 "the channels on one virtio device" channels_present
	[ "$(count_glob /dev/rpmsg_ctrl*)" -eq 1 ] ||
		fail "expected one /dev/rpmsg_ctrl*, found: $(echo /dev/rpmsg_ctrl*)"
	vdevs=$(for name in $(emu_names); do basename "$(rpmsg_dev_of "$name")" | cut -d. -f1; done | sort -u | wc -l)
	[ "$vdevs" -eq 1 ] || fail "shared_vdev=1 put the channels on $vdevs virtio devices"
	unload_emu
	channels_absent || fail "channels still on the rpmsg bus after rmmod"
}
