#!/bin/busybox sh
# /init of the test initramfs (run by busybox): load the modules 9p needs,
# mount the host's root read-only over 9p, chroot into it and run the
# guest runner named by the kernel command line (testrun=, testenv=), then
# power off. Never returns: the VM ends here.
/bin/busybox --install -s /bin
export PATH=/bin

halt_vm() {
	echo "kmod-test: $*"
	sync
	# QEMU runs with -no-reboot: a reboot ends it (no ACPI needed)
	reboot -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
	insmod "/lib/modules/$m" || halt_vm "RESULT FAIL (insmod $m)"
done </modules.list

# cache=loose: the host tree does not change during the run, and the
# default (no cache) makes every exec and module load several times slower.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose \
	hostroot /host || halt_vm "RESULT FAIL (mount 9p)"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/shm /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t devpts devpts /host/dev/pts
# A checkout under /tmp (testkeep=, e.g. a CI clone) stays visible through the guest's own /tmp.
mkdir -p /keep
# shellcheck disable=SC2154 # testkeep comes from the kernel command line
[ "$testkeep" != none ] && mount -o bind "/host$testkeep" /keep
mount -t tmpfs tmpfs /host/tmp
[ "$testkeep" != none ] && mkdir -p "/host$testkeep" && mount -o bind /keep "/host$testkeep"
mount -t tmpfs tmpfs /host/run
mount -t debugfs debugfs /host/sys/kernel/debug 2>/dev/null

# shellcheck disable=SC2154 # testrun/testenv come from the kernel command line
chroot /host /bin/bash "$testrun" "$testenv"
halt_vm "runner exited with status $?"
