# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# The emulator's data path, checked with the stock rpmsg_char: an endpoint
# on each channel's eth-dev address carries frames both ways to vx<N>,
# byte for byte, up to the 496-byte payload limit, and larger frames are
# refused (EMSGSIZE) or dropped and counted (on vx<N>).

char_datapath() {
	local i=0 name addr ctrl
	for name in $(emu_names); do
		addr=$(emu_addr "$i")
		ctrl=$(ctrl_of "$name") || fail "no rpmsg_ctrl device for $name"
		vx_up "vx$i"
		say "channel $name: $ctrl, eth-dev 0x$(printf %x "$addr"), vx$i"
		"$KMOD_BIN/frame-xfer" --iface "vx$i" --ctrl "$ctrl" --src "$addr" --dst "$addr" ||
			fail "frame-xfer on $name"
		i=$((i + 1))
	done
}

scenario_20_char_datapath() {
	load_emu
	wait_for 5 "the channels" channels_present
	char_datapath
	unload_emu

	load_emu shared_vdev=1
	wait_for 5 "the channels" channels_present
	char_datapath
}
