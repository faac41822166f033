# shellcheck shell=bash
# shellcheck disable=SC2034 # FAIL_DIAG is read by fail
# The rpmsg_eth scenarios written in C (test/kmod/kmod-scenarios.c), which
# the big-endian PowerPC guest runs as its /init: the same checks here.

c_scenarios() {
	"${KMOD_SCENARIOS_BIN:-$KMOD_BIN/kmod-scenarios}" --rpmsg-eth "$KMOD_RPMSG_ETH" \
		--emu "$KMOD_EMU" --bin "$KMOD_BIN" "$@" || fail "kmod-scenarios $*"
}

scenario_70_datapath_virtio() { c_scenarios datapath_virtio; }
# the emulator delivers from hard-IRQ context (irq_work), as a message interrupt
scenario_71_datapath_irq() { c_scenarios datapath_irq; }
scenario_72_remote_gone_virtio() { c_scenarios remote_gone_virtio; }
scenario_73_remote_gone_irq() { c_scenarios remote_gone_irq; }
scenario_74_unbind_under_traffic() { c_scenarios unbind_under_traffic; }
scenario_75_nonblock_stall() { c_scenarios nonblock_stall_virtio nonblock_stall_irq; }
scenario_76_batch() { c_scenarios batch batch_fault; }
scenario_77_late_device() { c_scenarios late_device; }
# a 32-bit process on the 64-bit kernel: every ioctl through compat_ioctl
scenario_78_compat32() {
	KMOD_SCENARIOS_BIN=$KMOD_BIN/kmod-scenarios32 c_scenarios batch batch_fault nonblock_stall_virtio
}

# netdev mode: the module's interfaces rpmsgN (one boot, one call)
scenario_79_netdev() { c_scenarios netdev_ifaces netdev_ping_irq netdev_unbind_rmmod netdev_frag; }

# a measurement, not a check: run.sh ring_full
scenario_ring_full_rate() { c_scenarios ring_full_rate_virtio ring_full_rate_irq; }

# Last: a full kmemleak scan after everything ran; the checkers still on.
scenario_99_kmemleak() {
	if [ "$KMOD_KASAN" = 1 ]; then
		c_scenarios kmemleak debug_active --kasan
	else
		skip "not a debug kernel (--kernel debian)"
	fi
}
