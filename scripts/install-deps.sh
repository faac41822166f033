#!/usr/bin/env bash
# Installs the Debian packages the tests and the benchmark use (as root). Only what is missing is
# installed; `apt-get update` runs only when something is.
#   scripts/install-deps.sh          packages for npm test, npm run bench and the commands
#   scripts/install-deps.sh kernel   plus what the kernel module's build, lint and QEMU tests need
set -euo pipefail

# Compilers (native binding, simulated peer, C framing), namespaces and links (iproute2, util-linux's
# unshare, mount), traffic (ping, tcpdump, iperf3), device trees (cpp and dtc, as the kernel build runs
# them), captures (tshark, and wireshark-common's capinfos and editcap), the terminal (bsdutils' script)
# and systemd-analyze.
packages=(build-essential python3 iproute2 iputils-ping tcpdump cpp device-tree-compiler iperf3 procps
  tshark wireshark-common util-linux mount bsdutils systemd)
if [[ "${1:-}" == kernel ]]; then
  # Debian's kernel and the rpmsg core out of tree; the debug test kernels (test/kmod/kernel/build.sh)
  # and lint against 6.12; the big-endian PowerPC guest (cross compiler, static libc, QEMU); the
  # 32-bit (compat ioctl) build of the guest's C tools; jq reads the daemon's JSON in the x86-64 guest
  # (a node start per read costs seconds there).
  packages+=(sparse kmod cpio xz-utils linux-image-amd64 linux-headers-amd64 linux-source-6.1
    qemu-system-x86 busybox-static flex bison bc libssl-dev libelf-dev linux-source-6.12
    gcc-powerpc-linux-gnu libc6-dev-powerpc-cross qemu-system-ppc libc6-dev-i386 lib32gcc-12-dev jq)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing ${missing[*]}; run this script as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
