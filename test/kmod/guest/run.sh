#!/bin/bash
# Guest side of the kernel tests, run by init.sh in a chroot into the host's
# root: loads the rpmsg core, then runs every scenario function
# (scenario_NN_name, defined in scenarios/*.sh) in name order.
#
#   run.sh ENV_FILE     ENV_FILE is written by test/kmod/run.sh
#
# A scenario passes when its function returns 0, is skipped on 77, fails
# otherwise -- and also fails when the kernel log gains a line matching
# BAD_KERNEL while it runs. The last line is "kmod-test: RESULT PASS" or
# "kmod-test: RESULT FAIL (...)"; the whole kernel log follows it.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
# shellcheck disable=SC1090
. "$1"
guest=$KMOD_REPO/test/kmod/guest
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$guest/lib.sh"
for f in "$guest"/scenarios/*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

# Kernel messages written by the scenarios mark where each one starts.
mark() { echo "kmod-test: $*" >/dev/kmsg; }

# The kernel log since the mark of scenario $1, filtered for BAD_KERNEL.
kernel_trouble() {
	dmesg --color=never | sed -n "/kmod-test: start $1\$/,\$p" | grep -E "$BAD_KERNEL"
}

run_scenario() {
	local name=$1 rc t0=$SECONDS status
	say "=== $name: start"
	mark "start $name"
	(
		trap 'cleanup_scenario' EXIT
		"$name"
	)
	rc=$?
	if kernel_trouble "$name" >/tmp/trouble; then
		say "kernel log during $name:"
		sed 's/^/    /' /tmp/trouble
		rc=1
	fi
	case $rc in
	0) status=PASS ;;
	77) status=SKIP ;;
	*) status=FAIL ;;
	esac
	say "RESULT $name $status ($((SECONDS - t0)) s)"
	[ "$status" != FAIL ]
}

main() {
	local failed=() name
	say "guest up: kernel $(uname -r), $(nproc) CPUs"
	if ! load_base; then
		say "RESULT FAIL (loading the base modules)"
		dmesg --color=never | tail -n 50
		return 1
	fi
	for name in $(declare -F | awk '{ print $3 }' | grep '^scenario_' | sort); do
		if [ -n "$KMOD_SCENARIOS" ] && ! selected "$name"; then
			continue
		fi
		# measurements run only when asked for by name
		case $name in *_rate) [ -n "$KMOD_SCENARIOS" ] || continue ;; esac
		run_scenario "$name" || failed+=("$name")
	done
	if [ ${#failed[@]} -eq 0 ]; then
		say "RESULT PASS"
	else
		say "RESULT FAIL (${failed[*]})"
	fi
	echo "----- kernel log -----"
	dmesg --color=never
	echo "----- end of kernel log -----"
}

selected() {
	local want
	for want in $KMOD_SCENARIOS; do
		case $1 in *"$want"*) return 0 ;; esac
	done
	return 1
}

main
