#!/bin/bash
# Build (once per machine) a debug kernel for the QEMU tests from Debian's
# linux-source package: allnoconfig + the fragments in this folder, with
# KASAN, lockdep, DEBUG_ATOMIC_SLEEP and kmemleak.
#
# usage: test/kmod/kernel/build.sh ARCH            ARCH: ppc | x86_64
#        test/kmod/kernel/build.sh ARCH --dir      only print where it would be
#        test/kmod/kernel/build.sh ARCH --prepare  configure and prepare for
#                        external modules only (what lint.sh compiles against)
# Prints the build directory (an O= tree: the image, the in-tree rpmsg
# modules under drivers/rpmsg/, and what external modules build against).
# environment:
#   KERNEL_CACHE   where builds are kept (default /var/cache/rpmsg-eth/kernels)
#   KERNEL_SOURCE  Debian source package (default linux-source-6.1)
#   JOBS           make -j (default 2)
#
# A build is keyed by architecture, source package version and a hash of
# the configuration inputs (fragments, compiler, this recipe), so each is
# built once and a Debian update or a changed fragment builds a new one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../kmod/scripts/kernel-source.sh
. "$here/../../../kmod/scripts/kernel-source.sh"

# Bump when the recipe below changes in a way the inputs do not show.
RECIPE=1
cache=${KERNEL_CACHE:-/var/cache/rpmsg-eth/kernels}
srcpkg=${KERNEL_SOURCE:-linux-source-6.1}
jobs=${JOBS:-2}

arch=${1:-}
mode=${2:-build}
case $arch in
ppc)
	cross=powerpc-linux-gnu-
	make_args=(ARCH=powerpc CROSS_COMPILE=$cross)
	fragments=("$here/common.config" "$here/ppc.config")
	image=vmlinux ;;
x86_64)
	cross=
	make_args=(ARCH=x86_64)
	fragments=(kernel/configs/kvm_guest.config "$here/common.config" "$here/x86_64.config")
	image=bzImage ;;
*)
	die "usage: $0 ppc|x86_64 [--dir]" ;;
esac
gcc=${cross}gcc
command -v "$gcc" >/dev/null || die "$gcc is not installed (scripts/install-deps.sh kernel)"
for tool in make flex bison bc perl xz tar sha256sum flock; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh kernel)"
done

ver=$(pkg_version "$srcpkg")
src=$cache/src/$srcpkg-$ver
key=$( {
	echo "recipe $RECIPE $arch $image ${make_args[*]}"
	"$gcc" --version | head -n1
	for f in "${fragments[@]}"; do
		case $f in /*) cat "$f" ;; *) echo "$f" ;; esac
	done
} | sha256sum | cut -c1-12)
out=$cache/$arch-$ver-$key
if [ "$mode" = --prepare ]; then
	out=$cache/$arch-$ver-prepared-$key
fi

if [ "$mode" = --dir ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache/src"
# One extraction per source version, shared by every configuration.
(
	flock 9
	if [ ! -f "$src/.complete" ]; then
		rm -rf "$src"
		mkdir -p "$src"
		echo "kernel: extracting /usr/src/$srcpkg.tar.xz ($ver)" >&2
		tar -xJf "/usr/src/$srcpkg.tar.xz" -C "$src" --strip-components=1 ||
			die "extracting /usr/src/$srcpkg.tar.xz failed"
		touch "$src/.complete"
	fi
) 9>"$cache/src/.lock"

mkdir -p "$out"
exec 9>"$out.lock"
flock 9
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

kmake() { make -C "$src" O="$out" "${make_args[@]}" "$@"; }

SECONDS=0
echo "kernel: configuring $arch ($srcpkg $ver) in $out" >&2
: >"$out/fragment.config"
for f in "${fragments[@]}"; do
	case $f in /*) cat "$f" ;; *) cat "$src/$f" ;; esac >>"$out/fragment.config"
done
kmake KCONFIG_ALLCONFIG="$out/fragment.config" allnoconfig >"$out/config.log" 2>&1 ||
	{ cat "$out/config.log" >&2; die "allnoconfig failed"; }
kmake olddefconfig >>"$out/config.log" 2>&1 || { cat "$out/config.log" >&2; die "olddefconfig failed"; }
# Every line of our fragments must have survived (a dependency missing on
# this architecture drops an option silently otherwise). The kernel's own
# kvm_guest.config names options of other architectures: not checked.
missing=$(for f in "${fragments[@]}"; do case $f in /*) cat "$f" ;; esac; done |
	grep -E '^(CONFIG_|# CONFIG_.* is not set)' | sort -u |
	grep -vxF -f "$out/.config" || true)
[ -z "$missing" ] || die "options the $arch kernel does not take (fix the fragment):
$missing"

targets=("$image" modules)
if [ "$mode" = --prepare ]; then
	targets=(modules_prepare)
fi
echo "kernel: making ${targets[*]} for $arch with -j$jobs (log: $out/build.log)" >&2
if ! kmake -j"$jobs" "${targets[@]}" >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	die "building the $arch kernel failed (log: $out/build.log)"
fi
echo "kernel: $arch built in $SECONDS s" >&2
echo "$SECONDS" >"$out/.build-seconds"
touch "$out/.complete"
echo "$out"
