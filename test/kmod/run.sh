#!/bin/bash
# Kernel-in-the-loop tests: boot a kernel under QEMU (software emulation)
# and run the guest scenarios against the rpmsg core, rpmsg_eth and the
# remote-core emulator.
#
# usage: test/kmod/run.sh [--arch x86_64|ppc] [--kernel debug|debian] [SCENARIO...]
#                                                              (as root)
#   --arch x86_64  (default) the scenarios in guest/scenarios/*.sh, run from
#                  the host's root over 9p (the daemon's included), on
#   --kernel debug (default) a kernel with KASAN, lockdep,
#                  DEBUG_ATOMIC_SLEEP and kmemleak (kernel/build.sh), or
#   --kernel debian  Debian's linux-image-amd64 with the rpmsg core built
#                  out of tree.
#   --arch ppc     a big-endian 32-bit PowerPC e500mc kernel (same debug
#                  options) in qemu-system-ppc -M ppce500 with the rpmsg
#                  node of config/lanta.dts in its device tree; the guest's
#                  user space is kmod-scenarios.c as /init (no shell).
#   SCENARIO       run only the scenarios whose names contain it
# environment:
#   KMOD_TEST_TIMEOUT   hard limit for the VM in seconds (default 2400 for the
#                       x86-64 debug kernel, 900 otherwise)
#   KMOD_TEST_BUILD     build directory (default <repo>/.cache/kmod-test/ARCH-KERNEL)
#   KMOD_TEST_ARTIFACTS serial log directory (default <repo>/artifacts/kmod)
#   KERNEL_CACHE        where debug kernels are kept (kernel/build.sh)
#   JOBS                make -j (default 2)
#
# Exit status 0 only if the guest reported every scenario passed (or
# skipped) and its kernel log holds no BUG/WARNING/Oops/KASAN/lockdep/
# kmemleak report.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../kmod/scripts/kernel-source.sh
. "$repo/kmod/scripts/kernel-source.sh"

arch=x86_64
kernel=debug
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	*) break ;;
	esac
done
case $arch-$kernel in
x86_64-debug | x86_64-debian | ppc-debug) ;;
*) die "usage: $0 [--arch x86_64|ppc] [--kernel debug|debian] [SCENARIO...] (ppc: debug only)" ;;
esac

build=${KMOD_TEST_BUILD:-$repo/.cache/kmod-test/$arch-$kernel}
art=${KMOD_TEST_ARTIFACTS:-$repo/artifacts/kmod}
# the x86-64 debug kernel runs the daemon over 9p under KASAN and lockdep: slow
case $arch-$kernel in
x86_64-debug) timeout_s=${KMOD_TEST_TIMEOUT:-2400} ;;
*) timeout_s=${KMOD_TEST_TIMEOUT:-900} ;;
esac
jobs=${JOBS:-2}
log=$art/serial-$arch-$kernel.log
# What in a kernel log means the test failed, wherever it appears: BUG:
# covers KASAN and "sleeping function called from invalid context",
# WARNING: covers lockdep's reports.
BAD_KERNEL='BUG:|WARNING:|Oops|general protection|Kernel panic|suspected memory leak|kmemleak: Kernel memory leak detector disabled|Unable to handle kernel'

step() { printf 'kmod: %s\n' "$*" >&2; }

# scripts/install-deps.sh kernel installs these; say which is missing.
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t is not installed: run scripts/install-deps.sh kernel"
	done
}

# Image, headers and source move together on a Debian update; a mismatch
# builds modules the booted kernel rejects.
check_debian_versions() {
	local img hdr src
	kver=$(debian_kver)
	img=$(pkg_version "linux-image-$kver")
	hdr=$(pkg_version "linux-headers-$kver")
	src=$(pkg_version "$(source_pkg "$kver")")
	if [ "$img" != "$hdr" ] || [ "$img" != "$src" ]; then
		die "linux-image-$kver $img, linux-headers-$kver $hdr and $(source_pkg "$kver") $src differ: upgrade them together"
	fi
	step "kernel $kver ($img)"
}

# The kernel to boot and build against: kdir, image, core (rpmsg modules),
# rpmsg_src (drivers/rpmsg of its source), make_args.
setup_kernel() {
	make_args=()
	case $arch-$kernel in
	x86_64-debian)
		check_debian_versions
		kdir=/lib/modules/$kver/build
		image=/boot/vmlinuz-$kver
		core=$repo/.cache/rpmsg-core
		rpmsg_src=$core
		step "building the rpmsg core into $core"
		KVER=$kver "$repo/kmod/scripts/build-rpmsg-core.sh" "$core" >/dev/null 2>"$build/core.log" || {
			cat "$build/core.log" >&2
			die "building the rpmsg core failed"
		}
		make_args=(KBUILD_EXTRA_SYMBOLS="$core/Module.symvers"
			RPMSG_ETH_CFLAGS="$("$repo/kmod/scripts/build-rpmsg-core.sh" --cflags)") ;;
	*)
		step "debug kernel for $arch (built once per machine; $("$here/kernel/build.sh" "$arch" --dir))"
		kdir=$("$here/kernel/build.sh" "$arch" | tail -n1) || die "building the $arch kernel failed"
		case $arch in
		x86_64) image=$kdir/arch/x86/boot/bzImage ;;
		ppc) image=$kdir/vmlinux
			make_args=(ARCH=powerpc CROSS_COMPILE=powerpc-linux-gnu-) ;;
		esac
		kver=$(cat "$kdir/include/config/kernel.release")
		core=$kdir/drivers/rpmsg
		rpmsg_src=$kdir/source/drivers/rpmsg
		step "kernel $kver: debug options $(grep -E '^CONFIG_(KASAN|PROVE_LOCKING|DEBUG_ATOMIC_SLEEP|DEBUG_KMEMLEAK)=y' "$kdir/.config" | sed 's/=y//' | tr '\n' ' ')" ;;
	esac
}

# Copy a module's sources to a build directory of ours and build there, so
# nothing is written next to the sources (other builds may run there).
build_module() {
	local name=$1 src=$2 dst=$build/$1
	mkdir -p "$dst"
	rm -f "$dst"/*.c "$dst"/*.h
	cp "$src"/*.c "$src"/Kbuild "$dst"/
	cp "$src"/*.h "$dst"/ 2>/dev/null || true
	make -C "$kdir" M="$dst" -j"$jobs" "${make_args[@]}" RPMSG_SRC_DIR="$rpmsg_src" \
		RPMSG_FRAG_DIR="$repo/frag" modules >"$dst/build.log" 2>&1 || {
		cat "$dst/build.log" >&2
		die "building $name failed"
	}
}

# The guest's C tools: static for ppc (no libc there); a 32-bit build of
# kmod-scenarios on x86-64 checks the ioctls through the compat path.
build_tools() {
	local tool cc=gcc flags=(-O2 -Wall -Wextra -Werror)
	mkdir -p "$build/bin"
	[ "$arch" = ppc ] && cc=powerpc-linux-gnu-gcc flags+=(-static)
	for tool in frame-xfer dev-hold kmod-scenarios; do
		"$cc" "${flags[@]}" -o "$build/bin/$tool" "$here/$tool.c" || die "building $tool failed"
	done
	if [ "$arch" = x86_64 ]; then
		# asm/ for -m32: x86's uapi asm headers serve both ABIs
		mkdir -p "$build/inc32"
		ln -sfn /usr/include/x86_64-linux-gnu/asm "$build/inc32/asm"
		gcc -m32 -static "${flags[@]}" -idirafter "$build/inc32" \
			-o "$build/bin/kmod-scenarios32" "$here/kmod-scenarios.c" ||
			die "building the 32-bit kmod-scenarios failed (libc6-dev-i386, lib32gcc-12-dev)"
	fi
}

build_all() {
	step "building rpmsg_eth, the emulator and the guest tools"
	build_module rpmsg_eth "$repo/kmod"
	build_module emu "$repo/kmod/test"
	build_tools
	step "unit: frame size bounds"
	gcc -O2 -Wall -Wextra -Werror -I"$repo/kmod" -o "$build/bin/sizes-test" \
		"$here/sizes-test.c" && "$build/bin/sizes-test" >&2 ||
		die "test/kmod/sizes-test.c failed"
}

# x86-64: a busybox initramfs that loads what 9p needs (Debian's kernel has
# it as modules; the debug kernel has it built in) and hands over to
# guest/init.sh's chroot into the host's root.
build_initramfs_x86() {
	local root=$build/initramfs m f
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,host,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	cp "$here/guest/init.sh" "$root/init"
	chmod +x "$root/init"
	: >"$root/modules.list"
	if [ "$kernel" = debian ]; then
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
	fi
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$build/initramfs.cpio.gz"
}

# The channel table rpmsg_eth must print for config/lanta.dts, one line per
# channel, in its own words (see rpmsg_eth_config.c).
expected_table() {
	local dtb=$1 node=$2 i nums names addrs sizes bufs
	read -ra nums <<<"$(fdtget -t u "$dtb" "$node" channel-num)"
	read -ra names <<<"$(fdtget -t s "$dtb" "$node" channel-name)"
	read -ra addrs <<<"$(fdtget -t x "$dtb" "$node" eth-dev-endpoints)"
	read -ra sizes <<<"$(fdtget -t u "$dtb" "$node" rpmsg-buf-size)"
	read -ra bufs <<<"$(fdtget -t u "$dtb" "$node" rpmsg-num-bufs)"
	for i in "${!nums[@]}"; do
		printf 'channel %s %s: eth-dev 0x%s -> 0x%s, rpmsg-buf-size %s, rpmsg-num-bufs %s\n' \
			"${nums[$i]}" "${names[$i]}" "${addrs[$i]}" "${addrs[$i]}" "${sizes[$i]}" "${bufs[$i]}"
	done
}

# compile_lanta DTB: config/lanta.dts as the kernel build does it (and
# src/devicetree/compile.ts): the board file includes the SoC .dtsi and the
# binding's header.
compile_lanta() {
	(cd "$repo/config" &&
		cpp -nostdinc -I include -undef -D__DTS__ -x assembler-with-cpp lanta.dts |
		dtc -q -I dts -O dtb -i . -i include -o "$1" -) ||
		die "compiling config/lanta.dts failed"
}

# ppc: kmod-scenarios as /init, the modules, the tools, what it expects.
build_initramfs_ppc() {
	local root=$build/initramfs lanta=$build/lanta.dtb node
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$build/bin/kmod-scenarios" "$root/init"
	cp "$build/bin/frame-xfer" "$build/bin/dev-hold" "$root/bin/"
	# virtio is a module there: only rpmsg selects it
	cp "$kdir"/drivers/virtio/virtio{,_ring}.ko \
		"$core"/{rpmsg_core,rpmsg_ns,virtio_rpmsg_bus,rpmsg_char,rpmsg_ctrl}.ko \
		"$build/rpmsg_eth/rpmsg_eth.ko" "$build/emu/rpmsg_vx_emu.ko" "$root/lib/modules/"
	compile_lanta "$lanta"
	node=$(fdtget -l "$lanta" /soc@ffe000000 | grep -x rpmsg >/dev/null && echo /soc@ffe000000/rpmsg) ||
		die "config/lanta.dts has no /soc@ffe000000/rpmsg node"
	expected_table "$lanta" "$node" >"$root/expected-table"
	# the DT's last channel in netdev mode with frag framing (build_dtb_ppc)
	read -ra dt_nums <<<"$(fdtget -t u "$lanta" "$node" channel-num)"
	kasan=$(grep -q '^CONFIG_KASAN=y' "$kdir/.config" && echo 1 || echo 0)
	cat >"$root/kmod-test.conf" <<-EOF
		rpmsg_eth=/lib/modules/rpmsg_eth.ko
		emu=/lib/modules/rpmsg_vx_emu.ko
		core=/lib/modules
		bin=/bin
		eth_params=
		expect_table=/expected-table
		kasan=$kasan
		dt_netdev=${dt_nums[-1]}:9000
	EOF
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$build/initramfs.cpio.gz"
}

# (log_buf_len: the scenarios read the whole kernel log, boot included.)

# dt_modes N: the netdev-mode properties for N channels: the last one a
# netdev with frag framing and MTU 9000, the others character devices.
dt_modes() {
	local i mode=() framing=() mtu=()
	for ((i = 0; i < $1; i++)); do
		mode+=('"cdev"') framing+=('"raw"') mtu+=(1500)
	done
	mode[-1]='"netdev"' framing[-1]='"frag"' mtu[-1]=9000
	local IFS=,
	printf '\teth-dev-mode = %s;\n\teth-dev-framing = %s;\n' "${mode[*]}" "${framing[*]}"
	IFS=' '
	printf '\teth-dev-frag-mtu = <%s>;\n' "${mtu[*]}"
}

# ppc: QEMU's own device tree for the machine, plus lanta.dts's rpmsg node
# (the board's channel table) at /rpmsg, with the netdev-mode properties
# of dt_modes. QEMU uses a -dtb as it is, so the dump is taken with the
# same kernel, initrd and command line.
build_dtb_ppc() {
	local dts=$build/guest.dts
	"${qemu_ppc[@]}" -machine dumpdtb="$build/qemu.dtb" >/dev/null 2>&1 || true
	[ -s "$build/qemu.dtb" ] || die "qemu-system-ppc did not dump its device tree"
	{
		dtc -q -I dtb -O dts "$build/qemu.dtb"
		echo "/ {"
		dtc -q -I dtb -O dts "$build/lanta.dtb" |
			awk '/^\t\trpmsg \{/ { on = 1 } on { sub(/^\t/, ""); print } on && /^\t\};/ { exit }'
		echo "};"
		echo "/ { rpmsg {"
		dt_modes "${#dt_nums[@]}"
		echo "}; };"
	} >"$dts"
	grep -q 'compatible = "fsl,nokia-rpmsg"' "$dts" || die "the rpmsg node did not make it into $dts"
	dtc -q -I dts -O dtb -o "$build/guest.dtb" "$dts" || die "compiling $dts failed"
}

# x86-64: the daemon as the guest installs it in its tmpfs (guest/scenarios/
# 50-daemon.sh): dist/, the addon and the production node_modules. Run
# from the 9p root, every start of the CLI took 40 s on a quiet machine
# and 190 s on a loaded one under the debug kernel (node resolves modules
# with many lookups, each a 9p round trip); from tmpfs a few seconds.
pack_daemon() {
	local deps
	[ -f "$repo/dist/daemon/cli.js" ] || return 0
	deps=$(cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null | sed "1d; s|^$repo/||") ||
		die "npm ls --omit=dev failed in $repo (run npm ci)"
	# shellcheck disable=SC2086 # one path per word
	tar -C "$repo" -cf "$build/daemon.tar" package.json binding.gyp dist \
		build/Release/rpmsg_eth_native.node $deps || die "packing the daemon for the guest failed"
	# and its device tree as a blob: cpp under the debug kernel in software
	# emulation can outlast the daemon's 10 s limit for a tool
	compile_lanta "$build/lanta.dtb"
}

write_guest_env() {
	{
		echo "KMOD_REPO='$repo'"
		echo "KMOD_KVER='$kver'"
		echo "KMOD_CORE_DIR='$core'"
		echo "KMOD_EMU='$build/emu/rpmsg_vx_emu.ko'"
		echo "KMOD_RPMSG_ETH='$build/rpmsg_eth/rpmsg_eth.ko'"
		echo "KMOD_BIN='$build/bin'"
		echo "KMOD_DAEMON_TAR='$build/daemon.tar'"
		echo "KMOD_LANTA_DTB='$build/lanta.dtb'"
		echo "KMOD_KASAN='$(grep -q '^CONFIG_KASAN=y' "$kdir/.config" 2>/dev/null && echo 1 || echo 0)'"
		echo "KMOD_SCENARIOS='$*'"
	} >"$build/guest.env"
}

run_qemu() {
	local rc=0 qemu
	step "booting $kver under QEMU (limit ${timeout_s}s); serial log: $log"
	: >"$log"
	timeout --kill-after=10 "$timeout_s" "$@" </dev/null >"$log" 2>&1 &
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

boot_x86() {
	run_qemu qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
		-nographic -no-reboot \
		-kernel "$image" -initrd "$build/initramfs.cpio.gz" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=5 log_buf_len=4M testenv=$build/guest.env testrun=$here/guest/run.sh testkeep=$keep" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
}

boot_ppc() {
	build_dtb_ppc
	run_qemu "${qemu_ppc[@]}" -dtb "$build/guest.dtb"
}

# The scenario results, and on failure the part of the log that matters.
verdict() {
	local results bad first
	results=$(tr -d '\r' <"$log" | grep -a '^kmod-test: RESULT' || true)
	bad=$(tr -d '\r' <"$log" | grep -a -n -E "$BAD_KERNEL" | head -n 20 || true)
	if grep -q '^kmod-test: RESULT PASS$' <<<"$results" && [ -z "$bad" ]; then
		step "$arch ($kernel kernel): PASS in $SECONDS s"
		return 0
	fi
	step "$arch ($kernel kernel): FAIL after $SECONDS s; serial log: $log"
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
	need gcc make cpio gzip timeout
	case $arch in
	x86_64) need qemu-system-x86_64 modprobe busybox ;;
	ppc) need qemu-system-ppc powerpc-linux-gnu-gcc dtc fdtget cpp ;;
	esac
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
	setup_kernel
	build_all
	case $arch in
	x86_64)
		build_initramfs_x86
		pack_daemon
		write_guest_env "$@"
		boot_x86 ;;
	ppc)
		[ $# -eq 0 ] || die "ppc runs every scenario (selection is for x86_64)"
		build_initramfs_ppc
		qemu_ppc=(qemu-system-ppc -M ppce500 -cpu e500mc -smp 2 -m 512 -nographic -no-reboot
			-kernel "$image" -initrd "$build/initramfs.cpio.gz"
			-append "console=ttyS0 rdinit=/init panic=-1 loglevel=5 log_buf_len=4M")
		boot_ppc ;;
	esac
	verdict
}

main "$@"
