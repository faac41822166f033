# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# What the daemon's rpmsg-char transport relies on: when the remote core
# goes away, a reader blocked on an rpmsg_char endpoint gets EPIPE and the
# endpoint device disappears; when it comes back the endpoint can be
# created again on the same eth-dev address.

scenario_25_char_remote_gone() {
	local out=/tmp/dev-hold.out ept

	load_emu
	wait_for 5 "the channels" channels_present
	ept=$(char_endpoint)
	[ -c "$ept" ] || fail "no endpoint device from RPMSG_CREATE_EPT_IOCTL"
	hold_device "$ept" "$out"
	unload_emu
	wait_reader_failed "$out" "$ept"
	reader_failed_with EPIPE "$out" || fail "reader of $ept: $(tail -n1 "$out"), want EPIPE"
	say "remote gone: reader of $ept got $(tail -n1 "$out")"
	[ ! -e "$ept" ] || fail "$ept still exists after the remote went away"

	load_emu
	wait_for 5 "the channels" channels_present
	vx_up vx0
	"$KMOD_BIN/frame-xfer" --iface vx0 --ctrl "$(ctrl_of "$(emu_names | head -n1)")" \
		--src "$(emu_addr 0)" --dst "$(emu_addr 0)" || fail "frame-xfer after the remote came back"
}
