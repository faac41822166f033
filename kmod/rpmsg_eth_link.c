// SPDX-License-Identifier: GPL-2.0
/*
 * The channel lifetime of rpmsg_eth, independent of how frames reach user
 * space: one binding's eth-dev endpoint, the receive dispatch to the front
 * end, the transmit queue and the thread that drains it, and stall
 * detection.
 *
 * Transmit: a frame is sent at once when nothing is queued before it and
 * the ring has a free buffer; otherwise it is queued (at most tx_queue_len)
 * and the link's thread sends it. When the ring is full the thread makes a
 * blocking send, which the bus wakes when the remote returns buffers (on
 * virtio, the tx-complete interrupt): no polling. If that send has not
 * returned after stall_ms the link is stalled (counted in tx_stalls,
 * reported to the front end); the first frame the ring takes again ends
 * the stall. Stopping the link interrupts a blocking send with a signal.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
/* rpmsg_eth_compat.h: this file has the endpoint and its receive handler */
#define RPMSG_ETH_LINK

#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "rpmsg_eth.h"
#include "rpmsg_eth_compat.h"
#include "rpmsg_eth_sizes.h"

/* Receive handler of the eth-dev endpoint; may run in hard-IRQ context. */
static int rpmsg_eth_rx(void *priv, void *data, int len, u32 src)
{
	struct rpmsg_eth_link *link = priv;
	struct rpmsg_eth_chan *chan = link->chan;

	if (READ_ONCE(chan->loglevel) >= RPMSG_ETH_LOG_FRAME)
		dev_info_ratelimited(&link->rpdev->dev, "rx %d bytes from 0x%x\n",
				     len, src);
	if (len <= 0) {
		rpmsg_eth_count(chan, RX_DROP_EMPTY, 1);
		return 0;
	}
	if (len > link->max_payload) {
		rpmsg_eth_count(chan, RX_DROP_OVERSIZE, 1);
		return 0;
	}
	link->ops->rx(link, data, len);
	return 0;
}

/* Discard the queued frames of @q, counting them as counter @c. */
void rpmsg_eth_purge(struct rpmsg_eth_chan *chan, struct sk_buff_head *q,
		     enum rpmsg_eth_counter c)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q))) {
		rpmsg_eth_count(chan, c, 1);
		kfree_skb(skb);
	}
}

/*
 * Send one frame, waiting for a ring buffer if @wait. Returns 0 when sent,
 * -ENOMEM when the ring is full (only without @wait), -ERESTARTSYS when a
 * wait was given up (signal or the bus's own timeout), another error when
 * the bus refused the frame (counted).
 */
static int rpmsg_eth_send(struct rpmsg_eth_link *link, struct sk_buff *skb,
			  bool wait)
{
	struct rpmsg_eth_chan *chan = link->chan;
	int ret;

	if (wait)
		ret = rpmsg_eth_sendto(link->rpdev, link->ept, skb->data,
				       skb->len, chan->remote);
	else
		ret = rpmsg_eth_trysendto(link->rpdev, link->ept, skb->data,
					  skb->len, chan->remote);
	if (!ret) {
		rpmsg_eth_count(chan, TX_PACKETS, 1);
		rpmsg_eth_count(chan, TX_BYTES, skb->len);
		if (READ_ONCE(chan->loglevel) >= RPMSG_ETH_LOG_FRAME)
			dev_info_ratelimited(&link->rpdev->dev, "tx %u bytes to 0x%x\n",
					     skb->len, chan->remote);
		return 0;
	}
	/* virtio says -ENOMEM when no tx buffer is free; others -EAGAIN */
	if (!wait && (ret == -ENOMEM || ret == -EAGAIN || ret == -EBUSY)) {
		rpmsg_eth_count(chan, TX_RING_FULL, 1);
		return -ENOMEM;
	}
	if (wait && (ret == -ERESTARTSYS || ret == -ETIMEDOUT ||
		     ret == -ENOMEM || ret == -EAGAIN))
		return -ERESTARTSYS;
	rpmsg_eth_count(chan, TX_DROP_ERROR, 1);
	dev_err_ratelimited(&link->rpdev->dev, "sending %u bytes to 0x%x: %d\n",
			    skb->len, chan->remote, ret);
	return ret;
}

static void rpmsg_eth_set_stalled(struct rpmsg_eth_link *link, bool stalled)
{
	struct rpmsg_eth_chan *chan = link->chan;

	if (READ_ONCE(link->stalled) == stalled)
		return;
	WRITE_ONCE(link->stalled, stalled);
	if (stalled) {
		rpmsg_eth_count(chan, TX_STALLS, 1);
		dev_warn(&link->rpdev->dev, "%s: the remote took no frame for %u ms: stalled\n",
			 chan->name, READ_ONCE(rpmsg_eth_stall_ms));
	} else {
		dev_info(&link->rpdev->dev, "%s: the remote takes frames again\n",
			 chan->name);
	}
	link->ops->state_changed(link);
}

static void rpmsg_eth_stall_timeout(struct timer_list *t)
{
	struct rpmsg_eth_link *link = from_timer(link, t, stall_timer);

	rpmsg_eth_set_stalled(link, true);
}

/*
 * The head frame found the ring full: wait for the bus to return a buffer.
 * Called by the thread without tx_lock; the frame stays at the head of txq
 * meanwhile, so writers queue behind it.
 */
static int rpmsg_eth_send_wait(struct rpmsg_eth_link *link,
			       struct sk_buff *skb)
{
	int ret;

	mod_timer(&link->stall_timer, jiffies +
		  msecs_to_jiffies(max(1U, READ_ONCE(rpmsg_eth_stall_ms))));
	ret = rpmsg_eth_send(link, skb, true);
	del_timer_sync(&link->stall_timer);
	if (ret != -ERESTARTSYS)
		rpmsg_eth_set_stalled(link, false);
	return ret;
}

static void rpmsg_eth_tx_drain(struct rpmsg_eth_link *link)
{
	struct sk_buff *skb;
	int ret;

	for (;;) {
		mutex_lock(&link->tx_lock);
		skb = link->dead ? NULL : skb_peek(&link->txq);
		ret = skb ? rpmsg_eth_send(link, skb, false) : 0;
		mutex_unlock(&link->tx_lock);
		if (!skb)
			return;
		if (ret == -ENOMEM) {
			ret = rpmsg_eth_send_wait(link, skb);
			/* stopped, or the bus gave up waiting: try again */
			if (ret == -ERESTARTSYS) {
				if (signal_pending(current))
					return;
				continue;
			}
		}
		skb_unlink(skb, &link->txq);
		if (ret)
			kfree_skb(skb);
		else
			consume_skb(skb);
		link->ops->tx_room(link);
	}
}

static bool rpmsg_eth_tx_pending(struct rpmsg_eth_link *link)
{
	return !rpmsg_eth_link_dead(link) && !skb_queue_empty(&link->txq);
}

static int rpmsg_eth_tx_thread(void *data)
{
	struct rpmsg_eth_link *link = data;

	/* rpmsg_eth_link_stop() interrupts a blocking send with SIGKILL */
	allow_signal(SIGKILL);
	while (!kthread_should_stop()) {
		if (wait_event_interruptible(link->tx_thread_wait,
					     rpmsg_eth_tx_pending(link) ||
					     kthread_should_stop()))
			continue;	/* being stopped */
		rpmsg_eth_tx_drain(link);
	}
	return 0;
}

/*
 * Send @skb, or queue it when frames wait before it or the ring is full.
 * Takes ownership of @skb when it returns 0. -EAGAIN: the queue is full
 * (the front end's tx_room callback says when to try again). -EPIPE: the
 * link is gone. Other errors: the bus refused the frame (counted).
 */
int rpmsg_eth_link_xmit(struct rpmsg_eth_link *link, struct sk_buff *skb)
{
	int ret;

	mutex_lock(&link->tx_lock);
	if (link->dead) {
		ret = -EPIPE;
	} else if (skb_queue_empty(&link->txq)) {
		ret = rpmsg_eth_send(link, skb, false);
		if (ret == -ENOMEM) {
			skb_queue_tail(&link->txq, skb);
			wake_up(&link->tx_thread_wait);
			ret = 0;
		} else if (!ret) {
			consume_skb(skb);
		}
	} else if (rpmsg_eth_link_tx_room(link)) {
		/* the thread is draining: it was woken by the first frame */
		skb_queue_tail(&link->txq, skb);
		ret = 0;
	} else {
		ret = -EAGAIN;
	}
	mutex_unlock(&link->tx_lock);
	return ret;
}

/* The largest frame: see rpmsg_eth_max_payload() and README.md. */
static int rpmsg_eth_set_sizes(struct rpmsg_eth_link *link)
{
	struct rpmsg_eth_chan *chan = link->chan;
	u32 mtu = min_t(size_t, rpmsg_eth_get_mtu(link->ept), U32_MAX);
	u32 size = chan->buf_size ? chan->buf_size : rpmsg_eth_buf_size;

	link->max_payload = rpmsg_eth_max_payload(mtu, size);
	link->buf_size = chan->buf_size;
	if (!link->buf_size && mtu)
		link->buf_size = min_t(u32, mtu, RPMSG_ETH_MAX_PAYLOAD) +
				 RPMSG_ETH_HDR_SIZE;
	if (mtu && chan->buf_size &&
	    mtu < chan->buf_size - RPMSG_ETH_HDR_SIZE)
		dev_info(&link->rpdev->dev, "%s: rpmsg-buf-size %u but the bus carries %u bytes: frames up to %u\n",
			 chan->name, chan->buf_size, mtu, link->max_payload);
	if (!link->max_payload) {
		dev_err(&link->rpdev->dev, "%s: no frame fits a message (buffer size %u, bus %u)\n",
			chan->name, size, mtu);
		return -EINVAL;
	}
	return 0;
}

/*
 * Bind @link to @rpdev: create the eth-dev endpoint and the transmit thread.
 * Frames are delivered to @ops->rx from now on.
 */
int rpmsg_eth_link_start(struct rpmsg_eth_link *link,
			 struct rpmsg_eth_chan *chan,
			 struct rpmsg_device *rpdev,
			 const struct rpmsg_eth_link_ops *ops)
{
	int ret;

	link->chan = chan;
	link->ops = ops;
	link->rpdev = rpdev;
	skb_queue_head_init(&link->txq);
	mutex_init(&link->tx_lock);
	init_waitqueue_head(&link->tx_thread_wait);
	timer_setup(&link->stall_timer, rpmsg_eth_stall_timeout, 0);

	/* max_payload bounds the receive path: set before the endpoint */
	link->max_payload = RPMSG_ETH_MAX_PAYLOAD;
	link->ept = rpmsg_eth_create_ept(rpdev, link, chan->name, chan->addr);
	if (!link->ept) {
		dev_err(&rpdev->dev, "cannot create the eth-dev endpoint 0x%x of %s (address in use?)\n",
			chan->addr, chan->name);
		return -EBUSY;
	}
	ret = rpmsg_eth_set_sizes(link);
	if (ret)
		goto destroy;
	link->tx_thread = kthread_run(rpmsg_eth_tx_thread, link, "rpmsg-eth%u",
				      chan->num);
	if (IS_ERR(link->tx_thread)) {
		ret = PTR_ERR(link->tx_thread);
		goto destroy;
	}
	return 0;

destroy:
	rpmsg_destroy_ept(link->ept);
	link->ept = NULL;
	return ret;
}

/*
 * Unbind: after this nothing sends on or receives from the endpoint, the
 * thread is gone and queued frames are counted as tx_drop_dead. The front
 * end wakes its own waiters afterwards (they see rpmsg_eth_link_dead()).
 */
void rpmsg_eth_link_stop(struct rpmsg_eth_link *link)
{
	mutex_lock(&link->tx_lock);
	WRITE_ONCE(link->dead, true);
	mutex_unlock(&link->tx_lock);
	/* a send blocked on a full ring returns at once */
	send_sig(SIGKILL, link->tx_thread, 1);
	kthread_stop(link->tx_thread);
	del_timer_sync(&link->stall_timer);
	/* after this the receive callback does not run any more */
	rpmsg_destroy_ept(link->ept);
	link->ept = NULL;
	link->rpdev = NULL;
	rpmsg_eth_purge(link->chan, &link->txq, TX_DROP_DEAD);
}
