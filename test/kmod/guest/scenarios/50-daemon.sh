# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# The daemon end to end (issue 5), from the host tree (dist/ and the native
# addon must be built on the host first: npm run build): for each transport,
# ping the emulated VxWorks address of every channel, check that the
# daemon's `stats`, vxN's statistics and rpmsg_eth's counters agree,
# and take the remote away and back under a running daemon.

# The daemon runs from the guest's tmpfs: node and the tree run.sh packed
# (pack_daemon: dist/, the addon, production node_modules). Node resolving
# modules over the 9p root costs a 9p round trip per lookup, minutes per
# start under the debug kernel.
DAEMON_DIR=/tmp/daemon
daemon_install() {
	[ -x "$DAEMON_DIR/node" ] && return 0
	[ -f "$KMOD_DAEMON_TAR" ] || skip "dist/ not built (npm run build)"
	mkdir -p "$DAEMON_DIR" &&
		tar -C "$DAEMON_DIR" -xf "$KMOD_DAEMON_TAR" &&
		cp "$(command -v node)" "$DAEMON_DIR/node" || fail "installing the daemon in $DAEMON_DIR"
}
rpmsg_eth() { "$DAEMON_DIR/node" "$DAEMON_DIR/dist/daemon/cli.js" "$@"; }

# What the daemon scenarios stand on: the host's Node.js and the daemon's
# native addon load in the guest.
scenario_49_daemon_node_in_guest() {
	local addon=$DAEMON_DIR/build/Release/rpmsg_eth_native.node
	daemon_install
	"$DAEMON_DIR/node" -e 'process.exit(0)' || fail "node does not run in the guest"
	say "node $("$DAEMON_DIR/node" --version) runs in the guest"
	"$DAEMON_DIR/node" -e "require(process.argv[1])" "$addon" || fail "loading $addon"
	say "native addon $addon loads"
	rpmsg_eth up --help >/dev/null || fail "rpmsg-eth up --help"
}

# daemon_config: /tmp/rpmsg-eth.yaml, the default config with the guest's
# device tree blob and channel 0's MTU as this bus allows.
daemon_config() {
	# The board gives channel 0 (fsproxy) 8192-byte buffers; the upstream
	# virtio rpmsg bus here has 512. kmod learns that from rpmsg_eth, but
	# rpmsg_char cannot tell: cap its MTU in a copy of the default config.
	# config/lanta.dts as run.sh compiled it (pack_daemon)
	sed -e "s|^deviceTree: .*|deviceTree: $KMOD_LANTA_DTB|" \
		-e 's|^channels: {}$|channels:\n  0:\n    mtu: 482|' \
		"$KMOD_REPO/config/rpmsg-eth.yaml" >/tmp/rpmsg-eth.yaml
	grep -q '^    mtu: 482$' /tmp/rpmsg-eth.yaml ||
		fail "config/rpmsg-eth.yaml changed shape: cannot override channel 0's MTU"
}

# daemon_up TRANSPORT: the daemon from the host tree, TAPs rpmsg0..2 in
# namespace rpmsg-test, addressed from the default config (169.254.(100+N).1).
daemon_up() {
	daemon_install
	daemon_config
	# no health probes: the counters must settle for counters_agree
	background "$DAEMON_DIR/node" "$DAEMON_DIR/dist/daemon/cli.js" up -c /tmp/rpmsg-eth.yaml \
		--transport "$1" --netns rpmsg-test --channels "0-$(($(emu_count) - 1))" --health-interval 0 \
		>/tmp/daemon.log 2>&1
	daemon_pid=$!
	FAIL_DIAG=daemon_diag
	# slow on the debug kernel (node in software emulation, KASAN): allow for it
	wait_for 300 "the daemon's rpmsg0..$(($(emu_count) - 1))" eval \
		'ip -n rpmsg-test link show rpmsg$(($(emu_count) - 1)) >/dev/null 2>&1'
}

daemon_diag() {
	say "daemon (pid $daemon_pid) $(kill -0 "$daemon_pid" 2>/dev/null && echo running || echo exited); log, last lines but the IPv6 warnings:"
	grep -v 'IPv6 cannot run' /tmp/daemon.log | tail -n 20
	say "links in rpmsg-test: $(ip -n rpmsg-test -o link 2>&1 | awk '{ print $2 }' | tr '\n' ' ')"
	say "links in the root namespace: $(ip -o link | awk '{ print $2 }' | tr '\n' ' ')"
}

# The VxWorks side of every channel: vxN in namespace vxN at 169.254.(100+N).2.
vx_all_into_netns() {
	local i
	for ((i = 0; i < $(emu_count); i++)); do
		vx_into_netns "$i" "169.254.$((100 + i)).2/24"
	done
}

ping_all() {
	local i
	for ((i = 0; i < $(emu_count); i++)); do
		ip netns exec "vx$i" ping -c 3 -i 0.2 -W 2 "169.254.$((100 + i)).1" >/tmp/ping.out 2>&1 ||
			fail "ping over channel $i: $(tail -n 2 /tmp/ping.out)"
	done
	say "ping over channels 0..$((i - 1)): ok"
}

# One line per channel: N daemon-tx daemon-rx vxN-rx vxN-tx [rpmsg_eth tx rx].
# From `stats`' table (IFACE CH LINK TX-PKTS TX-BYTES RX-PKTS RX-BYTES DROPS):
# one node start per snapshot, each costs seconds in this guest.
counter_snapshot() {
	local i
	rpmsg_eth stats -c /tmp/rpmsg-eth.yaml | awk 'NR > 1 { print $2, $4, $6 }' |
		sort -n | while read -r i dtx drx; do
			printf '%s %s %s %s %s' "$i" "$dtx" "$drx" \
				"$(ip netns exec "vx$i" cat "/sys/class/net/vx$i/statistics/rx_packets")" \
				"$(ip netns exec "vx$i" cat "/sys/class/net/vx$i/statistics/tx_packets")"
			[ "$1" = kmod ] && printf ' %s %s' "$(eth_counter "rpmsg-eth$i" tx_packets)" \
				"$(eth_counter "rpmsg-eth$i" rx_packets)"
			echo
		done
}

# counters_agree TRANSPORT: once traffic settles, what the daemon says it
# sent and received on each channel is what vxN (and rpmsg_eth) counted.
counters_agree() {
	local a b end=$((SECONDS + 15)) i dtx drx vrx vtx etx erx
	a=$(counter_snapshot "$1")
	while sleep 1; b=$(counter_snapshot "$1"); [ "$a" != "$b" ]; do
		[ "$SECONDS" -lt "$end" ] || fail "counters did not settle: $b"
		a=$b
	done
	[ "$(wc -l <<<"$b")" -eq "$(emu_count)" ] || fail "stats lists $(wc -l <<<"$b") channels: $b"
	while read -r i dtx drx vrx vtx etx erx; do
		if [ "$dtx" -eq 0 ] || [ "$dtx" -ne "$vrx" ] || [ "$drx" -ne "$vtx" ]; then
			fail "channel $i: daemon tx/rx $dtx/$drx, vx$i rx/tx $vrx/$vtx"
		fi
		[ "$1" != kmod ] || { [ "$dtx" -eq "$etx" ] && [ "$drx" -eq "$erx" ]; } ||
			fail "channel $i: daemon tx/rx $dtx/$drx, rpmsg-eth$i tx/rx $etx/$erx"
	done <<<"$b"
	say "counters agree (channel daemon-tx daemon-rx vx-rx vx-tx [rpmsg-eth tx rx]): ${b//$'\n'/ · }"
}

tap_carrier() { ! ip -n rpmsg-test -o link show "$1" | grep -q NO-CARRIER; }

# daemon_end_to_end TRANSPORT: ping every channel's VxWorks address, the
# counters agree; then the remote core goes away while pings flow and comes
# back: carrier off then on, pings again, the same daemon process.
daemon_end_to_end() {
	local transport=$1 i
	if [ "$transport" = kmod ]; then
		load_rpmsg_eth
		load_emu
		wait_for 5 "/dev/rpmsg-eth*" eth_devs_present
	else
		load_emu
		wait_for 5 "the channels" channels_present
	fi
	vx_all_into_netns
	daemon_up "$transport"
	ping_all
	counters_agree "$transport"
	background ip netns exec vx0 ping -q -i 0.2 169.254.100.1 >/dev/null 2>&1

	unload_emu
	for ((i = 0; i < $(emu_count); i++)); do
		wait_for 10 "carrier off on rpmsg$i" eval '! tap_carrier rpmsg$i'
	done
	kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited when the remote went away"
	say "remote gone: daemon up, carrier off on rpmsg0..$((i - 1))"

	load_emu
	vx_all_into_netns
	for ((i = 0; i < $(emu_count); i++)); do
		wait_for 15 "carrier on rpmsg$i" tap_carrier "rpmsg$i"
	done
	ping_all
	kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited"
	say "remote back: carrier on, ping ok, same daemon (pid $daemon_pid)"
}

scenario_50_daemon_kmod() {
	daemon_end_to_end kmod
}

scenario_60_daemon_rpmsg_char() {
	daemon_end_to_end rpmsg-char
}
