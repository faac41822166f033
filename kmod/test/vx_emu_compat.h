/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel API differences the emulator meets (the only file of kmod/test
 * using LINUX_VERSION_CODE, as rpmsg_eth_compat.h is for the module).
 */
#ifndef VX_EMU_COMPAT_H
#define VX_EMU_COMPAT_H

#include <linux/version.h>

/* 6.11: virtio_config_ops.find_vqs takes struct virtqueue_info[] */
#define VX_EMU_VQS_INFO (KERNEL_VERSION(6, 11, 0) <= LINUX_VERSION_CODE)

#endif /* VX_EMU_COMPAT_H */
