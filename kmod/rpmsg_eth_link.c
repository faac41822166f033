// SPDX-License-Identifier: GPL-2.0
/*
 * The channel lifetime of rpmsg_eth, independent of how frames reach user
 * space: one binding's eth-dev endpoint, the receive dispatch to the front
 * end, the transmit queue and the thread that drains it, and stall
 * detection.
 *
 * Transmit: a frame is sent at once when nothing is queued before it and
 * the ring has a free buffer; otherwise it is queued (at most tx_queue_len)
 * and the link's thread sends it. When the ring is full the thread waits
 * for the bus to make progress (rpmsg_eth_send_wait()). If the ring takes
 * nothing for stall_ms the link is stalled (counted in tx_stalls, reported
 * to the front end); the first frame the ring takes again ends the stall.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
/* rpmsg_eth_compat.h: this file has the endpoint and its receive handler */
#define RPMSG_ETH_LINK

#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/poll.h>
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
		dev_kfree_skb_any(skb);
	}
}

/*
 * Drop the messages of @msgs, a list no one else sees (no lock taken: it
 * may be the caller's, set up with __skb_queue_head_init()), counting each
 * frame once as tx_drop_dead; any context, hard IRQ included.
 */
static void rpmsg_eth_tx_drop_dead(struct rpmsg_eth_link *link,
				   struct sk_buff_head *msgs)
{
	struct rpmsg_eth_msg_cb *cb;
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(msgs))) {
		cb = rpmsg_eth_msg_cb(skb);
		if (!cb->more && !cb->control)
			rpmsg_eth_count(link->chan, TX_DROP_DEAD, 1);
		dev_kfree_skb_any(skb);
	}
}

/*
 * Send one message without waiting. Returns 0 when sent, -ENOMEM when the
 * ring is full (counted once per frame by the caller), another error when
 * the bus refused the message (logged; the caller counts the frame).
 */
static int rpmsg_eth_send(struct rpmsg_eth_link *link, struct sk_buff *skb)
{
	struct rpmsg_eth_chan *chan = link->chan;
	int ret;

	ret = rpmsg_eth_trysendto(link->rpdev, link->ept, skb->data, skb->len,
				  chan->remote);
	if (!ret) {
		rpmsg_eth_count(chan, TX_PACKETS, 1);
		rpmsg_eth_count(chan, TX_BYTES, skb->len);
		if (READ_ONCE(chan->loglevel) >= RPMSG_ETH_LOG_FRAME)
			dev_info_ratelimited(&link->rpdev->dev, "tx %u bytes to 0x%x\n",
					     skb->len, chan->remote);
		return 0;
	}
	/* virtio says -ENOMEM when no tx buffer is free; others -EAGAIN */
	if (ret == -ENOMEM || ret == -EAGAIN || ret == -EBUSY)
		return -ENOMEM;
	dev_err_ratelimited(&link->rpdev->dev, "sending %u bytes to 0x%x: %d\n",
			    skb->len, chan->remote, ret);
	return ret;
}

static void rpmsg_eth_set_stalled(struct rpmsg_eth_link *link, bool stalled)
{
	struct rpmsg_eth_chan *chan = link->chan;

	if (link->stalled == stalled)
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

/* The bus's waitqueue woke (any context): it has made progress. */
static int rpmsg_eth_bus_woke(struct wait_queue_entry *wait, unsigned int mode,
			      int sync, void *key)
{
	struct rpmsg_eth_link *link =
		container_of(wait, struct rpmsg_eth_bus_entry, wait)->link;

	WRITE_ONCE(link->bus_progress, true);
	wake_up_process(link->tx_thread);
	return 0;
}

/* poll_wait() of the bus: hook the thread onto the bus's waitqueue. */
static void rpmsg_eth_bus_queue(struct file *filp, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct rpmsg_eth_bus_wait *bw = container_of(pt, struct rpmsg_eth_bus_wait,
						     pt);
	struct rpmsg_eth_bus_entry *e;

	if (bw->n >= ARRAY_SIZE(bw->e))
		return;
	e = &bw->e[bw->n++];
	e->wqh = wqh;
	e->link = bw->link;
	init_waitqueue_func_entry(&e->wait, rpmsg_eth_bus_woke);
	add_wait_queue(wqh, &e->wait);
}

/*
 * Register with the bus's poll (rpmsg_poll(): glink, smd, ...). Returns
 * false when the bus has no poll operation (virtio), which queues nothing.
 */
static bool rpmsg_eth_bus_wait_start(struct rpmsg_eth_link *link)
{
	struct rpmsg_eth_bus_wait *bw = &link->bus_wait;

	bw->link = link;
	bw->n = 0;
	init_poll_funcptr(&bw->pt, rpmsg_eth_bus_queue);
	WRITE_ONCE(link->bus_progress, false);
	rpmsg_eth_bus_poll(link->ept, &bw->pt);
	return bw->n > 0;
}

static void rpmsg_eth_bus_wait_end(struct rpmsg_eth_link *link)
{
	struct rpmsg_eth_bus_wait *bw = &link->bus_wait;

	while (bw->n) {
		bw->n--;
		remove_wait_queue(bw->e[bw->n].wqh, &bw->e[bw->n].wait);
	}
}

static bool rpmsg_eth_tx_stopping(struct rpmsg_eth_link *link)
{
	return rpmsg_eth_link_dead(link) || kthread_should_stop();
}

/*
 * The head frame found the ring full: try again whenever the bus reports
 * progress through its poll operation, or, on a bus without one (virtio,
 * whose blocking send busy-loops on a signal and cannot be stopped), after
 * a delay that starts at RPMSG_ETH_RETRY_MIN_US and doubles up to
 * RPMSG_ETH_RETRY_MAX_US while nothing moves (RPMSG_ETH_RETRY_STALLED_US
 * once stalled). A wait longer than stall_ms is a stall. Called by the
 * thread without tx_lock; the frame stays at the head of txq meanwhile, so
 * writers queue behind it. Returns the send's result, or -EPIPE when the
 * link is stopping (rpmsg_eth_tx_stopping()).
 */
static int rpmsg_eth_send_wait(struct rpmsg_eth_link *link,
			       struct sk_buff *skb)
{
	unsigned long start = jiffies, stall;
	unsigned int delay = RPMSG_ETH_RETRY_MIN_US;
	bool polls;
	int ret;

	rpmsg_eth_count(link->chan, TX_RING_FULL, 1);
	for (;;) {
		stall = start + msecs_to_jiffies(READ_ONCE(rpmsg_eth_stall_ms));
		polls = rpmsg_eth_bus_wait_start(link);
		mutex_lock(&link->tx_lock);
		ret = link->dead ? -EPIPE : rpmsg_eth_send(link, skb);
		mutex_unlock(&link->tx_lock);
		if (ret != -ENOMEM) {
			rpmsg_eth_bus_wait_end(link);
			break;
		}
		if (!link->stalled && time_after_eq(jiffies, stall))
			rpmsg_eth_set_stalled(link, true);
		if (polls) {
			/* until the bus wakes us, or at the stall deadline */
			wait_event_interruptible_timeout(link->tx_thread_wait,
							 READ_ONCE(link->bus_progress) ||
							 rpmsg_eth_tx_stopping(link),
							 link->stalled ? HZ :
							 max_t(long, stall - jiffies, 1));
		} else {
			wait_event_interruptible_hrtimeout(link->tx_thread_wait,
							   rpmsg_eth_tx_stopping(link),
							   ns_to_ktime(delay * NSEC_PER_USEC));
			delay = min(delay * 2, link->stalled ?
				    RPMSG_ETH_RETRY_STALLED_US : RPMSG_ETH_RETRY_MAX_US);
		}
		rpmsg_eth_bus_wait_end(link);
		if (rpmsg_eth_tx_stopping(link))
			return -EPIPE;
	}
	if (!ret)
		rpmsg_eth_set_stalled(link, false);
	return ret;
}

/*
 * The head of txq, which only the thread removes. Under the queue's lock:
 * rpmsg_eth_link_queue() appends from any context, without tx_lock.
 */
static struct sk_buff *rpmsg_eth_txq_head(struct rpmsg_eth_link *link)
{
	unsigned long flags;
	struct sk_buff *skb;

	spin_lock_irqsave(&link->txq.lock, flags);
	skb = skb_peek(&link->txq);
	spin_unlock_irqrestore(&link->txq.lock, flags);
	return skb;
}

/*
 * @skb left the queue, @ret the result of its send: a frame is counted
 * once, at its last message, as sent or as tx_drop_error when any of its
 * messages failed. A failed control message is only logged (its sender
 * repeats it).
 */
static void rpmsg_eth_tx_done(struct rpmsg_eth_link *link, struct sk_buff *skb,
			      int ret)
{
	struct rpmsg_eth_msg_cb *cb = rpmsg_eth_msg_cb(skb);

	if (cb->control)
		return;
	if (ret)
		link->frame_failed = true;
	if (cb->more)
		return;
	if (link->frame_failed)
		rpmsg_eth_count(link->chan, TX_DROP_ERROR, 1);
	else if (link->ops->frame_sent)
		link->ops->frame_sent(link, skb);
	link->frame_failed = false;
}

static void rpmsg_eth_tx_drain(struct rpmsg_eth_link *link)
{
	struct sk_buff *skb;
	int ret;

	for (;;) {
		mutex_lock(&link->tx_lock);
		skb = link->dead ? NULL : rpmsg_eth_txq_head(link);
		ret = skb ? rpmsg_eth_send(link, skb) : 0;
		mutex_unlock(&link->tx_lock);
		if (!skb)
			return;
		if (ret == -ENOMEM) {
			ret = rpmsg_eth_send_wait(link, skb);
			/* stopping: the frame is purged with the queue */
			if (ret && rpmsg_eth_tx_stopping(link))
				return;
		}
		skb_unlink(skb, &link->txq);
		rpmsg_eth_tx_done(link, skb, ret);
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

	while (!kthread_should_stop()) {
		wait_event_interruptible(link->tx_thread_wait,
					 rpmsg_eth_tx_pending(link) ||
					 kthread_should_stop());
		rpmsg_eth_tx_drain(link);
	}
	return 0;
}

/*
 * Queue the messages of @msgs (emptied) for the thread, back to back, in
 * any context: the netdev front end transmits from softirq and answers
 * from the receive callback. The caller bounds the queue (through
 * rpmsg_eth_link_tx_room()). Once the link is stopped they are dropped
 * (frames counted as tx_drop_dead) and it returns false.
 */
bool rpmsg_eth_link_queue(struct rpmsg_eth_link *link, struct sk_buff_head *msgs)
{
	unsigned long flags;
	bool dead;

	/* dead is set under txq.lock too: after that nothing is queued */
	spin_lock_irqsave(&link->txq.lock, flags);
	dead = link->dead;
	if (!dead)
		skb_queue_splice_tail_init(msgs, &link->txq);
	spin_unlock_irqrestore(&link->txq.lock, flags);
	if (dead)
		rpmsg_eth_tx_drop_dead(link, msgs);
	else
		wake_up(&link->tx_thread_wait);
	return !dead;
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

	/* one message, one frame */
	memset(rpmsg_eth_msg_cb(skb), 0, sizeof(struct rpmsg_eth_msg_cb));
	mutex_lock(&link->tx_lock);
	if (link->dead) {
		ret = -EPIPE;
	} else if (skb_queue_empty(&link->txq) && !link->stalled) {
		ret = rpmsg_eth_send(link, skb);
		if (ret == -ENOMEM) {
			skb_queue_tail(&link->txq, skb);
			wake_up(&link->tx_thread_wait);
			ret = 0;
		} else if (!ret) {
			consume_skb(skb);
		} else {
			rpmsg_eth_count(link->chan, TX_DROP_ERROR, 1);
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
	/* the buf_size parameter only where neither the DT nor the bus tells */
	u32 size = chan->buf_size ? chan->buf_size : mtu ? 0 : rpmsg_eth_buf_size;

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

/* Dead, under both locks: nothing is sent or queued after this. */
static void rpmsg_eth_link_kill(struct rpmsg_eth_link *link)
{
	unsigned long flags;

	mutex_lock(&link->tx_lock);
	spin_lock_irqsave(&link->txq.lock, flags);
	WRITE_ONCE(link->dead, true);
	spin_unlock_irqrestore(&link->txq.lock, flags);
	mutex_unlock(&link->tx_lock);
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
	/* a netdev's link is started again after each unbind */
	link->dead = false;
	link->stalled = false;
	link->frame_failed = false;
	skb_queue_head_init(&link->txq);
	mutex_init(&link->tx_lock);
	init_waitqueue_head(&link->tx_thread_wait);

	/* max_payload bounds the receive path: set before the endpoint */
	link->max_payload = RPMSG_ETH_MAX_PAYLOAD;
	link->ept = rpmsg_eth_create_ept(rpdev, link, chan->name, chan->addr);
	if (!link->ept) {
		rpmsg_eth_link_kill(link);
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
	/* as rpmsg_eth_link_stop(): the receive callback may have queued */
	rpmsg_eth_link_kill(link);
	rpmsg_destroy_ept(link->ept);
	link->ept = NULL;
	rpmsg_eth_tx_drop_dead(link, &link->txq);
	return ret;
}

/*
 * Unbind: after this nothing sends on or receives from the endpoint, the
 * thread is gone and queued frames are counted as tx_drop_dead. The front
 * end wakes its own waiters afterwards (they see rpmsg_eth_link_dead()).
 */
void rpmsg_eth_link_stop(struct rpmsg_eth_link *link)
{
	rpmsg_eth_link_kill(link);
	/* a thread waiting for ring room sees dead and returns */
	wake_up(&link->tx_thread_wait);
	kthread_stop(link->tx_thread);
	/* after this the receive callback does not run any more */
	rpmsg_destroy_ept(link->ept);
	link->ept = NULL;
	link->rpdev = NULL;
	/* dead: nothing is queued any more, the thread is gone */
	rpmsg_eth_tx_drop_dead(link, &link->txq);
}
