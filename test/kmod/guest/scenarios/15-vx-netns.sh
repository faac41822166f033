# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# vx<N> works as the remote's IP interface inside a namespace, as the
# daemon scenarios use it: a ping from the namespace puts its ARP request
# on the channel, where a Linux-side rpmsg_char endpoint reads it.

scenario_15_vx_netns() {
	local out=/tmp/dev-hold.out ept

	load_emu
	wait_for 5 "the channels" channels_present
	ept=$(char_endpoint)
	[ -c "$ept" ] || fail "no endpoint device from RPMSG_CREATE_EPT_IOCTL"
	hold_device "$ept" "$out"
	vx_into_netns 0 192.0.2.2/24
	# nobody answers: the ping fails, its ARP request is what we look for
	ip netns exec vx0 ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
	wait_for 3 "the ARP request from namespace vx0 on $ept" \
		grep -q '^dev-hold: frame 42 bytes$' "$out"
	say "ARP request from vx0 in its namespace read from $ept"
}
