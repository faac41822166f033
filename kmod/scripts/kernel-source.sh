# shellcheck shell=bash
# Helpers shared by build-rpmsg-core.sh and lint.sh (sourced, not run).
# They locate Debian's kernel image, headers and source packages and extract
# single folders from the source tarball, so no kernel source is committed.

die() {
	echo "error: $*" >&2
	exit 1
}

# The Debian kernel version (e.g. 6.1.0-56-amd64) the tests build against.
# Taken from the linux-image-amd64 metapackage, never from `uname -r`:
# the machine may run a different kernel than the one the tests boot.
debian_kver() {
	local dep
	if [ -n "${KVER:-}" ]; then
		echo "$KVER"
		return
	fi
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) ||
		die "package linux-image-amd64 is not installed (apt-get install linux-image-amd64 linux-headers-amd64 linux-source-6.1), or set KVER/KDIR"
	dep=$(printf '%s\n' "$dep" | tr ',' '\n' |
		sed -n 's/^ *linux-image-\([0-9][^ ]*\) .*/\1/p' | head -n1)
	dep=${dep%-unsigned}
	[ -n "$dep" ] || die "cannot read the kernel version from linux-image-amd64's dependencies"
	[ -e "/boot/vmlinuz-$dep" ] || die "/boot/vmlinuz-$dep is missing (reinstall linux-image-$dep)"
	echo "$dep"
}

# Debian package version of an installed package, or fail naming it.
pkg_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) || v=
	[ -n "$v" ] || die "package $1 is not installed (apt-get install $1)"
	echo "$v"
}

# linux-source-X.Y package and its tarball for a kernel version.
source_pkg() {
	local kver=$1
	echo "linux-source-$(echo "$kver" | cut -d. -f1,2)"
}

# extract_source KVER DEST PATH... : extract PATHs (relative to the kernel
# tree) from the linux-source tarball into DEST, once per source version.
# DEST/.source-version records what is there; a new version re-extracts.
extract_source() {
	local kver=$1 dest=$2 pkg ver tarball top
	shift 2
	pkg=$(source_pkg "$kver")
	ver=$(pkg_version "$pkg")
	tarball=/usr/src/$pkg.tar.xz
	[ -r "$tarball" ] || die "$tarball is missing (reinstall $pkg)"
	if [ -f "$dest/.source-version" ] &&
		[ "$(cat "$dest/.source-version")" = "$ver" ]; then
		return
	fi
	top=$pkg
	rm -rf "$dest"
	mkdir -p "$dest"
	echo "extracting $* from $tarball ($pkg $ver)" >&2
	tar -xJf "$tarball" -C "$dest" --strip-components=1 \
		"${@/#/$top/}" || die "extracting $* from $tarball failed"
	echo "$ver" >"$dest/.source-version"
}
