# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # eval'd conditions; FAIL_DIAG is read by fail
# A measurement (issue 12), run only when named: run.sh netdev_vs_kmod_rate.
# The module's own interface (netdev mode) against the daemon's TAP over the
# module's character device (--transport kmod), on the same channels of the
# same boot, in alternating rounds: TCP throughput (iperf3, Linux -> remote)
# and ping RTT (median of RATE_PINGS pings, 10 ms apart, Linux -> remote).
# Prints one table with the netdev/kmod ratios; fails only when a figure
# cannot be taken (no iperf3 report, too few ping replies), never on a ratio.
# Both modes put the Linux side in namespace rpmsg-test at 169.254.(100+N).1
# and the emulator's vxN in namespace vxN at .2 (vx_all_into_netns).
# Uses daemon_install, daemon_config and daemon_diag of 50-daemon.sh.

RATE_ROUNDS=3
RATE_IPERF_SECONDS=5
RATE_PINGS=100
RATE_MIN_REPLIES=90
# Channel 1 (512-byte buffers, MTU 482) first; channel 0 has the same
# buffers on this bus (the board's 8192 exist only in the DT).
RATE_CHANNELS="1 0"
RATE_NS=rpmsg-test
RATE_OUT=/tmp/netdev-rate.results

rate_channel_list() { tr ' ' ',' <<<"$RATE_CHANNELS"; }
rate_peer() { echo "169.254.$((100 + $1)).2"; }
rate_mtu() { ip -n "$RATE_NS" -o link show "rpmsg$1" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
rate_carrier() { ! ip -n "$RATE_NS" -o link show "rpmsg$1" | grep -q NO-CARRIER; }

# netdev mode: rpmsg_eth makes rpmsgN for the measured channels; they go into
# RATE_NS with the addresses the daemon would give them.
rate_netdev_up() {
	local ch
	insmod "$KMOD_RPMSG_ETH" channels="$EMU_CHANNELS" netdev="$(rate_channel_list)" ||
		fail "insmod rpmsg_eth netdev=$(rate_channel_list)"
	ip netns add "$RATE_NS" || fail "ip netns add $RATE_NS"
	ip -n "$RATE_NS" link set lo up
	for ch in $RATE_CHANNELS; do
		wait_for 10 "rpmsg_eth's rpmsg$ch" eval 'ip -o link show rpmsg$ch >/dev/null 2>&1'
		ip link set "rpmsg$ch" netns "$RATE_NS" || fail "moving rpmsg$ch into $RATE_NS"
		ip -n "$RATE_NS" addr add "169.254.$((100 + ch)).1/24" dev "rpmsg$ch" ||
			fail "ip addr add on rpmsg$ch"
		ip -n "$RATE_NS" link set "rpmsg$ch" up || fail "ip link set rpmsg$ch up"
	done
}

rate_netdev_down() {
	rmmod rpmsg_eth || fail "rmmod rpmsg_eth"
	ip netns delete "$RATE_NS" || fail "ip netns delete $RATE_NS"
}

# kmod transport: rpmsg_eth's character devices, the daemon's TAPs in RATE_NS.
rate_kmod_up() {
	local ch
	insmod "$KMOD_RPMSG_ETH" channels="$EMU_CHANNELS" || fail "insmod rpmsg_eth"
	for ch in $RATE_CHANNELS; do
		wait_for 10 "/dev/rpmsg-eth$ch" test -c "/dev/rpmsg-eth$ch"
	done
	: >/tmp/daemon.log
	# no health probes: nothing but the measurement on the channels
	background "$DAEMON_DIR/node" "$DAEMON_DIR/dist/daemon/cli.js" up -c /tmp/rpmsg-eth.yaml \
		--transport kmod --netns "$RATE_NS" --channels "$(rate_channel_list)" --health-interval 0 \
		>/tmp/daemon.log 2>&1
	daemon_pid=$!
	FAIL_DIAG=daemon_diag
	wait_for 300 "the daemon to be ready" grep -q '"msg":"ready: ' /tmp/daemon.log
	rate_daemon_settle
}

# Node.js keeps busy for a while after "ready" (compiling, collecting): the
# first figures taken then were 5-10 times the RTT of the next channel's.
# Wait (60 s at most) until the daemon used under 5% of a CPU in a second.
rate_daemon_settle() {
	local end=$((SECONDS + 60)) a b
	a=$(awk '{ print $14 + $15 }' "/proc/$daemon_pid/stat")
	while sleep 1; b=$(awk '{ print $14 + $15 }' "/proc/$daemon_pid/stat"); [ $((b - a)) -gt 5 ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			say "the daemon still uses $((b - a)) of 100 ticks a second after 60 s: measuring anyway"
			return 0
		fi
		a=$b
	done
}

rate_kmod_down() {
	local rc
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "the daemon exited with $rc on SIGTERM"
	FAIL_DIAG=
	rmmod rpmsg_eth || fail "rmmod rpmsg_eth"
	# the daemon made the namespace and removes it; a leftover would be reused
	[ ! -e "/run/netns/$RATE_NS" ] || ip netns delete "$RATE_NS"
}

# rate_ready CH: carrier, and the remote answers (vxN's neighbour cache still
# holds the MAC of the other mode's interface: flushed first).
rate_ready() {
	local ch=$1
	wait_for 15 "carrier on rpmsg$ch" rate_carrier "$ch"
	ip -n "vx$ch" neigh flush all
	wait_for 30 "a ping over rpmsg$ch" \
		ip netns exec "$RATE_NS" ping -n -c 1 -W 1 "$(rate_peer "$ch")" >/dev/null 2>&1
}

# rate_iperf CH: mbps = Mb/s of one TCP stream from rpmsgN to vxN, as
# iperf3's receiver reports it; empty when iperf3 gave no report.
rate_iperf() {
	local ch=$1 peer server
	peer=$(rate_peer "$ch")
	background ip netns exec "vx$ch" iperf3 -s -1 -B "$peer" >/tmp/iperf3-server.out 2>&1
	server=$!
	wait_for 30 "the iperf3 server in vx$ch" eval \
		'[ -n "$(ip netns exec vx$ch ss -Htln "sport = :5201")" ]'
	ip netns exec "$RATE_NS" iperf3 -c "$peer" -t "$RATE_IPERF_SECONDS" -f m --connect-timeout 5000 \
		>/tmp/iperf3.out 2>&1
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	mbps=$(awk '$NF == "receiver" && $(NF - 1) == "Mbits/sec" { print $(NF - 2) }' /tmp/iperf3.out)
}

# rate_rtt CH: "median-ms replies" of RATE_PINGS pings 10 ms apart.
rate_rtt() {
	ip netns exec "$RATE_NS" ping -n -c "$RATE_PINGS" -i 0.01 -W 2 "$(rate_peer "$1")" 2>&1 |
		sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "- 0"; exit }
			printf "%s %d\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), NR }'
}

# rate_measure MODE ROUND: every channel's figures, one line each in RATE_OUT.
rate_measure() {
	local mode=$1 round=$2 ch mbps rtt replies
	for ch in $RATE_CHANNELS; do
		rate_ready "$ch"
		# RTT first, on an idle link: nothing of iperf3's stream still queued
		read -r rtt replies <<<"$(rate_rtt "$ch")"
		[ "$replies" -ge "$RATE_MIN_REPLIES" ] ||
			fail "$mode, channel $ch: $replies of $RATE_PINGS ping replies (at least $RATE_MIN_REPLIES needed)"
		rate_iperf "$ch"
		if [ -z "$mbps" ]; then
			# a loaded machine sometimes ends an iperf3 without its report: once more
			say "round $round $mode channel $ch: no iperf3 report ($(tail -n 1 /tmp/iperf3.out)); measuring again"
			rate_iperf "$ch"
			[ -n "$mbps" ] || fail "$mode, channel $ch: no iperf3 report: $(tail -n 3 /tmp/iperf3.out)"
		fi
		say "round $round $mode channel $ch (MTU $(rate_mtu "$ch")): $mbps Mb/s, RTT median $rtt ms ($replies/$RATE_PINGS replies)"
		echo "$ch $mode $round $mbps $rtt $(rate_mtu "$ch")" >>"$RATE_OUT"
	done
}

# The table from RATE_OUT: per channel and mode the rounds and their median;
# the ratios are the medians of the per-round netdev/kmod ratios (rounds are
# adjacent in time, so a load change touches both sides of a ratio alike).
rate_table() {
	awk -v rounds="$RATE_ROUNDS" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function rounds_of(ch, m, f,   r, s) {
			s = ""
			for (r = 1; r <= rounds; r++) s = s sprintf(f == 4 ? " %6.2f" : " %6.3f", v[ch, m, r, f])
			return s
		}
		{ v[$1, $2, $3, 4] = $4; v[$1, $2, $3, 5] = $5; mtu[$1, $2] = $6; if (!($1 in seen)) { seen[$1]; order[++nch] = $1 } }
		END {
			printf "%-7s %-7s %4s | %-*s %7s | %-*s %7s\n", "channel", "mode", "MTU",
				rounds * 7, " Mb/s per round", "median", rounds * 7, " RTT ms per round", "median"
			for (c = 1; c <= nch; c++) {
				ch = order[c]
				for (k = 1; k <= 2; k++) {
					m = k == 1 ? "netdev" : "kmod"
					for (r = 1; r <= rounds; r++) { t[r] = v[ch, m, r, 4]; u[r] = v[ch, m, r, 5] }
					printf "%-7s %-7s %4s |%s %7.2f |%s %7.3f\n", ch, m, mtu[ch, m],
						rounds_of(ch, m, 4), median(t, rounds), rounds_of(ch, m, 5), median(u, rounds)
				}
				for (r = 1; r <= rounds; r++) {
					t[r] = v[ch, "netdev", r, 4] / v[ch, "kmod", r, 4]
					u[r] = v[ch, "netdev", r, 5] / v[ch, "kmod", r, 5]
				}
				printf "%-7s %-12s |%*s %6.2fx |%*s %6.2fx\n", ch, "netdev/kmod", rounds * 7, "", median(t, rounds),
					rounds * 7, "", median(u, rounds)
			}
		}' "$RATE_OUT"
}

scenario_90_netdev_vs_kmod_rate() {
	local round ch
	[ -n "$KMOD_RPMSG_ETH" ] || skip "rpmsg_eth.ko was not built"
	command -v iperf3 >/dev/null || fail "iperf3 is not installed on the host (Debian package iperf3: scripts/install-deps.sh)"
	daemon_install
	daemon_config
	: >"$RATE_OUT"
	load_emu
	wait_for 5 "the channels" channels_present
	for ch in $RATE_CHANNELS; do
		vx_into_netns "$ch" "$(rate_peer "$ch")/24"
	done
	say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	for ((round = 1; round <= RATE_ROUNDS; round++)); do
		rate_netdev_up
		rate_measure netdev "$round"
		rate_netdev_down
		rate_kmod_up
		rate_measure kmod "$round"
		rate_kmod_down
	done
	say "netdev mode vs --transport kmod: $RATE_ROUNDS alternating rounds, virtio emulator; iperf3 TCP" \
		"${RATE_IPERF_SECONDS} s Linux -> remote; RTT: median of $RATE_PINGS pings 10 ms apart;" \
		"ratios: median of the per-round netdev/kmod ratios"
	rate_table | while IFS= read -r line; do say "$line"; done
	say "guest load (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; kernel $(uname -r)$([ "$KMOD_KASAN" = 1 ] && echo ' (debug: KASAN, lockdep, kmemleak)')"
}
