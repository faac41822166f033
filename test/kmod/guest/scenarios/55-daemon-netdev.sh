# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# The daemon with --transport netdev (issue 12) on rpmsg_eth's own
# interfaces: the module is loaded with netdev=all, so it registers rpmsg0..2
# itself (in the root namespace, where it is loaded) and forwards the frames;
# the daemon adopts them. Ping every channel's emulated VxWorks address,
# `stats --json` equal to /sys/class/net/rpmsgN/statistics and the module's
# drop counters found (ethtool -S names), `status` carrier off with the remote
# gone (rmmod rpmsg_vx_emu) and on when it is back, a capture tcpdump reads,
# and on stop the interfaces stay without the daemon's addresses.
# Node.js starts cost 10-20 s each in this guest (TCG, KASAN), so there are
# few, side by side: JSON is read by jq; `status` runs once with --watch and
# carrier changes are awaited on /sys/class/net and the daemon's log, then
# confirmed on the status line written after them.
# Uses daemon_install, rpmsg_eth, vx_all_into_netns and daemon_diag of
# 50-daemon.sh.

NETDEV_CONFIG=/tmp/rpmsg-eth-netdev.yaml

# The daemon in the root namespace (where the interfaces are), addressed from
# the default config; channel 0's MTU as the module gives it over this bus's
# 512-byte buffers (the board's DT says 8192 for fsproxy).
netdev_daemon_up() {
	daemon_install
	sed -e "s|^deviceTree: .*|deviceTree: $KMOD_LANTA_DTB|" \
		-e 's|^transport: .*|transport: netdev|' \
		-e 's|^channels: {}$|channels:\n  0:\n    mtu: 482|' \
		"$KMOD_REPO/config/rpmsg-eth.yaml" >"$NETDEV_CONFIG"
	grep -q '^    mtu: 482$' "$NETDEV_CONFIG" && grep -q '^transport: netdev$' "$NETDEV_CONFIG" ||
		fail "config/rpmsg-eth.yaml changed shape: cannot set the transport and channel 0's MTU"
	# no health probes: the counters must settle for the comparison
	background "$DAEMON_DIR/node" "$DAEMON_DIR/dist/daemon/cli.js" up -c "$NETDEV_CONFIG" \
		--channels "0-$(($(emu_count) - 1))" --health-interval 0 >/tmp/daemon.log 2>&1
	daemon_pid=$!
	FAIL_DIAG=daemon_diag
	wait_for 300 "the daemon to adopt rpmsg0..$(($(emu_count) - 1))" grep -q '"msg":"ready: ' /tmp/daemon.log
}

# "N tx-packets tx-bytes rx-packets rx-bytes drops-by-reason-known" per
# channel from `stats --json`: one node start (seconds in this guest), the
# JSON read by jq (a C program: no second node start).
netdev_stats() {
	rpmsg_eth stats --json -c "$NETDEV_CONFIG" | jq -r '.channels | sort_by(.channel)[] |
		"\(.channel) \(.tx.packets) \(.tx.bytes) \(.rx.packets) \(.rx.bytes) \(if .kernel then .kernel.dropsByReason else "none" end)"'
}

netdev_sysfs() {
	local i d=/sys/class/net
	for ((i = 0; i < $(emu_count); i++)); do
		echo "$i $(cat "$d/rpmsg$i/statistics/tx_packets") $(cat "$d/rpmsg$i/statistics/tx_bytes")" \
			"$(cat "$d/rpmsg$i/statistics/rx_packets") $(cat "$d/rpmsg$i/statistics/rx_bytes")"
	done
}

# The module's drop counters are there under ethtool -S (the names of
# kmod/rpmsg_eth_main.c): stats --json can give drops by reason.
NETDEV_DROPS_BY_REASON=true

# stats --json is the kernel's counters: equal to sysfs read just before and
# after (traffic settled), every channel carried the pings, and the module's
# drop counters were found (dropsByReason).
netdev_counters_agree() {
	local before full stats after end=$((SECONDS + 30)) i tx drops
	while :; do
		before=$(netdev_sysfs)
		full=$(netdev_stats)
		after=$(netdev_sysfs)
		stats=$(cut -d' ' -f1-5 <<<"$full")
		[ "$before" = "$after" ] && [ "$stats" = "$after" ] && break
		[ "$SECONDS" -lt "$end" ] ||
			fail "stats --json and /sys/class/net disagree: stats ${stats//$'\n'/ · }; sysfs ${after//$'\n'/ · }"
		sleep 1
	done
	while read -r i tx _ _ _ drops; do
		[ "$tx" -ge 3 ] || fail "rpmsg$i sent $tx packets, the pings were 3"
		[ "$drops" = "$NETDEV_DROPS_BY_REASON" ] ||
			fail "rpmsg$i: stats --json kernel.dropsByReason is $drops (the module's ethtool -S drop counters not found?)"
	done <<<"$full"
	say "stats --json = /sys/class/net (channel tx-pkts tx-bytes rx-pkts rx-bytes drops-by-reason): ${full//$'\n'/ · }"
}

netdev_ping_all() {
	local i
	for ((i = 0; i < $(emu_count); i++)); do
		ping -c 3 -i 0.2 -W 2 "169.254.$((100 + i)).2" >/tmp/ping.out 2>&1 ||
			fail "ping over rpmsg$i: $(tail -n 2 /tmp/ping.out)"
	done
	say "ping over rpmsg0..$((i - 1)): ok"
}

# `status --json --watch 1s`, started once, writes one JSON line a second to
# /tmp/status.jsonl: every status check reads the lines it wrote, no node start
# per check.
netdev_status_watch() {
	background "$DAEMON_DIR/node" "$DAEMON_DIR/dist/daemon/cli.js" status --json --watch 1s \
		-c "$NETDEV_CONFIG" >/tmp/status.jsonl 2>/tmp/status.err
	status_pid=$!
}

# "N carrier" per channel from status line N of /tmp/status.jsonl.
netdev_carriers() {
	sed -n "${1}p" /tmp/status.jsonl | jq -r '.channels | sort_by(.channel)[] | "\(.channel) \(.carrier)"' 2>/dev/null
}

# How often the daemon logged "rpmsgN: link up|down" (its monitor saw the
# carrier change), per channel: "0 1 · 1 1 · 2 1".
netdev_link_logs() {
	local i
	for ((i = 0; i < $(emu_count); i++)); do
		printf '%s %s\n' "$i" "$(grep -c "\"msg\":\"rpmsg$i: link $1\"" /tmp/daemon.log)"
	done
}

# netdev_carrier_follows up|down LOGS-BEFORE: the kernel's carrier
# (/sys/class/net/rpmsgN/carrier) and a new "link up|down" line in the
# daemon's log for every channel; then the next line `status` writes must
# report that carrier on every channel.
netdev_carrier_follows() {
	local link=$1 before=$2 want word i n was line carriers
	[ "$link" = up ] && want=1 word=true || want=0 word=false
	for ((i = 0; i < $(emu_count); i++)); do
		wait_for 30 "carrier $link on rpmsg$i (/sys/class/net)" eval '[ "$(cat /sys/class/net/rpmsg$i/carrier)" = $want ]'
		was=$(awk -v i="$i" '$1 == i { print $2 }' <<<"$before")
		wait_for 30 "the daemon to log rpmsg$i: link $link" eval \
			'n=$(grep -c "\"msg\":\"rpmsg$i: link $link\"" /tmp/daemon.log); [ "$n" -gt "$was" ]'
	done
	kill -0 "$status_pid" 2>/dev/null || fail "status --watch exited: $(cat /tmp/status.err)"
	# a line begun after the change, written whole
	line=$(($(wc -l </tmp/status.jsonl) + 2))
	wait_for 30 "status line $line" eval '[ "$(wc -l </tmp/status.jsonl)" -ge $line ]'
	carriers=$(netdev_carriers "$line")
	[ "$(grep -c " $word\$" <<<"$carriers")" -eq "$(emu_count)" ] ||
		fail "status --json after every rpmsgN's carrier went $link: ${carriers//$'\n'/ · }"
}

scenario_55_daemon_netdev() {
	local i cap rc logs status_pid
	[ -n "$KMOD_RPMSG_ETH" ] || skip "rpmsg_eth.ko was not built"
	command -v jq >/dev/null || fail "jq is not installed (Debian package jq): run scripts/install-deps.sh kernel"
	insmod "$KMOD_RPMSG_ETH" channels="$EMU_CHANNELS" netdev=all || fail "insmod rpmsg_eth netdev=all"
	# the interfaces exist from load to unload, bound or not
	for ((i = 0; i < $(emu_count); i++)); do
		ip -o link show "rpmsg$i" >/dev/null 2>&1 || fail "rpmsg_eth netdev=all made no rpmsg$i"
	done
	load_emu
	vx_all_into_netns
	netdev_daemon_up
	# up now: NO-CARRIER would show until the channel is bound
	for ((i = 0; i < $(emu_count); i++)); do
		wait_for 15 "carrier on rpmsg$i" eval '! ip -o link show rpmsg$i | grep -q NO-CARRIER'
	done
	grep -q '"msg":"rpmsg1 adopted: ' /tmp/daemon.log || fail "the daemon did not log adopting rpmsg1"
	netdev_ping_all
	# Three clients start side by side (each node start is seconds here, the
	# guest has 2 CPUs): the status watcher, a capture on rpmsg1 (through the
	# packet socket; it ends on SIGTERM, as on Ctrl-C) and stats.
	netdev_status_watch
	# node itself in the background (not the rpmsg_eth function: $! would be
	# a subshell, and the signal would not reach node)
	background "$DAEMON_DIR/node" "$DAEMON_DIR/dist/daemon/cli.js" capture -c "$NETDEV_CONFIG" \
		-w /tmp/netdev.pcapng --channels 1 --duration 10m >/tmp/capture.out 2>&1
	cap=$!
	netdev_counters_agree

	# The capture: 3 pings during it, tcpdump reads the file.
	wait_for 120 "the capture to start" grep -q '"msg":"capture started: rpmsg1"' /tmp/daemon.log
	ping -c 3 -i 0.2 -W 2 169.254.101.2 >/dev/null 2>&1 || fail "ping over rpmsg1 during the capture"
	kill -TERM "$cap"
	wait "$cap" || fail "capture (ended by SIGTERM): $(cat /tmp/capture.out)"
	tcpdump -nr /tmp/netdev.pcapng icmp >/tmp/tcpdump.out 2>&1 || fail "tcpdump -r: $(tail -n 2 /tmp/tcpdump.out)"
	[ "$(grep -c '169.254.101.1 > 169.254.101.2: ICMP echo request' /tmp/tcpdump.out)" -eq 3 ] &&
		[ "$(grep -c '169.254.101.2 > 169.254.101.1: ICMP echo reply' /tmp/tcpdump.out)" -eq 3 ] ||
		fail "the capture lacks the 3 requests and replies: $(cat /tmp/tcpdump.out)"
	say "capture on rpmsg1: tcpdump reads 3 echo requests and 3 replies"

	logs=$(netdev_link_logs down)
	unload_emu
	netdev_carrier_follows down "$logs"
	kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited when the remote went away"
	say "remote gone: status carrier off on rpmsg0..$(($(emu_count) - 1)), daemon up"

	logs=$(netdev_link_logs up)
	load_emu
	vx_all_into_netns
	netdev_carrier_follows up "$logs"
	netdev_ping_all
	say "remote back: status carrier on, ping ok, same daemon (pid $daemon_pid)"

	kill "$status_pid"
	wait "$status_pid" 2>/dev/null
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "the daemon exited with $rc on SIGTERM"
	for ((i = 0; i < $(emu_count); i++)); do
		ip -o link show "rpmsg$i" >/dev/null 2>&1 || fail "rpmsg$i is gone after the daemon stopped"
		! ip -o addr show dev "rpmsg$i" | grep -q '169\.254\.' ||
			fail "rpmsg$i keeps the daemon's address after it stopped: $(ip -o addr show dev "rpmsg$i")"
	done
	say "daemon stopped: rpmsg0..$((i - 1)) stay, without its addresses"
}
