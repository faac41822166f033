/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rpmsg_vx_emu internals shared by its two transports: vx_emu.c (virtio
 * rings, as the board's platform driver; the module's core) and
 * vx_emu_irq.c (an rpmsg backend delivering messages in hard-IRQ context,
 * as a message interrupt does).
 */
#ifndef VX_EMU_H
#define VX_EMU_H

#include <linux/atomic.h>
#include <linux/netdevice.h>
#include <linux/platform_device.h>
#include <linux/skbuff.h>

#define EMU_NAME_SIZE		32	/* RPMSG_NAME_SIZE */
#define EMU_WORK_BUDGET		128	/* messages per run and direction */
#define EMU_TXQ_LEN		256	/* frames queued per vx<N> before stopping */
#define EMU_BUF_SIZE		512	/* upstream virtio rpmsg buffers */
#define EMU_HDR_SIZE		16	/* struct rpmsg_hdr */

struct emu_vdev;
struct emu_irq;
struct emu_frag;

/* One channel of the remote: its eth-dev endpoint is netdev vx<num>. */
struct emu_chan {
	struct emu_vdev *ev;	/* virtio transport */
	struct emu_irq *irq;	/* irq transport */
	unsigned int num;
	char name[EMU_NAME_SIZE];
	u32 eth_addr;		/* the remote's eth-dev endpoint */
	u32 linux_addr;		/* the Linux endpoint frames are sent to */
	u32 ns_addr;		/* the address announced for the channel */
	bool announced;
	struct net_device *ndev;
	struct emu_frag *frag;		/* framing=frag: the channel's state */
	struct sk_buff_head txq;	/* messages from vx<N> waiting for Linux */
	atomic64_t tx_packets, tx_bytes, tx_dropped, tx_oversize;
	atomic64_t rx_packets, rx_bytes, rx_dropped, rx_length_errors;
};

extern struct platform_device *emu_pdev;
extern unsigned int num_bufs;

/* the remote consumes nothing Linux sends while set (module parameter) */
bool emu_stalled(void);
/* a message from Linux to an eth-dev endpoint: a frame received on vx<N> */
void emu_deliver_frame(struct emu_chan *ch, const void *data,
		       unsigned int len);
/* a frame for vx<N>'s stack; NULL when dropped (counted) */
struct sk_buff *emu_frame_skb(struct emu_chan *ch, const void *data,
			      unsigned int len);
void emu_frame_up(struct emu_chan *ch, struct sk_buff *skb);
/* queue messages (emptied) for Linux, back to back */
void emu_queue_msgs(struct emu_chan *ch, struct sk_buff_head *msgs);

/* framing=frag (vx_emu_frag.c) */
int emu_frag_add(struct emu_chan *ch);
void emu_frag_free(struct emu_chan *ch);
void emu_frag_rx(struct emu_chan *ch, const void *data, unsigned int len);
bool emu_frag_msgs(struct emu_chan *ch, struct sk_buff *skb,
		   struct sk_buff_head *msgs);

int emu_irq_add(struct emu_chan *ch);
void emu_irq_remove(struct emu_chan *ch);
bool emu_irq_ready(struct emu_chan *ch);
void emu_irq_kick_rx(struct emu_chan *ch);
void emu_irq_kick_tx(struct emu_chan *ch);

#endif /* VX_EMU_H */
