// SPDX-License-Identifier: GPL-2.0-only
/*
 * rpmsg_vx_emu, transport=irq: each channel is an rpmsg device of its own
 * backend (like qcom_smd), so that what the remote sends reaches Linux's
 * endpoint callback in hard-IRQ context, as the board's message interrupt
 * delivers it. virtio_rpmsg_bus cannot do that: its receive path takes
 * mutexes.
 *
 * Limits as on the board's rings: EMU_BUF_SIZE-byte buffers (496-byte
 * payload), num_bufs / 2 messages in flight towards the remote; a full ring
 * fails trysend with -ENOMEM and makes send wait (woken when the remote
 * consumes, giving up after 15 s as virtio does) and poll report EPOLLOUT
 * when a buffer is free (virtio has no poll). Both directions run from
 * irq_work, i.e. hard-IRQ context.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/irq_work.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/jiffies.h>
#include <linux/poll.h>
#include <linux/rpmsg.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "rpmsg_internal.h"
#include "vx_emu.h"

struct emu_irq {
	struct rpmsg_device rpdev;
	struct emu_chan *ch;
	spinlock_t lock;		/* guards ept, ring, gone */
	struct rpmsg_endpoint *ept;	/* Linux's endpoint on the device */
	struct sk_buff_head ring;	/* messages Linux sent, not yet taken */
	bool gone;
	wait_queue_head_t sendq;	/* senders waiting for a free buffer */
	struct irq_work rx_work;	/* remote -> Linux */
	struct irq_work tx_work;	/* the remote takes Linux's messages */
	struct completion released;
};

#define to_emu_irq(d) container_of(d, struct emu_irq, rpdev)

/* Messages handed to Linux's callback, and how many of them in hard IRQ. */
static atomic_long_t emu_irq_delivered, emu_irq_delivered_hardirq;

static int emu_irq_get_counts(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld %ld\n", atomic_long_read(&emu_irq_delivered),
			  atomic_long_read(&emu_irq_delivered_hardirq));
}

static const struct kernel_param_ops emu_irq_counts_ops = {
	.get = emu_irq_get_counts,
};

module_param_cb(irq_deliveries, &emu_irq_counts_ops, NULL, 0444);
MODULE_PARM_DESC(irq_deliveries,
		 "transport=irq: messages delivered to Linux, and how many of them in hard-IRQ context");

static unsigned int emu_irq_slots(void)
{
	return num_bufs / 2;
}

/* A remote that is gone takes nothing: to senders, a ring that stays full. */
static bool emu_irq_room(struct emu_irq *irq)
{
	return !READ_ONCE(irq->gone) && skb_queue_len(&irq->ring) < emu_irq_slots();
}

/* Queue a message for the remote; waits for a buffer if @wait. */
static int emu_irq_send(struct rpmsg_endpoint *ept, u32 dst, const void *data,
			int len, bool wait)
{
	struct emu_irq *irq = to_emu_irq(ept->rpdev);
	struct sk_buff *skb;
	unsigned long flags;
	long left;

	if (len < 0 || len > EMU_BUF_SIZE - EMU_HDR_SIZE)
		return -EMSGSIZE;
	for (;;) {
		skb = alloc_skb(len, GFP_ATOMIC);
		if (!skb)
			return -ENOMEM;
		skb_put_data(skb, data, len);
		/* the destination rides in the control block */
		memcpy(skb->cb, &dst, sizeof(dst));
		spin_lock_irqsave(&irq->lock, flags);
		if (!irq->gone && skb_queue_len(&irq->ring) < emu_irq_slots()) {
			__skb_queue_tail(&irq->ring, skb);
			spin_unlock_irqrestore(&irq->lock, flags);
			irq_work_queue(&irq->tx_work);
			return 0;
		}
		spin_unlock_irqrestore(&irq->lock, flags);
		kfree_skb(skb);
		if (!wait)
			return -ENOMEM;
		left = wait_event_interruptible_timeout(irq->sendq, emu_irq_room(irq),
							msecs_to_jiffies(15000));
		if (left < 0)
			return left;
		if (!left)
			return -ERESTARTSYS;	/* as virtio_rpmsg_bus */
	}
}

static int emu_irq_ept_send(struct rpmsg_endpoint *ept, void *data, int len)
{
	return emu_irq_send(ept, ept->rpdev->dst, data, len, true);
}

static int emu_irq_ept_sendto(struct rpmsg_endpoint *ept, void *data, int len,
			      u32 dst)
{
	return emu_irq_send(ept, dst, data, len, true);
}

static int emu_irq_ept_send_offchannel(struct rpmsg_endpoint *ept, u32 src,
				       u32 dst, void *data, int len)
{
	return emu_irq_send(ept, dst, data, len, true);
}

static int emu_irq_ept_trysend(struct rpmsg_endpoint *ept, void *data, int len)
{
	return emu_irq_send(ept, ept->rpdev->dst, data, len, false);
}

static int emu_irq_ept_trysendto(struct rpmsg_endpoint *ept, void *data,
				 int len, u32 dst)
{
	return emu_irq_send(ept, dst, data, len, false);
}

static int emu_irq_ept_trysend_offchannel(struct rpmsg_endpoint *ept, u32 src,
					  u32 dst, void *data, int len)
{
	return emu_irq_send(ept, dst, data, len, false);
}

/* Room for a message: what the board's bus reports through poll. */
static __poll_t emu_irq_ept_poll(struct rpmsg_endpoint *ept, struct file *filp,
				 poll_table *wait)
{
	struct emu_irq *irq = to_emu_irq(ept->rpdev);

	poll_wait(filp, &irq->sendq, wait);
	return emu_irq_room(irq) ? EPOLLOUT | EPOLLWRNORM : 0;
}

static ssize_t emu_irq_ept_get_mtu(struct rpmsg_endpoint *ept)
{
	return EMU_BUF_SIZE - EMU_HDR_SIZE;
}

static void emu_irq_destroy_ept(struct rpmsg_endpoint *ept)
{
	struct emu_irq *irq = to_emu_irq(ept->rpdev);
	unsigned long flags;

	/* the callback runs under the lock: after this it is not running */
	spin_lock_irqsave(&irq->lock, flags);
	if (irq->ept == ept)
		irq->ept = NULL;
	spin_unlock_irqrestore(&irq->lock, flags);
	kfree(ept);
}

static const struct rpmsg_endpoint_ops emu_irq_ept_ops = {
	.destroy_ept = emu_irq_destroy_ept,
	.send = emu_irq_ept_send,
	.sendto = emu_irq_ept_sendto,
	.send_offchannel = emu_irq_ept_send_offchannel,
	.trysend = emu_irq_ept_trysend,
	.trysendto = emu_irq_ept_trysendto,
	.trysend_offchannel = emu_irq_ept_trysend_offchannel,
	.poll = emu_irq_ept_poll,
	.get_mtu = emu_irq_ept_get_mtu,
};

/* One endpoint per device: the eth-dev endpoint of the Linux side. */
static struct rpmsg_endpoint *emu_irq_create_ept(struct rpmsg_device *rpdev,
						 rpmsg_rx_cb_t cb, void *priv,
						 struct rpmsg_channel_info chinfo)
{
	struct emu_irq *irq = to_emu_irq(rpdev);
	struct rpmsg_endpoint *ept;
	unsigned long flags;

	ept = kzalloc(sizeof(*ept), GFP_KERNEL);
	if (!ept)
		return NULL;
	kref_init(&ept->refcount);
	mutex_init(&ept->cb_lock);
	ept->rpdev = rpdev;
	ept->cb = cb;
	ept->priv = priv;
	ept->addr = chinfo.src == RPMSG_ADDR_ANY ? irq->ch->linux_addr : chinfo.src;
	ept->ops = &emu_irq_ept_ops;
	spin_lock_irqsave(&irq->lock, flags);
	if (irq->ept || irq->gone) {
		spin_unlock_irqrestore(&irq->lock, flags);
		kfree(ept);
		return NULL;
	}
	irq->ept = ept;
	spin_unlock_irqrestore(&irq->lock, flags);
	/* frames vx<N> queued before Linux listened */
	irq_work_queue(&irq->rx_work);
	return ept;
}

static const struct rpmsg_device_ops emu_irq_dev_ops = {
	.create_ept = emu_irq_create_ept,
};

/* Hard-IRQ context: vx<N>'s frames to Linux's endpoint callback. */
static void emu_irq_rx(struct irq_work *work)
{
	struct emu_irq *irq = container_of(work, struct emu_irq, rx_work);
	struct emu_chan *ch = irq->ch;
	struct rpmsg_endpoint *ept;
	struct sk_buff *skb;
	unsigned int n = 0;

	spin_lock(&irq->lock);
	ept = irq->ept;
	while (ept && n < EMU_WORK_BUDGET && (skb = skb_dequeue(&ch->txq))) {
		if (skb->len > EMU_BUF_SIZE - EMU_HDR_SIZE) {
			atomic64_inc(&ch->tx_oversize);
			atomic64_inc(&ch->tx_dropped);
		} else {
			ept->cb(&irq->rpdev, skb->data, skb->len, ept->priv,
				ch->eth_addr);
			atomic_long_inc(&emu_irq_delivered);
			if (in_hardirq())
				atomic_long_inc(&emu_irq_delivered_hardirq);
			atomic64_inc(&ch->tx_packets);
			atomic64_add(skb->len, &ch->tx_bytes);
		}
		dev_consume_skb_any(skb);
		n++;
		if (netif_queue_stopped(ch->ndev) &&
		    skb_queue_len(&ch->txq) < EMU_TXQ_LEN / 2)
			netif_wake_queue(ch->ndev);
	}
	spin_unlock(&irq->lock);
	if (ept && !skb_queue_empty(&ch->txq))
		irq_work_queue(&irq->rx_work);
}

/* Hard-IRQ context: the remote takes what Linux sent, frees buffers. */
static void emu_irq_tx(struct irq_work *work)
{
	struct emu_irq *irq = container_of(work, struct emu_irq, tx_work);
	struct emu_chan *ch = irq->ch;
	struct sk_buff *skb;
	unsigned int n = 0;
	u32 dst;

	while (!emu_stalled() && n < EMU_WORK_BUDGET &&
	       (skb = skb_dequeue(&irq->ring))) {
		memcpy(&dst, skb->cb, sizeof(dst));
		if (dst == ch->eth_addr)
			emu_deliver_frame(ch, skb->data, skb->len);
		else
			atomic64_inc(&ch->rx_dropped);
		dev_consume_skb_any(skb);
		n++;
	}
	if (n)
		wake_up_interruptible(&irq->sendq);	/* "tx complete" */
	if (!emu_stalled() && !skb_queue_empty(&irq->ring))
		irq_work_queue(&irq->tx_work);
}

bool emu_irq_ready(struct emu_chan *ch)
{
	return !READ_ONCE(ch->irq->gone);
}

void emu_irq_kick_rx(struct emu_chan *ch)
{
	irq_work_queue(&ch->irq->rx_work);
}

void emu_irq_kick_tx(struct emu_chan *ch)
{
	irq_work_queue(&ch->irq->tx_work);
}

static void emu_irq_release(struct device *dev)
{
	struct emu_irq *irq = to_emu_irq(to_rpmsg_device(dev));

	complete(&irq->released);
}

/* The remote announces @ch: an rpmsg device named after the channel. */
int emu_irq_add(struct emu_chan *ch)
{
	struct emu_irq *irq;
	int ret;

	irq = kzalloc(sizeof(*irq), GFP_KERNEL);
	if (!irq)
		return -ENOMEM;
	irq->ch = ch;
	spin_lock_init(&irq->lock);
	skb_queue_head_init(&irq->ring);
	init_waitqueue_head(&irq->sendq);
	init_irq_work(&irq->rx_work, emu_irq_rx);
	init_irq_work(&irq->tx_work, emu_irq_tx);
	init_completion(&irq->released);
	strscpy(irq->rpdev.id.name, ch->name, sizeof(irq->rpdev.id.name));
	irq->rpdev.src = ch->linux_addr;
	irq->rpdev.dst = ch->eth_addr;
	irq->rpdev.ops = &emu_irq_dev_ops;
	irq->rpdev.dev.parent = &emu_pdev->dev;
	irq->rpdev.dev.release = emu_irq_release;
	ch->irq = irq;
	WRITE_ONCE(ch->announced, true);
	netif_carrier_on(ch->ndev);
	ret = rpmsg_register_device(&irq->rpdev);
	if (ret) {
		/* the device was initialized: its release completes */
		wait_for_completion(&irq->released);
		ch->irq = NULL;
		kfree(irq);
		return ret;
	}
	dev_info(&emu_pdev->dev, "announced %s (eth 0x%x) as vx%u, delivering from hard IRQ\n",
		 ch->name, ch->eth_addr, ch->num);
	return 0;
}

/* The remote goes away: the device, its endpoint and what was in flight. */
void emu_irq_remove(struct emu_chan *ch)
{
	struct emu_irq *irq = ch->irq;
	unsigned long flags;

	if (!irq)
		return;
	spin_lock_irqsave(&irq->lock, flags);
	irq->gone = true;
	spin_unlock_irqrestore(&irq->lock, flags);
	WRITE_ONCE(ch->announced, false);
	netif_carrier_off(ch->ndev);
	/* vx<N>'s transmits that saw it announced are done with irq after this */
	synchronize_net();
	device_unregister(&irq->rpdev.dev);
	wait_for_completion(&irq->released);
	irq_work_sync(&irq->rx_work);
	irq_work_sync(&irq->tx_work);
	atomic64_add(skb_queue_len(&ch->txq), &ch->tx_dropped);
	skb_queue_purge(&ch->txq);
	skb_queue_purge(&irq->ring);
	/* no driver_override to free: the tests bind by name */
	ch->irq = NULL;
	kfree(irq);
}
