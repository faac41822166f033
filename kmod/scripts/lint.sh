#!/bin/bash
# Lint the kernel code under kmod/ (including kmod/test/):
#  1. build every folder with a Kbuild file with W=1 and sparse (C=1)
#     against Debian's linux-headers (rpmsg core built out of tree);
#     any warning fails;
#  2. checkpatch.pl --strict (from Debian's linux-source package) on every
#     .c/.h file; any finding fails. LINUX_VERSION_CODE is the one accepted
#     finding, and only inside the compat headers;
#  3. W=1 + sparse compile against Debian's linux-source-6.12, configured
#     and prepared for external modules by test/kmod/kernel/build.sh.
#
# usage: kmod/scripts/lint.sh        (KDIR/KVER/JOBS as build-rpmsg-core.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kmod=$(cd "$here/.." && pwd)
repo=$(cd "$kmod/.." && pwd)
cache=$repo/.cache
# shellcheck source=kernel-source.sh
. "$here/kernel-source.sh"

for tool in sparse perl make gcc; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
kver=$(debian_kver)
export KDIR=${KDIR:-/lib/modules/$kver/build}

fail=0

# --- 1. W=1 C=1 build in a scratch copy, so every file is compiled -------
# (frag/rpmsg_frag.c, which the module and the emulator build in, with it)
out=$("$here/build-rpmsg-core.sh" "$cache/rpmsg-core" 2>&1) ||
	die "building the rpmsg core failed: $out"
mkdir -p "$cache/lint"
exec 9>"$cache/lint/.lock"
flock 9
# copy_sources DIR: kmod/'s sources (not the scripts) into a fresh DIR.
copy_sources() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$kmod" && find . -path ./scripts -prune -o -type f \
		\( -name '*.c' -o -name '*.h' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' -exec cp --parents {} "$1" \;)
}

# build_all LABEL KDIR SCRATCH MAKE-ARGS...: make every folder of SCRATCH
# that has a Kbuild with W=1 C=1 against KDIR; any warning fails. A
# MAKE-ARGS word "OBJECTS" stands for the folder's .o files (compile only).
build_all() {
	local label=$1 kdir=$2 scratch=$3 kbuild dir rel log args a
	shift 3
	while IFS= read -r kbuild; do
		dir=$(dirname "$kbuild")
		rel=${dir#"$scratch"}
		log=$cache/lint/build-${label%% *}${rel//\//_}.log
		args=()
		for a in "$@"; do
			if [ "$a" = OBJECTS ]; then
				mapfile -t -O "${#args[@]}" args < <(cd "$dir" && ls ./*.c | sed 's|^\./||; s|\.c$|.o|')
			else
				args+=("$a")
			fi
		done
		echo "== make W=1 C=1 against $label: kmod$rel"
		if ! make -C "$kdir" M="$dir" W=1 C=1 -j"${JOBS:-2}" "${args[@]}" >"$log" 2>&1; then
			cat "$log"
			echo "FAIL: building kmod$rel against $label failed" >&2
			fail=1
			continue
		fi
		if grep -iE '(warning|error|note):' "$log"; then
			echo "FAIL: warnings building kmod$rel against $label (log: $log)" >&2
			fail=1
		fi
	done < <(find "$scratch" -name Kbuild | sort)
}

copy_sources "$cache/lint/kmod"
build_all "$kver" "$KDIR" "$cache/lint/kmod" modules \
	KBUILD_EXTRA_SYMBOLS="$cache/rpmsg-core/Module.symvers" \
	RPMSG_ETH_CFLAGS="$("$here/build-rpmsg-core.sh" --cflags)" \
	RPMSG_SRC_DIR="$cache/rpmsg-core" RPMSG_FRAG_DIR="$repo/frag"

# The user-space API header must compile on its own in user space.
echo "== user-space compile of rpmsg_eth_api.h"
if ! printf '#include "rpmsg_eth_api.h"\nint main(void) { return RPMSG_ETH_IOC_INFO != 0; }\n' |
	gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$kmod" -x c - -o /dev/null; then
	echo "FAIL: kmod/rpmsg_eth_api.h does not compile in user space" >&2
	fail=1
fi

# --- 2. checkpatch --------------------------------------------------------
scripts=$cache/linux-scripts
extract_source "$kver" "$scripts" scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch
mapfile -t files < <(cd "$repo" && find kmod -path kmod/scripts -prune -o \
	-type f \( -name '*.c' -o -name '*.h' \) ! -name '*.mod.c' -print | sort)
echo "== checkpatch --strict: ${#files[@]} files"
for f in "${files[@]}"; do
	if ! out=$(cd "$repo" && perl "$scripts/scripts/checkpatch.pl" --strict \
		--no-tree --ignore LINUX_VERSION_CODE --quiet --no-summary \
		--show-types -f "$f" 2>&1) || [ -n "$out" ]; then
		printf '%s\n' "$out"
		echo "FAIL: checkpatch findings in $f" >&2
		fail=1
	fi
done

# LINUX_VERSION_CODE belongs in the compatibility headers only.
if stray=$(cd "$repo" && grep -ln LINUX_VERSION_CODE "${files[@]}" |
	grep -vx -e kmod/rpmsg_eth_compat.h -e kmod/test/vx_emu_compat.h); then
	echo "FAIL: LINUX_VERSION_CODE outside the compat headers: $stray" >&2
	fail=1
fi

# --- 3. a second kernel version: Debian's linux-source-6.12 -----------------
# Configured as the x86-64 test kernel and prepared for external modules
# (modules_prepare, cached like the test kernels). Such a tree has no
# Module.symvers, so the objects are compiled (W=1, sparse) but not linked.
kdir612=$(KERNEL_SOURCE=linux-source-6.12 "$repo/test/kmod/kernel/build.sh" x86_64 --prepare |
	tail -n1) || die "preparing linux-source-6.12 failed"
ver612=$(make -s -C "$kdir612" kernelversion 2>/dev/null)
copy_sources "$cache/lint/kmod-6.12"
build_all "$ver612 (compile only)" "$kdir612" "$cache/lint/kmod-6.12" \
	RPMSG_SRC_DIR="$kdir612/source/drivers/rpmsg" RPMSG_FRAG_DIR="$repo/frag" OBJECTS

if [ "$fail" = 0 ]; then
	echo "lint: OK (W=1 C=1 against $KDIR and $ver612, checkpatch --strict)"
fi
exit "$fail"
