/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences rpmsg_eth meets between Linux 4.9 and 6.x (and
 * the pre-4.9 rpmsg_channel API). The only place LINUX_VERSION_CODE is used
 * (RPMSG_ETH_BEFORE); the rpmsg_eth_*.c files are written against the current
 * API and call the helpers below where it differs.
 *
 * Breaks listed in DESIGN.md and what they mean here:
 *  4.9  struct rpmsg_channel became struct rpmsg_device, the receive
 *       callback returns int, endpoints take a struct rpmsg_channel_info
 *       and can send from their own address (rpmsg_trysendto on the ept).
 *  4.12 vring_new_virtqueue() gained a ctx argument: it only concerns the
 *       board's virtio transport (rpmsg_platform_driver.c), not an rpmsg
 *       driver such as this one; nothing to do here.
 *  5.18 rpmsg_ctrl was split out of rpmsg_char: it changes how user space
 *       reaches stock endpoints (/dev/rpmsg_ctrlN), not the in-kernel API
 *       this module uses; nothing to do here.
 * Others this module meets: rpmsg driver_override (4.11, needed for
 * match_names=0), rpmsg_poll() (4.14), __poll_t (4.16), stream_open()
 * (5.3), sysfs_emit() (5.10), rpmsg_get_mtu() (5.16), class_create()
 * without the owner (6.4). The module needs neither cdev_set_parent()
 * (4.11) nor compat_ptr_ioctl() (5.4): its one character device lives as
 * long as the module, and its compat_ioctl is its own.
 * Netdev mode (rpmsg_eth_netdev.c) is written for 4.11 and later (void
 * ndo_get_stats64, net_device.max_mtu, get_random_u32()); it meets
 * netif_rx() serving every context (5.18).
 */
#ifndef RPMSG_ETH_COMPAT_H
#define RPMSG_ETH_COMPAT_H

#include <linux/version.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/eventpoll.h>
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/rpmsg.h>

/*
 * Without CONFIG_RPMSG linux/rpmsg.h declares inline stubs and the module
 * would build, then fail at load time with ENXIO. Against a kernel without
 * rpmsg, build with RPMSG_CORE=... (see README.md).
 */
#if !IS_ENABLED(CONFIG_RPMSG)
#error "CONFIG_RPMSG is not set: build with make RPMSG_CORE=<rpmsg core dir> or make stock"
#endif

/* True when building for a kernel older than a.b.c. */
#define RPMSG_ETH_BEFORE(a, b, c) (KERNEL_VERSION(a, b, c) > LINUX_VERSION_CODE)

#if RPMSG_ETH_BEFORE(4, 9, 0)
#define rpmsg_device rpmsg_channel
#endif

#ifdef RPMSG_ETH_LINK
/* rpmsg_eth_link.c's receive handler, whatever the callback signature. */
static int rpmsg_eth_rx(void *priv, void *data, int len, u32 src);

#if RPMSG_ETH_BEFORE(4, 9, 0)
static void rpmsg_eth_rx_cb(struct rpmsg_channel *rpdev, void *data, int len,
			    void *priv, u32 src)
{
	rpmsg_eth_rx(priv, data, len, src);
}
#else
static int rpmsg_eth_rx_cb(struct rpmsg_device *rpdev, void *data, int len,
			   void *priv, u32 src)
{
	return rpmsg_eth_rx(priv, data, len, src);
}
#endif

/* An endpoint at address @src delivering to rpmsg_eth_rx(@priv, ...). */
static inline struct rpmsg_endpoint *
rpmsg_eth_create_ept(struct rpmsg_device *rpdev, void *priv,
		     const char *name, u32 src)
{
#if RPMSG_ETH_BEFORE(4, 9, 0)
	return rpmsg_create_ept(rpdev, rpmsg_eth_rx_cb, priv, src);
#else
	struct rpmsg_channel_info chinfo = {
		.src = src,
		.dst = RPMSG_ADDR_ANY,
	};

	strscpy(chinfo.name, name, sizeof(chinfo.name));
	return rpmsg_create_ept(rpdev, rpmsg_eth_rx_cb, priv, chinfo);
#endif
}
#endif /* RPMSG_ETH_LINK */

/* Send without waiting for a buffer: -ENOMEM when the ring is full. */
static inline int rpmsg_eth_trysendto(struct rpmsg_device *rpdev,
				      struct rpmsg_endpoint *ept,
				      void *data, int len, u32 dst)
{
#if RPMSG_ETH_BEFORE(4, 9, 0)
	return rpmsg_trysend_offchannel(rpdev, ept->addr, dst, data, len);
#else
	return rpmsg_trysendto(ept, data, len, dst);
#endif
}

/*
 * The bus's poll on @ept (rpmsg_poll(), 4.14): queues @pt on the bus's
 * waitqueues where the bus has a poll operation, nothing where it has not.
 */
static inline void rpmsg_eth_bus_poll(struct rpmsg_endpoint *ept,
				      poll_table *pt)
{
#if !RPMSG_ETH_BEFORE(4, 14, 0)
	rpmsg_poll(ept, NULL, pt);
#endif
}

/* Largest payload of one message, or 0 when the kernel cannot tell. */
static inline size_t rpmsg_eth_get_mtu(struct rpmsg_endpoint *ept)
{
#if !RPMSG_ETH_BEFORE(5, 16, 0)
	ssize_t mtu = rpmsg_get_mtu(ept);

	return mtu > 0 ? mtu : 0;
#else
	return 0;
#endif
}

/* Hand a received frame to the stack from any context. */
static inline int rpmsg_eth_netif_rx(struct sk_buff *skb)
{
#if RPMSG_ETH_BEFORE(5, 18, 0)
	return in_interrupt() ? netif_rx(skb) : netif_rx_ni(skb);
#else
	return netif_rx(skb);
#endif
}

#if RPMSG_ETH_BEFORE(4, 16, 0)
/* file_operations.poll returned unsigned int */
#define __poll_t unsigned int
#endif

#if RPMSG_ETH_BEFORE(5, 3, 0)
#define stream_open(inode, filp) nonseekable_open(inode, filp)
#endif

#if RPMSG_ETH_BEFORE(5, 10, 0)
#define sysfs_emit(buf, ...) scnprintf(buf, PAGE_SIZE, __VA_ARGS__)
static inline __printf(3, 4)
int sysfs_emit_at(char *buf, int at, const char *fmt, ...)
{
	va_list args;
	int len;

	va_start(args, fmt);
	len = vscnprintf(buf + at, PAGE_SIZE - at, fmt, args);
	va_end(args);
	return len;
}
#endif

#if RPMSG_ETH_BEFORE(6, 4, 0)
#define rpmsg_eth_class_create(name) class_create(THIS_MODULE, name)
#else
#define rpmsg_eth_class_create(name) class_create(name)
#endif

#endif /* RPMSG_ETH_COMPAT_H */
