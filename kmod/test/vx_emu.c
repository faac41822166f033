// SPDX-License-Identifier: GPL-2.0-only
/*
 * rpmsg_vx_emu - test-only emulator of the remote (VxWorks) core of an AMP
 * board, for running the rpmsg stack and rpmsg_eth in a VM.
 *
 * It registers virtio devices of type VIRTIO_ID_RPMSG, like the board's
 * platform driver does, but with vrings in kernel memory it allocates, and
 * plays the device (remote) side of the rings itself:
 *  - it consumes the messages Linux puts on the TX ring,
 *  - it fills the buffers Linux posts on the RX ring,
 *  - it raises the ring callbacks from work items, never from inside a
 *    notify call (virtio_rpmsg_bus takes mutexes in its callbacks).
 * Each direction has its own work item, like a remote core that keeps
 * consuming while Linux's receive callback blocks in a send.
 * Each configured channel is announced through the name service, and its
 * eth-dev endpoint is terminated in a network device vx<N>: frames vx<N>
 * transmits become messages to Linux, messages Linux sends to the endpoint
 * become frames received on vx<N>.
 *
 * Unloading the module is the remote core going away; loading it again is
 * the remote core coming back. Writing 1 to its stall parameter is a remote
 * that stops taking messages without going away.
 *
 * transport=irq replaces the virtio rings with an rpmsg backend that
 * delivers in hard-IRQ context (vx_emu_irq.c). framing=frag makes the
 * remote speak the frag framing (vx_emu_frag.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "rpmsg_frag.h"
#include "vx_emu.h"
#include "vx_emu_compat.h"

/*
 * Wire format of virtio rpmsg (drivers/rpmsg/virtio_rpmsg_bus.c keeps these
 * private). Without VIRTIO_F_VERSION_1 the fields are in guest byte order,
 * which the virtio accessors handle.
 */
#define EMU_RPMSG_F_NS		0	/* VIRTIO_RPMSG_F_NS */
#define EMU_NS_ADDR		53	/* RPMSG_NS_ADDR */
#define EMU_NS_CREATE		0	/* RPMSG_NS_CREATE */

struct emu_rpmsg_hdr {
	__virtio32 src;
	__virtio32 dst;
	__virtio32 reserved;
	__virtio16 len;
	__virtio16 flags;
	u8 data[];
} __packed;

struct emu_ns_msg {
	char name[EMU_NAME_SIZE];
	__virtio32 addr;
	__virtio32 flags;
} __packed;

#define EMU_VRING_ALIGN		4096	/* as the board's platform driver */
#define EMU_MAX_CHANNELS	32
#define EMU_MAX_MTU		(8192 - 16 - ETH_HLEN) /* largest board buffer */

static char *channels = "nokia-fsproxy-channel:0x10,nokia-eqpthwa-channel:0x20";
module_param(channels, charp, 0444);
MODULE_PARM_DESC(channels,
		 "comma-separated name:eth_addr[:linux_addr[:ns_addr]]; vx<N> is the N-th entry");

static bool shared_vdev;
module_param(shared_vdev, bool, 0444);
MODULE_PARM_DESC(shared_vdev,
		 "one virtio device for all channels (default: one per channel, as on the board)");

unsigned int num_bufs = 512;
module_param(num_bufs, uint, 0444);
MODULE_PARM_DESC(num_bufs, "buffers per virtio device, split RX/TX (power of 2, 4..1024)");

static char *transport = "virtio";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport,
		 "virtio: vrings as the board's platform driver (default); irq: an rpmsg backend delivering in hard-IRQ context");

static char *framing = "raw";
module_param(framing, charp, 0444);
MODULE_PARM_DESC(framing,
		 "raw: one message per frame (default); frag: the remote speaks frag framing (frag/wire-spec.md), vx<N> MTU up to 9000");

static bool emu_irq_mode;
static bool emu_frag_mode;
static bool stall;

bool emu_stalled(void)
{
	return READ_ONCE(stall);
}

static void emu_kick_tx_all(void);

/* Writing 0 lets the remote take what queued up meanwhile. */
static int emu_set_stall(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (!ret && !emu_stalled())
		emu_kick_tx_all();
	return ret;
}

static const struct kernel_param_ops emu_stall_ops = {
	.set = emu_set_stall,
	.get = param_get_bool,
};

module_param_cb(stall, &emu_stall_ops, &stall, 0644);
MODULE_PARM_DESC(stall, "1: the remote stops taking the messages Linux sends (the ring fills), 0: it takes them again");

/* The device side of one vring: the driver side is Linux's struct virtqueue. */
struct emu_vq {
	struct virtqueue *vq;
	void *pages;
	size_t size;
	struct vring vr;
	u16 last_avail;
	u16 used_idx;
};

enum { EMU_VQ_RX, EMU_VQ_TX, EMU_NR_VQS };	/* Linux's view: vq0 rx, vq1 tx */

struct emu_vdev;

struct emu_vdev {
	struct virtio_device vdev;
	struct emu_vq vqs[EMU_NR_VQS];
	struct work_struct tx_work;	/* consumes Linux's TX ring */
	struct work_struct rx_work;	/* fills Linux's RX ring */
	bool ready;		/* DRIVER_OK seen and not reset since */
	u8 status;
	struct emu_chan *chans[EMU_MAX_CHANNELS];
	unsigned int nr_chans;
	unsigned int rr;	/* round-robin start among chans */
	atomic64_t unrouted;	/* messages to no eth-dev endpoint */
	bool registered;
	struct completion released;
};

struct emu_netpriv {
	struct emu_chan *ch;
};

struct platform_device *emu_pdev;
static struct emu_chan *emu_chans[EMU_MAX_CHANNELS];
static unsigned int emu_nr_chans;
static struct emu_vdev *emu_vdevs[EMU_MAX_CHANNELS];
static unsigned int emu_nr_vdevs;

static struct emu_vdev *to_emu_vdev(struct virtio_device *vdev)
{
	return container_of(vdev, struct emu_vdev, vdev);
}

/* ---- device side of the split vrings ---- */

/*
 * Peek at the next buffer Linux made available; rpmsg posts one descriptor
 * per buffer (no chains, no indirect tables). Returns its address or NULL.
 */
static void *emu_vq_peek(struct emu_vdev *ev, struct emu_vq *q, u16 *head,
			 u32 *len, bool writable)
{
	struct virtio_device *vdev = &ev->vdev;
	unsigned int num = q->vr.num;
	struct vring_desc *desc;
	u16 avail, flags;
	u64 addr;

	avail = virtio16_to_cpu(vdev, READ_ONCE(q->vr.avail->idx));
	if (avail == q->last_avail)
		return NULL;
	/* read the ring entry only after seeing the index that covers it */
	virt_rmb();
	*head = virtio16_to_cpu(vdev, q->vr.avail->ring[q->last_avail % num]);
	if (*head >= num)
		goto broken;
	desc = &q->vr.desc[*head];
	addr = virtio64_to_cpu(vdev, desc->addr);
	*len = virtio32_to_cpu(vdev, desc->len);
	flags = virtio16_to_cpu(vdev, desc->flags);
	if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT))
		goto broken;
	if (!!(flags & VRING_DESC_F_WRITE) != writable)
		goto broken;
	if (*len < sizeof(struct emu_rpmsg_hdr) || !pfn_valid(PHYS_PFN(addr)))
		goto broken;
	return phys_to_virt(addr);

broken:
	dev_err_ratelimited(&emu_pdev->dev, "%s: bad descriptor on vq%u, stopping\n",
			    dev_name(&vdev->dev), q->vq->index);
	WRITE_ONCE(ev->ready, false);
	return NULL;
}

/* Return a buffer to Linux through the used ring. */
static void emu_vq_push(struct emu_vdev *ev, struct emu_vq *q, u16 head,
			u32 len)
{
	struct virtio_device *vdev = &ev->vdev;
	struct vring_used_elem *e = &q->vr.used->ring[q->used_idx % q->vr.num];

	q->last_avail++;
	e->id = cpu_to_virtio32(vdev, head);
	e->len = cpu_to_virtio32(vdev, len);
	/* the element must be visible before the index that publishes it */
	virt_wmb();
	q->used_idx++;
	WRITE_ONCE(q->vr.used->idx, cpu_to_virtio16(vdev, q->used_idx));
}

/* Raise the ring's callback unless Linux asked not to be interrupted. */
static void emu_vq_interrupt(struct emu_vdev *ev, struct emu_vq *q)
{
	u16 flags;

	/* order the used index store before reading Linux's flags */
	virt_mb();
	flags = virtio16_to_cpu(&ev->vdev, READ_ONCE(q->vr.avail->flags));
	if (!(flags & VRING_AVAIL_F_NO_INTERRUPT))
		vring_interrupt(0, q->vq);
}

/* Fill one RX buffer with a message from the remote; false if none free. */
static bool emu_send(struct emu_vdev *ev, u32 src, u32 dst, const void *data,
		     unsigned int len, bool *oversize)
{
	struct virtio_device *vdev = &ev->vdev;
	struct emu_vq *q = &ev->vqs[EMU_VQ_RX];
	struct emu_rpmsg_hdr *hdr;
	u32 buf_len;
	u16 head;

	*oversize = false;
	hdr = emu_vq_peek(ev, q, &head, &buf_len, true);
	if (!hdr)
		return false;
	if (len > buf_len - sizeof(*hdr)) {
		*oversize = true;	/* the buffer stays available */
		return true;
	}
	hdr->src = cpu_to_virtio32(vdev, src);
	hdr->dst = cpu_to_virtio32(vdev, dst);
	hdr->reserved = 0;
	hdr->len = cpu_to_virtio16(vdev, len);
	hdr->flags = 0;
	memcpy(hdr->data, data, len);
	emu_vq_push(ev, q, head, sizeof(*hdr) + len);
	return true;
}

/* ---- the remote's endpoints ---- */

static struct emu_chan *emu_chan_by_eth(struct emu_vdev *ev, u32 addr)
{
	unsigned int i;

	for (i = 0; i < ev->nr_chans; i++)
		if (ev->chans[i]->eth_addr == addr)
			return ev->chans[i];
	return NULL;
}

/* A frame for vx<N>'s stack, or NULL when it is dropped (counted). */
struct sk_buff *emu_frame_skb(struct emu_chan *ch, const void *data,
			      unsigned int len)
{
	struct net_device *ndev = ch->ndev;
	struct sk_buff *skb;

	if (len < ETH_HLEN) {
		atomic64_inc(&ch->rx_length_errors);
		return NULL;
	}
	if (!netif_running(ndev)) {
		atomic64_inc(&ch->rx_dropped);
		return NULL;
	}
	skb = netdev_alloc_skb_ip_align(ndev, len);
	if (!skb) {
		atomic64_inc(&ch->rx_dropped);
		return NULL;
	}
	skb_put_data(skb, data, len);
	skb->protocol = eth_type_trans(skb, ndev);
	return skb;
}

/* Hand @skb to vx<N>'s stack (not with interrupts disabled). */
void emu_frame_up(struct emu_chan *ch, struct sk_buff *skb)
{
	atomic64_inc(&ch->rx_packets);
	atomic64_add(skb->len + ETH_HLEN, &ch->rx_bytes);
	if (netif_rx(skb) != NET_RX_SUCCESS)
		atomic64_inc(&ch->rx_dropped);
}

/* A message from Linux to an eth-dev endpoint: a frame received on vx<N>. */
void emu_deliver_frame(struct emu_chan *ch, const void *data,
		       unsigned int len)
{
	struct sk_buff *skb;

	if (ch->frag) {
		emu_frag_rx(ch, data, len);
		return;
	}
	skb = emu_frame_skb(ch, data, len);
	if (skb)
		emu_frame_up(ch, skb);
}

/* Queue messages for Linux, back to back, and kick the sending side. */
void emu_queue_msgs(struct emu_chan *ch, struct sk_buff_head *msgs)
{
	unsigned long flags;

	spin_lock_irqsave(&ch->txq.lock, flags);
	skb_queue_splice_tail_init(msgs, &ch->txq);
	spin_unlock_irqrestore(&ch->txq.lock, flags);
	if (emu_irq_mode)
		emu_irq_kick_rx(ch);
	else
		schedule_work(&ch->ev->rx_work);
}

/* Consume what Linux sent; returns true if the budget ran out. */
static bool emu_process_tx(struct emu_vdev *ev)
{
	struct virtio_device *vdev = &ev->vdev;
	struct emu_vq *q = &ev->vqs[EMU_VQ_TX];
	struct emu_rpmsg_hdr *hdr;
	struct emu_chan *ch;
	unsigned int n = 0;
	u32 buf_len, len;
	u16 head;

	while (!emu_stalled() && n < EMU_WORK_BUDGET &&
	       (hdr = emu_vq_peek(ev, q, &head, &buf_len, false))) {
		len = virtio16_to_cpu(vdev, hdr->len);
		ch = emu_chan_by_eth(ev, virtio32_to_cpu(vdev, hdr->dst));
		if (len > buf_len - sizeof(*hdr)) {
			dev_warn_ratelimited(&emu_pdev->dev, "%s: message length %u > buffer %u\n",
					     dev_name(&vdev->dev), len, buf_len);
			atomic64_inc(&ev->unrouted);
		} else if (ch) {
			emu_deliver_frame(ch, hdr->data, len);
		} else {
			atomic64_inc(&ev->unrouted);
		}
		emu_vq_push(ev, q, head, 0);
		n++;
	}
	if (n)
		emu_vq_interrupt(ev, q);
	return n == EMU_WORK_BUDGET;
}

/* Announce the channels not yet announced; false while no RX buffer. */
static bool emu_announce(struct emu_vdev *ev, bool *sent)
{
	struct virtio_device *vdev = &ev->vdev;
	struct emu_ns_msg msg;
	struct emu_chan *ch;
	bool oversize;
	unsigned int i;

	for (i = 0; i < ev->nr_chans; i++) {
		ch = ev->chans[i];
		if (ch->announced)
			continue;
		memset(&msg, 0, sizeof(msg));
		strscpy(msg.name, ch->name, sizeof(msg.name));
		msg.addr = cpu_to_virtio32(vdev, ch->ns_addr);
		msg.flags = cpu_to_virtio32(vdev, EMU_NS_CREATE);
		if (!emu_send(ev, ch->ns_addr, EMU_NS_ADDR, &msg, sizeof(msg),
			      &oversize) || oversize)
			return false;
		WRITE_ONCE(ch->announced, true);
		*sent = true;
		netif_carrier_on(ch->ndev);
		dev_info(&emu_pdev->dev, "%s: announced %s (eth 0x%x) as vx%u\n",
			 dev_name(&vdev->dev), ch->name, ch->eth_addr, ch->num);
	}
	return true;
}

/* Move frames vx<N> transmitted into RX buffers; true if more remain. */
static bool emu_process_rx(struct emu_vdev *ev, bool *sent)
{
	unsigned int n = 0, idle = 0, i;
	struct emu_chan *ch;
	struct sk_buff *skb;
	bool oversize;

	while (n < EMU_WORK_BUDGET && idle < ev->nr_chans) {
		i = ev->rr++ % ev->nr_chans;
		ch = ev->chans[i];
		skb = skb_peek(&ch->txq);
		if (!skb || !ch->announced) {
			idle++;
			continue;
		}
		idle = 0;
		if (!emu_send(ev, ch->eth_addr, ch->linux_addr, skb->data,
			      skb->len, &oversize))
			break;		/* no RX buffer: wait for Linux's kick */
		skb_unlink(skb, &ch->txq);
		if (oversize) {
			atomic64_inc(&ch->tx_oversize);
			atomic64_inc(&ch->tx_dropped);
		} else {
			atomic64_inc(&ch->tx_packets);
			atomic64_add(skb->len, &ch->tx_bytes);
			*sent = true;
			n++;
		}
		dev_consume_skb_any(skb);
		if (netif_queue_stopped(ch->ndev) &&
		    skb_queue_len(&ch->txq) < EMU_TXQ_LEN / 2)
			netif_wake_queue(ch->ndev);
	}
	return n == EMU_WORK_BUDGET;
}

static void emu_tx_work(struct work_struct *work)
{
	struct emu_vdev *ev = container_of(work, struct emu_vdev, tx_work);

	if (READ_ONCE(ev->ready) && emu_process_tx(ev) && READ_ONCE(ev->ready))
		schedule_work(&ev->tx_work);
}

static void emu_rx_work(struct work_struct *work)
{
	struct emu_vdev *ev = container_of(work, struct emu_vdev, rx_work);
	bool more = false, sent = false;

	if (!READ_ONCE(ev->ready))
		return;
	if (emu_announce(ev, &sent))
		more = emu_process_rx(ev, &sent);
	if (sent)
		emu_vq_interrupt(ev, &ev->vqs[EMU_VQ_RX]);
	if (more && READ_ONCE(ev->ready))
		schedule_work(&ev->rx_work);
}

static void emu_cancel_works(struct emu_vdev *ev)
{
	cancel_work_sync(&ev->tx_work);
	cancel_work_sync(&ev->rx_work);
}

/* ---- virtio transport (what the board's platform driver provides) ---- */

static bool emu_notify(struct virtqueue *vq)
{
	struct emu_vdev *ev = to_emu_vdev(vq->vdev);

	/*
	 * Never process inline: Linux holds its tx_lock while notifying. A kick
	 * on the TX ring means messages; on the RX ring, fresh buffers.
	 */
	schedule_work(vq->index == EMU_VQ_TX ? &ev->tx_work : &ev->rx_work);
	return true;
}

static void emu_del_vqs(struct virtio_device *vdev)
{
	struct emu_vdev *ev = to_emu_vdev(vdev);
	unsigned int i;

	WRITE_ONCE(ev->ready, false);
	emu_cancel_works(ev);
	for (i = 0; i < EMU_NR_VQS; i++) {
		struct emu_vq *q = &ev->vqs[i];

		if (q->vq)
			vring_del_virtqueue(q->vq);
		if (q->pages)
			free_pages_exact(q->pages, q->size);
		memset(q, 0, sizeof(*q));
	}
}

/* One of Linux's two virtqueues, on rings in memory of ours. */
static int emu_find_vq(struct virtio_device *vdev, unsigned int i,
		       vq_callback_t *callback, const char *name, bool ctx)
{
	struct emu_vdev *ev = to_emu_vdev(vdev);
	struct emu_vq *q = &ev->vqs[i];
	unsigned int num = num_bufs / 2;

	q->size = PAGE_ALIGN(vring_size(num, EMU_VRING_ALIGN));
	q->pages = alloc_pages_exact(q->size, GFP_KERNEL | __GFP_ZERO);
	if (!q->pages)
		return -ENOMEM;
	vring_init(&q->vr, num, q->pages, EMU_VRING_ALIGN);
	q->vq = vring_new_virtqueue(i, num, EMU_VRING_ALIGN, vdev, true, ctx,
				    q->pages, emu_notify, callback, name);
	return q->vq ? 0 : -ENOMEM;
}

#if VX_EMU_VQS_INFO
static int emu_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[],
			struct irq_affinity *desc)
#else
static int emu_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[], vq_callback_t *callbacks[],
			const char * const names[], const bool *ctx,
			struct irq_affinity *desc)
#endif
{
	struct emu_vdev *ev = to_emu_vdev(vdev);
	unsigned int i;
	int ret;

	if (nvqs != EMU_NR_VQS)
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
#if VX_EMU_VQS_INFO
		ret = emu_find_vq(vdev, i, vqs_info[i].callback,
				  vqs_info[i].name, vqs_info[i].ctx);
#else
		ret = emu_find_vq(vdev, i, callbacks[i], names[i],
				  ctx ? ctx[i] : false);
#endif
		if (ret) {
			emu_del_vqs(vdev);
			return ret;
		}
		vqs[i] = ev->vqs[i].vq;
	}
	return 0;
}

static void emu_reset(struct virtio_device *vdev)
{
	struct emu_vdev *ev = to_emu_vdev(vdev);
	unsigned int i;

	WRITE_ONCE(ev->ready, false);
	emu_cancel_works(ev);
	ev->status = 0;
	for (i = 0; i < ev->nr_chans; i++) {
		struct emu_chan *ch = ev->chans[i];

		WRITE_ONCE(ch->announced, false);
		netif_carrier_off(ch->ndev);
		/* frames queued for the old Linux side never reach it */
		atomic64_add(skb_queue_len(&ch->txq), &ch->tx_dropped);
		skb_queue_purge(&ch->txq);
		netif_wake_queue(ch->ndev);
	}
}

static u8 emu_get_status(struct virtio_device *vdev)
{
	return to_emu_vdev(vdev)->status;
}

static void emu_set_status(struct virtio_device *vdev, u8 status)
{
	struct emu_vdev *ev = to_emu_vdev(vdev);

	ev->status = status;
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !ev->ready) {
		WRITE_ONCE(ev->ready, true);
		schedule_work(&ev->rx_work);	/* announces the channels */
	}
}

static u64 emu_get_features(struct virtio_device *vdev)
{
	return BIT_ULL(EMU_RPMSG_F_NS);
}

static int emu_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	return 0;
}

/* rpmsg has no config space */
static void emu_get(struct virtio_device *vdev, unsigned int offset,
		    void *buf, unsigned int len)
{
	memset(buf, 0, len);
}

static const struct virtio_config_ops emu_config_ops = {
	.get = emu_get,
	.get_status = emu_get_status,
	.set_status = emu_set_status,
	.reset = emu_reset,
	.find_vqs = emu_find_vqs,
	.del_vqs = emu_del_vqs,
	.get_features = emu_get_features,
	.finalize_features = emu_finalize_features,
};

static void emu_vdev_release(struct device *dev)
{
	struct emu_vdev *ev = to_emu_vdev(dev_to_virtio(dev));

	/* freed by the module once every device is gone */
	complete(&ev->released);
}

/* ---- vx<N>: the remote's network device for an eth-dev endpoint ---- */

static netdev_tx_t emu_ndo_start_xmit(struct sk_buff *skb,
				      struct net_device *ndev)
{
	struct emu_netpriv *priv = netdev_priv(ndev);
	struct emu_chan *ch = priv->ch;
	struct sk_buff_head msgs;

	/* irq: ch->irq stays while announced (see emu_irq_remove()) */
	if (!READ_ONCE(ch->announced) ||
	    (emu_irq_mode ? !emu_irq_ready(ch) : !READ_ONCE(ch->ev->ready))) {
		atomic64_inc(&ch->tx_dropped);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	if (skb_linearize(skb)) {
		atomic64_inc(&ch->tx_dropped);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	__skb_queue_head_init(&msgs);
	if (!ch->frag) {
		__skb_queue_tail(&msgs, skb);
	} else if (emu_frag_msgs(ch, skb, &msgs)) {
		dev_consume_skb_any(skb);
	} else {
		atomic64_inc(&ch->tx_dropped);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	emu_queue_msgs(ch, &msgs);
	if (skb_queue_len(&ch->txq) >= EMU_TXQ_LEN)
		netif_stop_queue(ndev);
	return NETDEV_TX_OK;
}

static void emu_ndo_get_stats64(struct net_device *ndev,
				struct rtnl_link_stats64 *s)
{
	struct emu_netpriv *priv = netdev_priv(ndev);
	struct emu_chan *ch = priv->ch;

	s->tx_packets = atomic64_read(&ch->tx_packets);
	s->tx_bytes = atomic64_read(&ch->tx_bytes);
	s->tx_dropped = atomic64_read(&ch->tx_dropped);
	/* frames larger than an rpmsg buffer can carry: never deliverable */
	s->tx_errors = atomic64_read(&ch->tx_oversize);
	s->rx_packets = atomic64_read(&ch->rx_packets);
	s->rx_bytes = atomic64_read(&ch->rx_bytes);
	s->rx_dropped = atomic64_read(&ch->rx_dropped);
	s->rx_length_errors = atomic64_read(&ch->rx_length_errors);
	s->rx_errors = s->rx_length_errors;
}

static const struct net_device_ops emu_netdev_ops = {
	.ndo_start_xmit = emu_ndo_start_xmit,
	.ndo_get_stats64 = emu_ndo_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static int emu_chan_netdev(struct emu_chan *ch)
{
	struct emu_netpriv *priv;
	struct net_device *ndev;
	char name[IFNAMSIZ];
	int ret;

	snprintf(name, sizeof(name), "vx%u", ch->num);
	ndev = alloc_netdev(sizeof(*priv), name, NET_NAME_PREDICTABLE,
			    ether_setup);
	if (!ndev)
		return -ENOMEM;
	priv = netdev_priv(ndev);
	priv->ch = ch;
	ndev->netdev_ops = &emu_netdev_ops;
	/* default MTU: an upstream 512-byte buffer minus headers */
	ndev->mtu = 512 - sizeof(struct emu_rpmsg_hdr) - ETH_HLEN;
	ndev->min_mtu = ETH_MIN_MTU;
	/* allow larger MTUs so tests can make frames that must be dropped */
	ndev->max_mtu = ch->frag ? RPMSG_FRAG_MAX_FRAME - ETH_HLEN : EMU_MAX_MTU;
	eth_hw_addr_random(ndev);
	SET_NETDEV_DEV(ndev, &emu_pdev->dev);
	netif_carrier_off(ndev);
	ret = register_netdev(ndev);
	if (ret) {
		free_netdev(ndev);
		return ret;
	}
	ch->ndev = ndev;
	return 0;
}

/* ---- configuration and module lifetime ---- */

/* Parse one "name:eth_addr[:linux_addr[:ns_addr]]" entry. */
static int emu_parse_chan(char *spec, unsigned int num, struct emu_chan *ch)
{
	char *name = strsep(&spec, ":");
	char *field;
	unsigned int i, n = 0;
	u32 v[3];

	if (!name || !*name || strlen(name) >= EMU_NAME_SIZE || !spec)
		return -EINVAL;
	while ((field = strsep(&spec, ":")) && n < ARRAY_SIZE(v)) {
		if (kstrtou32(field, 0, &v[n]))
			return -EINVAL;
		n++;
	}
	if (field)
		return -EINVAL;	/* more than three numbers */
	for (i = n; i < ARRAY_SIZE(v); i++)
		v[i] = i == 1 ? v[0] : 0x400 + num;
	strscpy(ch->name, name, sizeof(ch->name));
	ch->num = num;
	ch->eth_addr = v[0];
	ch->linux_addr = v[1];
	ch->ns_addr = v[2];
	return 0;
}

static int emu_parse_channels(void)
{
	char *buf, *cur, *spec;
	struct emu_chan *ch;
	int ret = 0;

	buf = kstrdup(channels, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = buf;
	while ((spec = strsep(&cur, ","))) {
		if (!*spec)
			continue;
		if (emu_nr_chans == EMU_MAX_CHANNELS) {
			ret = -E2BIG;
			break;
		}
		ch = kzalloc(sizeof(*ch), GFP_KERNEL);
		if (!ch) {
			ret = -ENOMEM;
			break;
		}
		skb_queue_head_init(&ch->txq);
		emu_chans[emu_nr_chans] = ch;
		ret = emu_parse_chan(spec, emu_nr_chans, ch);
		emu_nr_chans++;
		if (ret) {
			pr_err("bad channel \"%s\" (want name:eth_addr[:linux_addr[:ns_addr]])\n",
			       spec);
			break;
		}
	}
	kfree(buf);
	if (!ret && !emu_nr_chans)
		ret = -EINVAL;
	return ret;
}

/* Addresses must be unique among the channels sharing a virtio device. */
static int emu_check_addrs(struct emu_vdev *ev)
{
	unsigned int i, j;

	for (i = 0; i < ev->nr_chans; i++) {
		struct emu_chan *a = ev->chans[i];

		if (a->eth_addr == a->ns_addr || a->eth_addr == EMU_NS_ADDR ||
		    a->ns_addr == EMU_NS_ADDR || a->linux_addr == EMU_NS_ADDR)
			goto clash;
		for (j = 0; j < i; j++) {
			struct emu_chan *b = ev->chans[j];

			if (a->eth_addr == b->eth_addr ||
			    a->eth_addr == b->ns_addr ||
			    a->ns_addr == b->eth_addr ||
			    a->ns_addr == b->ns_addr ||
			    a->linux_addr == b->linux_addr)
				goto clash;
		}
	}
	return 0;
clash:
	pr_err("channel %s: address clash on one virtio device\n",
	       ev->chans[i]->name);
	return -EINVAL;
}

static void emu_kick_tx_all(void)
{
	unsigned int i;

	for (i = 0; i < emu_nr_chans; i++)
		if (emu_chans[i]->irq)
			emu_irq_kick_tx(emu_chans[i]);
	for (i = 0; i < emu_nr_vdevs; i++)
		if (emu_vdevs[i]->registered && READ_ONCE(emu_vdevs[i]->ready))
			schedule_work(&emu_vdevs[i]->tx_work);
}

static void emu_free_all(void)
{
	unsigned int i;

	for (i = 0; i < emu_nr_chans; i++)
		emu_irq_remove(emu_chans[i]);

	for (i = 0; i < emu_nr_vdevs; i++) {
		if (emu_vdevs[i]->registered) {
			unregister_virtio_device(&emu_vdevs[i]->vdev);
			wait_for_completion(&emu_vdevs[i]->released);
		}
	}
	for (i = 0; i < emu_nr_chans; i++) {
		if (emu_chans[i]->ndev) {
			unregister_netdev(emu_chans[i]->ndev);
			free_netdev(emu_chans[i]->ndev);
		}
	}
	for (i = 0; i < emu_nr_vdevs; i++) {
		/* a transmit may have queued rx_work after the reset */
		emu_cancel_works(emu_vdevs[i]);
		kfree(emu_vdevs[i]);
	}
	for (i = 0; i < emu_nr_chans; i++) {
		skb_queue_purge(&emu_chans[i]->txq);
		emu_frag_free(emu_chans[i]);
		kfree(emu_chans[i]);
	}
	emu_nr_vdevs = 0;
	emu_nr_chans = 0;
	platform_device_unregister(emu_pdev);
}

static int emu_add_vdev(unsigned int first, unsigned int count)
{
	struct emu_vdev *ev;
	unsigned int i;
	int ret;

	ev = kzalloc(sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	INIT_WORK(&ev->tx_work, emu_tx_work);
	INIT_WORK(&ev->rx_work, emu_rx_work);
	init_completion(&ev->released);
	for (i = 0; i < count; i++) {
		ev->chans[i] = emu_chans[first + i];
		ev->chans[i]->ev = ev;
	}
	ev->nr_chans = count;
	emu_vdevs[emu_nr_vdevs++] = ev;
	ret = emu_check_addrs(ev);
	if (ret)
		return ret;
	ev->vdev.id.device = VIRTIO_ID_RPMSG;
	ev->vdev.config = &emu_config_ops;
	ev->vdev.dev.parent = &emu_pdev->dev;
	ev->vdev.dev.release = emu_vdev_release;
	ret = register_virtio_device(&ev->vdev);
	if (ret) {
		/* the device was initialized: drop it through release */
		put_device(&ev->vdev.dev);
		wait_for_completion(&ev->released);
		return ret;
	}
	ev->registered = true;
	return 0;
}

static int __init emu_init(void)
{
	struct platform_device_info info = {
		.name = KBUILD_MODNAME,
		.id = PLATFORM_DEVID_NONE,
		/* virtio_rpmsg_bus allocates its buffers on the parent */
		.dma_mask = DMA_BIT_MASK(64),
	};
	unsigned int i;
	int ret;

	if (num_bufs < 4 || num_bufs > 1024 || !is_power_of_2(num_bufs)) {
		pr_err("num_bufs must be a power of 2 in 4..1024\n");
		return -EINVAL;
	}
	if (!strcmp(transport, "irq")) {
		emu_irq_mode = true;
	} else if (strcmp(transport, "virtio")) {
		pr_err("transport must be virtio or irq, not %s\n", transport);
		return -EINVAL;
	}
	if (!strcmp(framing, "frag")) {
		emu_frag_mode = true;
	} else if (strcmp(framing, "raw")) {
		pr_err("framing must be raw or frag, not %s\n", framing);
		return -EINVAL;
	}
	emu_pdev = platform_device_register_full(&info);
	if (IS_ERR(emu_pdev))
		return PTR_ERR(emu_pdev);
	ret = emu_parse_channels();
	for (i = 0; !ret && emu_frag_mode && i < emu_nr_chans; i++)
		ret = emu_frag_add(emu_chans[i]);
	if (ret)
		goto fail;
	/* netdevs first: a channel is announced only once vx<N> exists */
	for (i = 0; i < emu_nr_chans; i++) {
		ret = emu_chan_netdev(emu_chans[i]);
		if (ret)
			goto fail;
	}
	if (emu_irq_mode) {
		for (i = 0; i < emu_nr_chans && !ret; i++)
			ret = emu_irq_add(emu_chans[i]);
	} else if (shared_vdev) {
		ret = emu_add_vdev(0, emu_nr_chans);
	} else {
		for (i = 0; i < emu_nr_chans && !ret; i++)
			ret = emu_add_vdev(i, 1);
	}
	if (ret)
		goto fail;
	if (emu_irq_mode)
		pr_info("%u channel(s) on the irq transport, %u buffers each\n",
			emu_nr_chans, num_bufs);
	else
		pr_info("%u channel(s) on %u virtio device(s), %u buffers each\n",
			emu_nr_chans, emu_nr_vdevs, num_bufs);
	return 0;

fail:
	emu_free_all();
	return ret;
}

static void __exit emu_exit(void)
{
	emu_free_all();
}

module_init(emu_init);
module_exit(emu_exit);

MODULE_DESCRIPTION("Test-only emulator of the remote core of rpmsg channels");
MODULE_LICENSE("GPL");
