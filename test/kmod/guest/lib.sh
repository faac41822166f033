# shellcheck shell=bash
# Helpers for the guest scenarios (sourced by run.sh). Scenarios run in a
# subshell: fail/skip end only the scenario, and cleanup_scenario runs after
# each one to bring the guest back to the base state (rpmsg core loaded,
# emulator and rpmsg_eth not, no test namespaces or background processes).

# shellcheck disable=SC2034 # used by run.sh
BAD_KERNEL='BUG:|WARNING:|Oops|general protection|Kernel panic|suspected memory leak|kmemleak: Kernel memory leak detector disabled|Unable to handle kernel'
EMU=rpmsg_vx_emu
# The board's first channels (seed DTS): name and eth-dev endpoint address.
EMU_CHANNELS="nokia-fsproxy-channel:0x10,nokia-eqpthwa-channel:0x20,nokia-redundancy-channel:0x30"
RPMSG_CORE_MODULES="rpmsg_core rpmsg_ns virtio_rpmsg_bus rpmsg_char rpmsg_ctrl"
BG_PIDS=/tmp/kmod-test-bg.pids

say() { echo "kmod-test: $*"; }
# A scenario may set FAIL_DIAG to a command that shows what failed.
fail() {
	say "FAIL: $*"
	[ -z "${FAIL_DIAG:-}" ] || $FAIL_DIAG
	exit 1
}
skip() {
	say "SKIP: $*"
	exit 77
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s.
# Arguments are expanded once, at the call: to re-read a value on every
# poll, pass a quoted expression through eval:
#   wait_for 5 "..." eval '[ "$(cat FILE)" -gt 3 ]'

wait_for() {
	local limit=$1 what=$2 end
	shift 2
	end=$((SECONDS + limit))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || fail "timed out after ${limit}s waiting for $what"
		sleep 0.1
	done
}

# Run a command in the background; cleanup_scenario kills it.
background() {
	"$@" &
	echo $! >>"$BG_PIDS"
}

module_loaded() { [ -d "/sys/module/$1" ]; }

load_base() {
	local m
	# tun/veth for the daemon's TAPs and the namespaces (modules in
	# Debian's kernel, built in in the debug kernel)
	[ -c /dev/net/tun ] || modprobe tun || return 1
	ip link add kmod-test-veth type veth peer name kmod-test-peer 2>/dev/null ||
		modprobe veth || return 1
	ip link del kmod-test-veth 2>/dev/null
	for m in $RPMSG_CORE_MODULES; do
		insmod "$KMOD_CORE_DIR/$m.ko" || return 1
	done
}

# load_emu [PARAM=VALUE...]: the remote core comes up with EMU_CHANNELS.
load_emu() {
	insmod "$KMOD_EMU" channels="$EMU_CHANNELS" "$@" || fail "insmod $EMU $*"
}

unload_emu() {
	rmmod "$EMU" || fail "rmmod $EMU"
}

load_rpmsg_eth() {
	[ -n "$KMOD_RPMSG_ETH" ] || skip "rpmsg_eth.ko was not built"
	insmod "$KMOD_RPMSG_ETH" channels="$EMU_CHANNELS" || fail "insmod rpmsg_eth"
}

eth_devs_present() {
	local i
	for ((i = 0; i < $(emu_count); i++)); do
		[ -c "/dev/rpmsg-eth$i" ] || return 1
	done
}

# Channel names/addresses/count out of EMU_CHANNELS.
emu_names() { tr ',' '\n' <<<"$EMU_CHANNELS" | cut -d: -f1; }
emu_addr() { tr ',' '\n' <<<"$EMU_CHANNELS" | sed -n "$(($1 + 1))p" | cut -d: -f2; }
emu_count() { emu_names | wc -l; }

# The rpmsg device (/sys/bus/rpmsg/devices/...) of channel NAME, if any.
rpmsg_dev_of() {
	local d
	for d in /sys/bus/rpmsg/devices/virtio*."$1".*; do
		[ -e "$d" ] && { echo "$d"; return 0; }
	done
	return 1
}

# /dev/rpmsg_ctrlK of the virtio device that carries channel NAME.
ctrl_of() {
	local dev vdev c
	dev=$(rpmsg_dev_of "$1") || return 1
	vdev=$(basename "$dev")
	vdev=${vdev%%.*}
	for c in /sys/class/rpmsg/rpmsg_ctrl*; do
		case $(readlink -f "$c") in
		*/"$vdev"/*) echo "/dev/$(basename "$c")"; return 0 ;;
		esac
	done
	return 1
}

count_glob() {
	local n=0 f
	for f in "$@"; do [ -e "$f" ] && n=$((n + 1)); done
	echo "$n"
}

# Bring vxN up with no IPv6 chatter and an MTU above the rpmsg limit, so
# oversized frames can be sent to check they are dropped.
vx_up() {
	local v6=/proc/sys/net/ipv6/conf/$1/disable_ipv6
	# IPv6 attaches only at MTU >= 1280: raise it before disabling IPv6
	ip link set "$1" mtu 1500 || fail "ip link set $1 mtu 1500"
	[ ! -e "$v6" ] || echo 1 >"$v6"
	ip link set "$1" up || fail "ip link set $1 up"
}

# hold_device PATH OUT: a reader (test/kmod/dev-hold.c) blocked on PATH,
# its output in OUT.
hold_device() {
	background "$KMOD_BIN/dev-hold" "$1" >"$2"
	hold_pid=$!
	wait_for 5 "dev-hold to open $1" grep -q '^dev-hold: open$' "$2"
}

# wait_reader_failed OUT WHAT: the reader ended; on timeout, show where.
wait_reader_failed() {
	local end=$((SECONDS + 5))
	until grep -q '^dev-hold: read:' "$1"; do
		if [ "$SECONDS" -ge "$end" ]; then
			say "reader output (last lines): $(tail -n 3 "$1")"
			say "reader kernel stack: $(cat "/proc/$hold_pid/stack" 2>&1)"
			say "devices: $(echo /dev/rpmsg*) $(cd /sys/bus/rpmsg/devices && echo *)"
			fail "timed out after 5s waiting for the reader of $2 to fail"
		fi
		sleep 0.1
	done
}

reader_failed_with() {
	grep -q "^dev-hold: read: $1\$" "$2"
}

# eth_counter DEV NAME: one of rpmsg_eth's sysfs counters of DEV.
eth_counter() {
	awk -v k="$2" '$1 == k { print $2 }' "/sys/class/rpmsg-eth/$1/counters"
}

# vx_stat IFACE NAME: a netdev statistic.
vx_stat() { cat "/sys/class/net/$1/statistics/$2"; }

# Whether all / none of EMU_CHANNELS are on the rpmsg bus.
channels_present() {
	local name
	for name in $(emu_names); do
		rpmsg_dev_of "$name" >/dev/null || return 1
	done
}

channels_absent() {
	local name
	for name in $(emu_names); do
		rpmsg_dev_of "$name" >/dev/null && return 1
	done
	return 0
}

# char_endpoint: create an rpmsg_char endpoint on channel 0's eth-dev
# address (test/kmod/frame-xfer.c --keep) and print its /dev/rpmsgM.
char_endpoint() {
	local name
	name=$(emu_names | head -n1)
	"$KMOD_BIN/frame-xfer" --iface vx0 --ctrl "$(ctrl_of "$name")" \
		--src "$(emu_addr 0)" --dst "$(emu_addr 0)" --keep |
		sed -n 's|^frame-xfer: ok: endpoint .* is \(/dev/rpmsg[0-9]*\)$|\1|p'
}

# vx_into_netns N CIDR: the remote side of channel N, vxN, in its own
# namespace "vxN" (made if missing) with address CIDR (what the VxWorks
# stack would own).
vx_into_netns() {
	local ns=vx$1
	[ -e "/run/netns/$ns" ] || ip netns add "$ns" || fail "ip netns add $ns"
	ip link set "vx$1" netns "$ns" || fail "moving vx$1 into $ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$2" dev "vx$1" || fail "ip addr add $2 dev vx$1"
	ip -n "$ns" link set "vx$1" up || fail "ip link set vx$1 up in $ns"
}

cleanup_scenario() {
	local pid ns
	exec 3>&- 4>&-	# descriptors scenarios hold devices open with
	if [ -f "$BG_PIDS" ]; then
		while read -r pid; do kill "$pid" 2>/dev/null; done <"$BG_PIDS"
		while read -r pid; do wait "$pid" 2>/dev/null; done <"$BG_PIDS"
		rm -f "$BG_PIDS"
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		ip netns delete "$ns"
	done
	module_loaded rpmsg_eth && rmmod rpmsg_eth
	module_loaded "$EMU" && rmmod "$EMU"
	return 0
}
