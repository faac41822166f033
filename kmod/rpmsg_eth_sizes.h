/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frame size limits of rpmsg_eth. Free of kernel headers (it needs only a
 * u32 type) so that kmod/test/unit/ checks it in user space.
 */
#ifndef RPMSG_ETH_SIZES_H
#define RPMSG_ETH_SIZES_H

#define RPMSG_ETH_HDR_SIZE	16	/* struct rpmsg_hdr */
/* struct rpmsg_hdr.len is 16 bits: no message carries more */
#define RPMSG_ETH_MAX_PAYLOAD	0xffffU
/* a buffer size outside this range is a configuration error */
#define RPMSG_ETH_MIN_BUF_SIZE	(RPMSG_ETH_HDR_SIZE + 1)
#define RPMSG_ETH_MAX_BUF_SIZE	(RPMSG_ETH_HDR_SIZE + RPMSG_ETH_MAX_PAYLOAD)

/*
 * The largest frame a channel carries: what the bus reports (@bus_mtu, 0
 * when it cannot tell) bounds what the configured buffer size (@buf_size,
 * from the device tree or the buf_size parameter) allows, and neither may
 * exceed what a message header can describe. 0 means no frame fits.
 */
static inline u32 rpmsg_eth_max_payload(u32 bus_mtu, u32 buf_size)
{
	u32 payload = 0;

	if (buf_size > RPMSG_ETH_HDR_SIZE)
		payload = buf_size - RPMSG_ETH_HDR_SIZE;
	if (bus_mtu && (!payload || bus_mtu < payload))
		payload = bus_mtu;
	return payload < RPMSG_ETH_MAX_PAYLOAD ? payload : RPMSG_ETH_MAX_PAYLOAD;
}

#endif /* RPMSG_ETH_SIZES_H */
