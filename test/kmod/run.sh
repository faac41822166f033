#!/bin/bash
# Kernel-in-the-loop tests: boot Debian's kernel under QEMU (software
# emulation) and run the guest scenarios in test/kmod/guest/ against the
# upstream rpmsg core, rpmsg_eth and the remote-core emulator.
#
# usage: test/kmod/run.sh [SCENARIO...]      (as root)
#   SCENARIO   run only the scenario functions whose names contain it
# environment:
#   KMOD_TEST_TIMEOUT   hard limit for the VM in seconds (default 600)
#   KMOD_TEST_BUILD     build directory (default <repo>/.cache/kmod-test)
#   KMOD_TEST_ARTIFACTS serial log directory (default <repo>/artifacts/kmod)
#   RPMSG_CORE_DIR      rpmsg core build (default <repo>/.cache/rpmsg-core)
#   JOBS                make -j (default 2)
#
# Exit status 0 only if the guest reported every scenario passed (or
# skipped) and its kernel log holds no BUG/WARNING/Oops.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../kmod/scripts/kernel-source.sh
. "$repo/kmod/scripts/kernel-source.sh"

PACKAGES="linux-image-amd64 linux-headers-amd64 linux-source-6.1 qemu-system-x86 busybox-static cpio"
build=${KMOD_TEST_BUILD:-$repo/.cache/kmod-test}
art=${KMOD_TEST_ARTIFACTS:-$repo/artifacts/kmod}
core=${RPMSG_CORE_DIR:-$repo/.cache/rpmsg-core}
timeout_s=${KMOD_TEST_TIMEOUT:-600}
jobs=${JOBS:-2}
log=$art/serial.log
# What in a kernel log means the test failed, wherever it appears.
BAD_KERNEL='BUG:|WARNING:|Oops|general protection|Kernel panic'

step() { printf 'kmod: %s\n' "$*" >&2; }

ensure_packages() {
	local p missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root or install them"
	step "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

# Image, headers and source move together on a Debian update; a mismatch
# builds modules the booted kernel rejects.
check_versions() {
	local img hdr src
	kver=$(debian_kver)
	img=$(pkg_version "linux-image-$kver")
	hdr=$(pkg_version "linux-headers-$kver")
	src=$(pkg_version "$(source_pkg "$kver")")
	if [ "$img" != "$hdr" ] || [ "$img" != "$src" ]; then
		die "linux-image-$kver $img, linux-headers-$kver $hdr and $(source_pkg "$kver") $src differ: upgrade them together"
	fi
	kdir=/lib/modules/$kver/build
	step "kernel $kver ($img)"
}

# Copy a module's sources to a build directory of ours and build there, so
# nothing is written next to the sources (other builds may run there).
build_module() {
	local name=$1 src=$2 dst=$build/$1
	shift 2
	mkdir -p "$dst"
	cp "$src"/*.c "$src"/Kbuild "$dst"/
	cp "$src"/*.h "$dst"/ 2>/dev/null || true
	make -C "$kdir" M="$dst" -j"$jobs" "$@" modules >"$dst/build.log" 2>&1 || {
		cat "$dst/build.log" >&2
		die "building $name failed"
	}
}

build_all() {
	step "building the rpmsg core into $core"
	KVER=$kver "$repo/kmod/scripts/build-rpmsg-core.sh" "$core" >/dev/null 2>"$build/core.log" || {
		cat "$build/core.log" >&2
		die "building the rpmsg core failed"
	}
	rpmsg_eth_ko=
	if [ -f "$repo/kmod/rpmsg_eth.c" ]; then
		step "building rpmsg_eth"
		build_module rpmsg_eth "$repo/kmod" \
			KBUILD_EXTRA_SYMBOLS="$core/Module.symvers" \
			RPMSG_ETH_CFLAGS="$("$repo/kmod/scripts/build-rpmsg-core.sh" --cflags)"
		rpmsg_eth_ko=$build/rpmsg_eth/rpmsg_eth.ko
	fi
	step "building the emulator and helpers"
	build_module emu "$repo/kmod/test"
	mkdir -p "$build/bin"
	for tool in frame-xfer dev-hold; do
		gcc -O2 -Wall -Wextra -Werror -o "$build/bin/$tool" "$here/$tool.c" ||
			die "building $tool failed"
	done
}

# A busybox initramfs that loads what 9p needs and hands over to
# test/kmod/guest/init.sh's chroot into the host's root.
build_initramfs() {
	local root=$build/initramfs m f
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,host,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	cp "$here/guest/init.sh" "$root/init"
	chmod +x "$root/init"
	: >"$root/modules.list"
	for m in $(modprobe -a -S "$kver" --show-depends 9p 9pnet_virtio virtio_pci |
		awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'); do
		f=$(basename "$m")
		case $f in
		*.ko.xz) xz -dc "$m" >"$root/lib/modules/${f%.xz}"; f=${f%.xz} ;;
		*.ko.zst) zstd -qdc "$m" >"$root/lib/modules/${f%.zst}"; f=${f%.zst} ;;
		*) cp "$m" "$root/lib/modules/$f" ;;
		esac
		echo "$f" >>"$root/modules.list"
	done
	grep -q "^9pnet_virtio.ko$" "$root/modules.list" || die "modprobe -S $kver did not list 9pnet_virtio"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$build/initramfs.cpio.gz"
}

write_guest_env() {
	{
		echo "KMOD_REPO='$repo'"
		echo "KMOD_KVER='$kver'"
		echo "KMOD_CORE_DIR='$core'"
		echo "KMOD_EMU='$build/emu/rpmsg_vx_emu.ko'"
		echo "KMOD_RPMSG_ETH='$rpmsg_eth_ko'"
		echo "KMOD_BIN='$build/bin'"
		echo "KMOD_SCENARIOS='$*'"
	} >"$build/guest.env"
}

boot() {
	local rc=0 qemu
	step "booting $kver under QEMU (limit ${timeout_s}s); serial log: $log"
	: >"$log"
	timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
		-nographic -no-reboot \
		-kernel "/boot/vmlinuz-$kver" -initrd "$build/initramfs.cpio.gz" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=5 testenv=$build/guest.env testrun=$here/guest/run.sh testkeep=$keep" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		</dev/null >"$log" 2>&1 &
	qemu=$!
	trap 'kill "$qemu" 2>/dev/null' EXIT
	# progress: the guest's own lines, as they come
	tail -n +1 -f --pid="$qemu" "$log" 2>/dev/null | sed -u 's/\r$//' |
		grep -a --line-buffered '^kmod-test: ' >&2 &
	wait "$qemu" || rc=$?
	trap - EXIT
	wait
	[ "$rc" -eq 124 ] && step "QEMU did not finish within ${timeout_s}s"
	return 0
}

# The scenario results, and on failure the part of the log that matters.
verdict() {
	local results bad first
	results=$(tr -d '\r' <"$log" | grep -a '^kmod-test: RESULT' || true)
	bad=$(tr -d '\r' <"$log" | grep -a -n -E "$BAD_KERNEL" | head -n 20 || true)
	if grep -q '^kmod-test: RESULT PASS$' <<<"$results" && [ -z "$bad" ]; then
		step "PASS in $SECONDS s"
		return 0
	fi
	step "FAIL after $SECONDS s; serial log: $log"
	[ -n "$bad" ] && { echo "--- kernel log lines that fail the run:"; echo "$bad"; } >&2
	# from the first failed scenario's start (or the last 150 lines) on
	first=$(tr -d '\r' <"$log" | grep -a -n -m1 '^kmod-test: RESULT .* FAIL' |
		sed 's/^[0-9]*:kmod-test: RESULT \([^ ]*\) .*/\1/' || true)
	echo "--- serial log excerpt:" >&2
	if [ -n "$first" ]; then
		tr -d '\r' <"$log" | sed -n "/^kmod-test: === $first: start/,/^kmod-test: RESULT $first /p" >&2
	else
		tr -d '\r' <"$log" | tail -n 150 >&2
	fi
	return 1
}

main() {
	SECONDS=0
	ensure_packages
	for tool in gcc make qemu-system-x86_64 cpio gzip timeout modprobe; do
		command -v "$tool" >/dev/null || die "$tool is not installed"
	done
	check_versions
	# The guest mounts tmpfs over /tmp and /run; a checkout under /tmp (CI clones there) is bound back
	# into the guest's /tmp (testkeep=), so only /run is out of bounds.
	case "$repo $build" in
	*/run/*) die "$repo, $build: the guest mounts tmpfs over /run; use a checkout and build directory elsewhere" ;;
	esac
	case $repo in
	/tmp/*) keep=$repo ;;
	*) keep=none ;;
	esac
	case $build in
	"$repo"/*) ;;
	/tmp/*) die "KMOD_TEST_BUILD=$build: the guest mounts tmpfs over /tmp; keep it inside the checkout" ;;
	esac
	mkdir -p "$build" "$art"
	build_all
	build_initramfs
	write_guest_env "$@"
	boot
	verdict
}

main "$@"
