// SPDX-License-Identifier: GPL-2.0
/*
 * The network interface front end of rpmsg_eth: interface rpmsg<N> for each
 * channel in netdev mode, on the same link (channel lifetime) code as the
 * character device.
 *
 * Lifetime: the interface is registered at load, carrier off, and
 * unregistered at unload. A binding (probe to remove) starts and stops the
 * channel's link under it, so its addresses, the namespace it was moved to
 * and its statistics survive the remote going away and coming back. Carrier
 * is on while bound, the link not stalled and (frag framing) the probe of
 * the peer answered or given up (frag/wire-spec.md, section 6).
 *
 * Receive: the link's rx callback, in any context (hard IRQ included): one
 * message is one frame (raw framing) or goes through the frag receiver;
 * the frame is copied into an skb and handed to netif_rx().
 * Transmit: the bus's send may sleep, so ndo_start_xmit() queues the
 * frame's messages on the link, whose thread sends them; the queue stops
 * when the link's transmit queue is full and the thread's tx_room callback
 * wakes it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "rpmsg_eth.h"
#include "rpmsg_eth_compat.h"
#include "rpmsg_eth_sizes.h"
#include "rpmsg_frag.h"

/* Drops of the interface the channel counters have no reason for. */
enum rpmsg_eth_nd_counter {
	ND_RX_DROP_RUNT,	/* a raw message shorter than an Ethernet header */
	ND_TX_DROP_OVERSIZE,	/* a frame larger than a message (raw framing) */
	ND_TX_DROP_NOMEM,	/* no memory for a fragment */
	ND_TX_FRAMES,		/* frames sent (every message of them) */
	ND_TX_FRAME_BYTES,
	ND_FRAG_CONTROL_DROPPED, /* a control message: queue full, link gone */
	ND_NR_COUNTERS,
};

/* ethtool -S after rpmsg_eth_counter_names: ND_* up to the frames */
#define ND_NR_STATS ND_TX_FRAMES
static const char * const rpmsg_eth_nd_stat_names[ND_NR_STATS] = {
	"rx_drop_runt", "tx_drop_oversize", "tx_drop_nomem",
};

/* frag channels only: the receiver's failures, then the other counters */
static const char * const rpmsg_eth_frag_failure_stat_names[] = {
	"frag_lost", "frag_duplicate", "frag_truncated", "frag_overlong",
	"frag_bad_version", "frag_bad_header", "frag_timeout",
};

static const char * const rpmsg_eth_frag_stat_names[] = {
	"frag_fragments_received", "frag_fragments_discarded",
	"frag_frames_reassembled", "frag_raw_frames", "frag_control_received",
	"frag_fragments_sent", "frag_frames_sent", "frag_frames_oversize",
	"frag_frames_runt", "frag_control_dropped",
};

#define ND_NR_FRAG_STATS (ARRAY_SIZE(rpmsg_eth_frag_failure_stat_names) + \
			  ARRAY_SIZE(rpmsg_eth_frag_stat_names))

/**
 * struct rpmsg_eth_netdev - one interface, from load to unload
 * @ndev: the interface
 * @link: the channel's link, started while bound
 * @bound: the link is started; written under the interface's tx lock, so
 *         that ndo_start_xmit() never queues on a stopped link
 * @counters: enum rpmsg_eth_nd_counter
 * @carrier_lock: the carrier is computed and set under it, so that an
 *                update that saw the link bound never overtakes remove's
 * @frag_lock: guards @frag_rx and @frag_neg (receive runs in any context)
 * @frag_tx: the frag sender; ndo_start_xmit() only (the tx lock)
 * @frag_rx: the frag receiver
 * @frag_neg: the probe of the peer (wire-spec.md, section 6)
 * @frag_news: a change of sending mode the receive path saw, for
 *             @frag_work to log (under @frag_lock)
 * @frag_buf: @frag_rx's reassembly buffer, frag_mtu + 14 bytes
 * @frag_work: resends the probe, gives it up, times reassembly out
 */
struct rpmsg_eth_netdev {
	struct net_device *ndev;
	struct rpmsg_eth_link link;
	bool bound;
	atomic64_t counters[ND_NR_COUNTERS];
	spinlock_t carrier_lock;	/* computing and setting the carrier */
	spinlock_t frag_lock;	/* guards frag_rx, frag_neg, frag_news */
	struct rpmsg_frag_tx frag_tx;
	struct rpmsg_frag_rx frag_rx;
	struct rpmsg_frag_neg frag_neg;
	enum rpmsg_frag_neg_outcome frag_news;
	u8 *frag_buf;
	struct delayed_work frag_work;
};

#define link_to_nd(l) container_of(l, struct rpmsg_eth_netdev, link)

static struct rpmsg_eth_netdev *nd_of(struct net_device *ndev)
{
	return *(struct rpmsg_eth_netdev **)netdev_priv(ndev);
}

static void nd_count(struct rpmsg_eth_netdev *nd, enum rpmsg_eth_nd_counter c,
		     u64 n)
{
	atomic64_add(n, &nd->counters[c]);
}

static u32 nd_now_ms(void)
{
	return jiffies_to_msecs(jiffies);
}

/* The frag sending mode: RPMSG_FRAG_NEG_PROBING, _FRAG or _RAW. */
static u8 nd_frag_state(struct rpmsg_eth_netdev *nd, u32 *max_frame)
{
	unsigned long flags;
	u8 state;

	spin_lock_irqsave(&nd->frag_lock, flags);
	state = nd->frag_neg.state;
	if (max_frame)
		*max_frame = rpmsg_frag_neg_send_max_frame(&nd->frag_neg);
	spin_unlock_irqrestore(&nd->frag_lock, flags);
	return state;
}

/* Carrier: bound, not stalled, and (frag) the probe settled. */
static void nd_update_carrier(struct rpmsg_eth_netdev *nd)
{
	struct rpmsg_eth_chan *chan = nd->link.chan;
	unsigned long flags;
	bool up, changed;

	/* remove clears bound before it calls this */
	spin_lock_irqsave(&nd->carrier_lock, flags);
	up = READ_ONCE(nd->bound) && !rpmsg_eth_link_stalled(&nd->link) &&
	     (!chan->frag || nd_frag_state(nd, NULL) != RPMSG_FRAG_NEG_PROBING);
	changed = up != netif_carrier_ok(nd->ndev);
	if (changed && up)
		netif_carrier_on(nd->ndev);
	else if (changed)
		netif_carrier_off(nd->ndev);
	spin_unlock_irqrestore(&nd->carrier_lock, flags);
	if (changed && chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		netdev_info(nd->ndev, "%s: carrier %s\n", chan->name,
			    up ? "on" : "off");
}

/*
 * Queue one frag control message for sending; dropped (frag_control_dropped,
 * not a frame) when the queue is full: a peer probing a stalled link must not grow it.
 */
static void nd_queue_msg(struct rpmsg_eth_netdev *nd, const void *data,
			 unsigned int len)
{
	struct sk_buff_head msgs;
	struct sk_buff *skb;

	if (!rpmsg_eth_link_tx_room(&nd->link)) {
		nd_count(nd, ND_FRAG_CONTROL_DROPPED, 1);
		return;
	}
	skb = alloc_skb(len, GFP_ATOMIC);
	if (!skb) {
		nd_count(nd, ND_TX_DROP_NOMEM, 1);
		return;
	}
	skb_put_data(skb, data, len);
	memset(rpmsg_eth_msg_cb(skb), 0, sizeof(struct rpmsg_eth_msg_cb));
	rpmsg_eth_msg_cb(skb)->control = true;
	__skb_queue_head_init(&msgs);
	__skb_queue_tail(&msgs, skb);
	if (!rpmsg_eth_link_queue(&nd->link, &msgs))
		nd_count(nd, ND_FRAG_CONTROL_DROPPED, 1);
}

/* ---- receive: any context ---- */

/*
 * Frame @data in an skb of the interface (copied: it lives in the bus's
 * buffer or the reassembly buffer); NULL when it is dropped (counted).
 */
static struct sk_buff *nd_rx_skb(struct rpmsg_eth_netdev *nd, const void *data,
				 unsigned int len)
{
	struct rpmsg_eth_chan *chan = nd->link.chan;
	struct net_device *ndev = nd->ndev;
	struct sk_buff *skb;

	if (!netif_running(ndev)) {
		rpmsg_eth_count(chan, RX_DROP_CLOSED, 1);
		return NULL;
	}
	if (len < ETH_HLEN) {
		nd_count(nd, ND_RX_DROP_RUNT, 1);
		return NULL;
	}
	skb = netdev_alloc_skb_ip_align(ndev, len);
	if (!skb) {
		rpmsg_eth_count(chan, RX_DROP_NOMEM, 1);
		return NULL;
	}
	skb_put_data(skb, data, len);
	skb->protocol = eth_type_trans(skb, ndev);
	return skb;
}

/* Hand @skb to the stack; not with interrupts disabled (netif_rx()). */
static void nd_rx_deliver(struct rpmsg_eth_netdev *nd, struct sk_buff *skb)
{
	struct rpmsg_eth_chan *chan = nd->link.chan;
	/* eth_type_trans() pulled the Ethernet header */
	unsigned int len = skb->len + ETH_HLEN;

	if (rpmsg_eth_netif_rx(skb) != NET_RX_SUCCESS) {
		/* the backlog is full */
		rpmsg_eth_count(chan, RX_DROP_OVERFLOW, 1);
		return;
	}
	rpmsg_eth_count(chan, RX_PACKETS, 1);
	rpmsg_eth_count(chan, RX_BYTES, len);
}

/* A message with frag framing: reassemble, answer a probe. */
static void nd_rx_frag(struct rpmsg_eth_netdev *nd, void *data, int len)
{
	enum rpmsg_frag_neg_outcome outcome = RPMSG_FRAG_NEG_SAME;
	u8 reply[RPMSG_FRAG_CONTROL_LEN];
	enum rpmsg_frag_rx_result res;
	struct sk_buff *skb = NULL;
	const u8 *frame;
	u32 flen, rlen = 0;
	unsigned long flags;
	bool assembling;

	spin_lock_irqsave(&nd->frag_lock, flags);
	res = rpmsg_frag_rx_push(&nd->frag_rx, data, len, nd_now_ms(), &frame,
				 &flen);
	/* the frame stays valid until the next push: copy it now */
	if (res == RPMSG_FRAG_RX_FRAME)
		skb = nd_rx_skb(nd, frame, flen);
	else if (res == RPMSG_FRAG_RX_CONTROL)
		outcome = rpmsg_frag_neg_on_control(&nd->frag_neg, data, len,
						    reply, sizeof(reply), &rlen);
	if (outcome != RPMSG_FRAG_NEG_SAME)
		nd->frag_news = outcome;
	assembling = rpmsg_eth_frag_rx_assembling(&nd->frag_rx);
	spin_unlock_irqrestore(&nd->frag_lock, flags);
	if (skb)
		nd_rx_deliver(nd, skb);
	if (rlen)
		nd_queue_msg(nd, reply, rlen);
	/* the work sets the carrier, or times the frame in progress out */
	if (outcome != RPMSG_FRAG_NEG_SAME)
		mod_delayed_work(system_wq, &nd->frag_work, 0);
	else if (assembling)
		schedule_delayed_work(&nd->frag_work,
				      msecs_to_jiffies(RPMSG_FRAG_TIMEOUT_MS + 10));
}

static void rpmsg_eth_nd_rx(struct rpmsg_eth_link *link, void *data, int len)
{
	struct rpmsg_eth_netdev *nd = link_to_nd(link);
	struct sk_buff *skb;

	if (link->chan->frag) {
		nd_rx_frag(nd, data, len);
		return;
	}
	skb = nd_rx_skb(nd, data, len);
	if (skb)
		nd_rx_deliver(nd, skb);
}

/* The link's queue has room again (its thread). */
static void rpmsg_eth_nd_tx_room(struct rpmsg_eth_link *link)
{
	struct rpmsg_eth_netdev *nd = link_to_nd(link);

	/* pairs with the barrier in ndo_start_xmit() */
	smp_mb();
	if (netif_queue_stopped(nd->ndev) && READ_ONCE(nd->bound) &&
	    skb_queue_len(&link->txq) <= rpmsg_eth_tx_queue_len / 2) {
		/* NET_TX runs at local_bh_enable(), not from ksoftirqd */
		local_bh_disable();
		netif_wake_queue(nd->ndev);
		local_bh_enable();
	}
}

/* All messages of a frame were sent: the interface's tx statistics. */
static void rpmsg_eth_nd_frame_sent(struct rpmsg_eth_link *link,
				    struct sk_buff *skb)
{
	struct rpmsg_eth_netdev *nd = link_to_nd(link);

	nd_count(nd, ND_TX_FRAMES, 1);
	nd_count(nd, ND_TX_FRAME_BYTES, rpmsg_eth_msg_cb(skb)->frame_len);
}

static void rpmsg_eth_nd_state_changed(struct rpmsg_eth_link *link)
{
	nd_update_carrier(link_to_nd(link));
}

static const struct rpmsg_eth_link_ops rpmsg_eth_nd_link_ops = {
	.rx = rpmsg_eth_nd_rx,
	.tx_room = rpmsg_eth_nd_tx_room,
	.state_changed = rpmsg_eth_nd_state_changed,
	.frame_sent = rpmsg_eth_nd_frame_sent,
};

/* Probe resends, the fallback to raw, reassembly timeouts; and carrier. */
static void nd_frag_work(struct work_struct *work)
{
	struct rpmsg_eth_netdev *nd = container_of(to_delayed_work(work),
						   struct rpmsg_eth_netdev,
						   frag_work);
	enum rpmsg_frag_neg_outcome outcome, news;
	u8 msg[RPMSG_FRAG_CONTROL_LEN];
	u32 now = nd_now_ms(), len, next;
	bool assembling;

	if (!READ_ONCE(nd->bound))
		return;
	spin_lock_irq(&nd->frag_lock);
	outcome = rpmsg_frag_neg_poll(&nd->frag_neg, now, msg, sizeof(msg),
				      &len);
	rpmsg_frag_rx_tick(&nd->frag_rx, now);
	next = rpmsg_frag_neg_next_poll(&nd->frag_neg, now);
	assembling = rpmsg_eth_frag_rx_assembling(&nd->frag_rx);
	news = nd->frag_news;
	nd->frag_news = RPMSG_FRAG_NEG_SAME;
	spin_unlock_irq(&nd->frag_lock);
	if (len)
		nd_queue_msg(nd, msg, len);
	/* once per change, not on every run while the carrier is off */
	if (outcome == RPMSG_FRAG_NEG_TO_RAW)
		netdev_warn(nd->ndev, "%s: the remote does not answer the frag probe: sending raw frames, up to %u bytes\n",
			    nd->link.chan->name, nd->link.max_payload);
	if (news == RPMSG_FRAG_NEG_TO_FRAG)
		netdev_info(nd->ndev, "%s: the remote speaks frag\n",
			    nd->link.chan->name);
	nd_update_carrier(nd);
	if (next)
		schedule_delayed_work(&nd->frag_work, msecs_to_jiffies(next));
	else if (assembling)
		schedule_delayed_work(&nd->frag_work,
				      msecs_to_jiffies(RPMSG_FRAG_TIMEOUT_MS + 10));
}

/* ---- transmit: softirq, the interface's tx lock held ---- */

/* Cut @skb into frag messages on @msgs; false if it cannot be sent. */
static bool nd_frag_msgs(struct rpmsg_eth_netdev *nd, struct sk_buff *skb,
			 u32 max_frame, struct sk_buff_head *msgs)
{
	u32 payload = nd->link.max_payload, n, i, len;
	struct sk_buff *m;

	rpmsg_frag_tx_set_max_frame(&nd->frag_tx, max_frame);
	/* counted by the sender when refused */
	n = rpmsg_frag_tx_begin(&nd->frag_tx, skb->len);
	for (i = 0; i < n; i++) {
		m = alloc_skb(payload, GFP_ATOMIC);
		if (!m) {
			/* the sequence number is spent: the peer counts a gap */
			nd_count(nd, ND_TX_DROP_NOMEM, 1);
			__skb_queue_purge(msgs);
			return false;
		}
		len = rpmsg_frag_tx_fragment(&nd->frag_tx, skb->data, skb->len,
					     i, skb_tail_pointer(m), payload);
		skb_put(m, len);
		/* the frame counts once, at its last fragment */
		rpmsg_eth_msg_cb(m)->more = i + 1 < n;
		rpmsg_eth_msg_cb(m)->control = false;
		rpmsg_eth_msg_cb(m)->frame_len = i + 1 < n ? 0 : skb->len;
		__skb_queue_tail(msgs, m);
	}
	return n > 0;
}

/* @skb as one raw message on @msgs; false if it cannot be sent. */
static bool nd_raw_msg(struct rpmsg_eth_netdev *nd, struct sk_buff *skb,
		       struct sk_buff_head *msgs)
{
	/* a frag channel sending raw must not send what looks like frag */
	if (skb->len > nd->link.max_payload ||
	    (nd->link.chan->frag &&
	     rpmsg_frag_has_signature(skb->data, skb->len))) {
		nd_count(nd, ND_TX_DROP_OVERSIZE, 1);
		return false;
	}
	/* skb->cb is the driver's from here */
	memset(rpmsg_eth_msg_cb(skb), 0, sizeof(struct rpmsg_eth_msg_cb));
	rpmsg_eth_msg_cb(skb)->frame_len = skb->len;
	__skb_queue_tail(msgs, skb);
	return true;
}

static netdev_tx_t rpmsg_eth_nd_xmit(struct sk_buff *skb,
				     struct net_device *ndev)
{
	struct rpmsg_eth_netdev *nd = nd_of(ndev);
	struct rpmsg_eth_link *link = &nd->link;
	struct sk_buff_head msgs;
	u32 max_frame;
	bool ok;
	u8 state;

	__skb_queue_head_init(&msgs);
	if (!READ_ONCE(nd->bound)) {
		rpmsg_eth_count(link->chan, TX_DROP_DEAD, 1);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* the interface has no NETIF_F_SG: skb is linear */
	state = link->chan->frag ? nd_frag_state(nd, &max_frame) :
		RPMSG_FRAG_NEG_RAW;
	if (state == RPMSG_FRAG_NEG_FRAG) {
		ok = nd_frag_msgs(nd, skb, max_frame, &msgs);
		if (ok)
			dev_consume_skb_any(skb);
		else
			dev_kfree_skb_any(skb);
	} else if (state == RPMSG_FRAG_NEG_RAW) {
		ok = nd_raw_msg(nd, skb, &msgs);
		if (!ok)
			dev_kfree_skb_any(skb);
	} else {
		/* probing the peer: carrier is off, this one slipped through */
		rpmsg_eth_count(link->chan, TX_DROP_DEAD, 1);
		dev_kfree_skb_any(skb);
		ok = false;
	}
	if (!ok)
		return NETDEV_TX_OK;
	/* bound: the link is not stopped (remove waits for the tx lock) */
	rpmsg_eth_link_queue(link, &msgs);
	if (!rpmsg_eth_link_tx_room(link)) {
		netif_stop_queue(ndev);
		/* the thread may have drained meanwhile: see tx_room */
		smp_mb();
		if (skb_queue_len(&link->txq) <= rpmsg_eth_tx_queue_len / 2)
			netif_start_queue(ndev);
	}
	return NETDEV_TX_OK;
}

static int rpmsg_eth_nd_open(struct net_device *ndev)
{
	netif_start_queue(ndev);
	return 0;
}

static int rpmsg_eth_nd_stop(struct net_device *ndev)
{
	netif_stop_queue(ndev);
	return 0;
}

/* Frames for the stack's statistics; drops by reason under ethtool -S. */
static void rpmsg_eth_nd_get_stats64(struct net_device *ndev,
				     struct rtnl_link_stats64 *s)
{
	struct rpmsg_eth_netdev *nd = nd_of(ndev);
	struct rpmsg_eth_chan *chan = nd->link.chan;
	u64 c[RPMSG_ETH_NR_COUNTERS];
	unsigned int i;

	for (i = 0; i < RPMSG_ETH_NR_COUNTERS; i++)
		c[i] = atomic64_read(&chan->counters[i]);
	s->rx_packets = c[RX_PACKETS];
	s->rx_bytes = c[RX_BYTES];
	/* not rx_drop_overflow: the core counts its backlog's drops itself */
	s->rx_dropped = c[RX_DROP_NOMEM] + c[RX_DROP_CLOSED] +
			c[RX_DROP_FLUSHED];
	s->rx_length_errors = c[RX_DROP_EMPTY] + c[RX_DROP_OVERSIZE] +
			      atomic64_read(&nd->counters[ND_RX_DROP_RUNT]);
	s->rx_errors = s->rx_length_errors;
	if (chan->frag)
		for (i = 0; i < RPMSG_FRAG_NFAILURES; i++)
			s->rx_errors += READ_ONCE(nd->frag_rx.failures[i]);
	s->tx_packets = atomic64_read(&nd->counters[ND_TX_FRAMES]);
	s->tx_bytes = atomic64_read(&nd->counters[ND_TX_FRAME_BYTES]);
	s->tx_dropped = c[TX_DROP_DEAD] +
			atomic64_read(&nd->counters[ND_TX_DROP_OVERSIZE]) +
			atomic64_read(&nd->counters[ND_TX_DROP_NOMEM]);
	if (chan->frag)
		s->tx_dropped += READ_ONCE(nd->frag_tx.frames_oversize) +
				 READ_ONCE(nd->frag_tx.frames_runt);
	s->tx_errors = c[TX_DROP_ERROR];
}

static const struct net_device_ops rpmsg_eth_nd_ops = {
	.ndo_open = rpmsg_eth_nd_open,
	.ndo_stop = rpmsg_eth_nd_stop,
	.ndo_start_xmit = rpmsg_eth_nd_xmit,
	.ndo_get_stats64 = rpmsg_eth_nd_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

/* ---- ethtool ---- */

static void rpmsg_eth_nd_get_drvinfo(struct net_device *ndev,
				     struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->version, RPMSG_ETH_VERSION, sizeof(info->version));
	strscpy(info->bus_info, nd_of(ndev)->link.chan->name,
		sizeof(info->bus_info));
}

static int rpmsg_eth_nd_get_sset_count(struct net_device *ndev, int sset)
{
	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return RPMSG_ETH_NR_COUNTERS + ND_NR_STATS +
	       (nd_of(ndev)->link.chan->frag ? ND_NR_FRAG_STATS : 0);
}

static void rpmsg_eth_nd_get_strings(struct net_device *ndev, u32 sset,
				     u8 *data)
{
	unsigned int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < RPMSG_ETH_NR_COUNTERS; i++, data += ETH_GSTRING_LEN)
		strscpy((char *)data, rpmsg_eth_counter_names[i], ETH_GSTRING_LEN);
	for (i = 0; i < ND_NR_STATS; i++, data += ETH_GSTRING_LEN)
		strscpy((char *)data, rpmsg_eth_nd_stat_names[i], ETH_GSTRING_LEN);
	if (!nd_of(ndev)->link.chan->frag)
		return;
	for (i = 0; i < ARRAY_SIZE(rpmsg_eth_frag_failure_stat_names);
	     i++, data += ETH_GSTRING_LEN)
		strscpy((char *)data, rpmsg_eth_frag_failure_stat_names[i],
			ETH_GSTRING_LEN);
	for (i = 0; i < ARRAY_SIZE(rpmsg_eth_frag_stat_names);
	     i++, data += ETH_GSTRING_LEN)
		strscpy((char *)data, rpmsg_eth_frag_stat_names[i],
			ETH_GSTRING_LEN);
}

static void rpmsg_eth_nd_get_stats(struct net_device *ndev,
				   struct ethtool_stats *stats, u64 *data)
{
	struct rpmsg_eth_netdev *nd = nd_of(ndev);
	struct rpmsg_frag_rx *rx = &nd->frag_rx;
	struct rpmsg_frag_tx *tx = &nd->frag_tx;
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(rpmsg_eth_frag_failure_stat_names) !=
		     RPMSG_FRAG_NFAILURES);
	for (i = 0; i < RPMSG_ETH_NR_COUNTERS; i++)
		*data++ = atomic64_read(&nd->link.chan->counters[i]);
	for (i = 0; i < ND_NR_STATS; i++)
		*data++ = atomic64_read(&nd->counters[i]);
	if (!nd->link.chan->frag)
		return;
	/* 32-bit counters the receive path updates: a snapshot */
	for (i = 0; i < RPMSG_FRAG_NFAILURES; i++)
		*data++ = READ_ONCE(rx->failures[i]);
	*data++ = READ_ONCE(rx->fragments_received);
	*data++ = READ_ONCE(rx->fragments_discarded);
	*data++ = READ_ONCE(rx->frames_reassembled);
	*data++ = READ_ONCE(rx->raw_frames);
	*data++ = READ_ONCE(rx->control_received);
	*data++ = READ_ONCE(tx->fragments_sent);
	*data++ = READ_ONCE(tx->frames_sent);
	*data++ = READ_ONCE(tx->frames_oversize);
	*data++ = READ_ONCE(tx->frames_runt);
	*data++ = atomic64_read(&nd->counters[ND_FRAG_CONTROL_DROPPED]);
}

static const struct ethtool_ops rpmsg_eth_nd_ethtool_ops = {
	.get_drvinfo = rpmsg_eth_nd_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = rpmsg_eth_nd_get_sset_count,
	.get_strings = rpmsg_eth_nd_get_strings,
	.get_ethtool_stats = rpmsg_eth_nd_get_stats,
};

/* ---- binding ---- */

/* The MTU a payload of @payload bytes per message carries, 0 if none. */
static u32 nd_mtu(struct rpmsg_eth_chan *chan, u32 payload)
{
	if (chan->frag)
		return payload >= RPMSG_FRAG_MIN_PAYLOAD ? chan->frag_mtu : 0;
	return payload > ETH_HLEN ? payload - ETH_HLEN : 0;
}

/* Bind @chan's interface to @rpdev: start the link, carrier follows. */
int rpmsg_eth_netdev_probe(struct rpmsg_eth_chan *chan,
			   struct rpmsg_device *rpdev)
{
	struct rpmsg_eth_netdev *nd = chan->netdev_fe;
	struct net_device *ndev = nd->ndev;
	struct rpmsg_frag_tx was = nd->frag_tx;
	u8 msg[RPMSG_FRAG_CONTROL_LEN];
	u32 mtu, len = 0;
	int ret;

	lockdep_assert_held(&rpmsg_eth_lock);
	if (chan->frag) {
		/* the link delivers from now on: nothing of the last binding */
		spin_lock_irq(&nd->frag_lock);
		rpmsg_frag_rx_reset(&nd->frag_rx);
		spin_unlock_irq(&nd->frag_lock);
	}
	ret = rpmsg_eth_link_start(&nd->link, chan, rpdev,
				   &rpmsg_eth_nd_link_ops);
	if (ret)
		goto cancel;
	mtu = nd_mtu(chan, nd->link.max_payload);
	if (!mtu) {
		dev_err(&rpdev->dev, "%s: messages of %u bytes carry no %s frame\n",
			chan->name, nd->link.max_payload,
			chan->frag ? "frag" : "Ethernet");
		rpmsg_eth_link_stop(&nd->link);
		ret = -EINVAL;
		goto cancel;
	}
	/* the bus may carry less than the buffer size said at load */
	rtnl_lock();
	ndev->max_mtu = mtu;
	ndev->min_mtu = min_t(u32, ETH_MIN_MTU, mtu);
	if (ndev->mtu > mtu)
		ret = dev_set_mtu(ndev, mtu);
	rtnl_unlock();
	if (ret)
		netdev_err(ndev, "MTU %u: %d\n", mtu, ret);

	if (chan->frag) {
		/* a new sender (seq 0, as the probe tells the peer); counts stay */
		rpmsg_frag_tx_init(&nd->frag_tx, nd->link.max_payload);
		nd->frag_tx.fragments_sent = was.fragments_sent;
		nd->frag_tx.frames_sent = was.frames_sent;
		nd->frag_tx.frames_oversize = was.frames_oversize;
		nd->frag_tx.frames_runt = was.frames_runt;
		spin_lock_irq(&nd->frag_lock);
		len = rpmsg_frag_neg_start(&nd->frag_neg, nd_now_ms(),
					   get_random_u32(), msg, sizeof(msg));
		nd->frag_news = RPMSG_FRAG_NEG_SAME;
		spin_unlock_irq(&nd->frag_lock);
	}
	netif_tx_lock_bh(ndev);
	WRITE_ONCE(nd->bound, true);
	netif_tx_unlock_bh(ndev);
	if (len) {
		nd_queue_msg(nd, msg, len);
		schedule_delayed_work(&nd->frag_work,
				      msecs_to_jiffies(RPMSG_FRAG_PROBE_RESEND_MS));
	}
	/* a queue stopped when the last binding went */
	if (netif_running(ndev))
		netif_wake_queue(ndev);
	chan->binding = nd;
	nd_update_carrier(nd);
	if (chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		netdev_info(ndev, "%s: 0x%x -> 0x%x, max payload %u, MTU %u%s\n",
			    chan->name, chan->addr, chan->remote,
			    nd->link.max_payload, ndev->mtu,
			    chan->frag ? ", frag framing: probing the remote" : "");
	return 0;

cancel:
	/* the receive callback may have scheduled it while the link ran */
	cancel_delayed_work_sync(&nd->frag_work);
	return ret;
}

/* Unbind: carrier off, the link stopped; the interface stays. */
void rpmsg_eth_netdev_remove(struct rpmsg_eth_chan *chan)
{
	struct rpmsg_eth_netdev *nd = chan->netdev_fe;
	struct net_device *ndev = nd->ndev;

	/* after this ndo_start_xmit() queues nothing on the link */
	netif_tx_lock_bh(ndev);
	WRITE_ONCE(nd->bound, false);
	netif_tx_unlock_bh(ndev);
	nd_update_carrier(nd);
	/* the receive callback does not run after this */
	rpmsg_eth_link_stop(&nd->link);
	if (chan->frag)
		cancel_delayed_work_sync(&nd->frag_work);
	if (chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		netdev_info(ndev, "%s went away\n", chan->name);
	rpmsg_eth_unbound(chan);
}

/* ---- load and unload ---- */

static void nd_free(struct rpmsg_eth_chan *chan)
{
	struct rpmsg_eth_netdev *nd = chan->netdev_fe;

	if (!nd)
		return;
	/* remove cancelled it; whatever ran since must not outlive nd */
	cancel_delayed_work_sync(&nd->frag_work);
	if (nd->ndev->reg_state == NETREG_REGISTERED)
		unregister_netdev(nd->ndev);
	kfree(nd->frag_buf);
	free_netdev(nd->ndev);
	kfree(nd);
	chan->netdev_fe = NULL;
}

static int nd_create(struct rpmsg_eth_chan *chan)
{
	u32 size = chan->buf_size ? chan->buf_size : rpmsg_eth_buf_size;
	u32 mtu = nd_mtu(chan, rpmsg_eth_max_payload(0, size));
	struct rpmsg_eth_netdev *nd;
	struct net_device *ndev;
	char name[IFNAMSIZ];
	int ret;

	if (!mtu) {
		pr_err("channel %u %s: buffers of %u bytes carry no %s frame\n",
		       chan->num, chan->name, size, chan->frag ? "frag" : "Ethernet");
		return -EINVAL;
	}
	/* the front end is separate: the link's alignment is its own */
	nd = kzalloc(sizeof(*nd), GFP_KERNEL);
	if (!nd)
		return -ENOMEM;
	snprintf(name, sizeof(name), "rpmsg%u", chan->num);
	ndev = alloc_netdev(sizeof(nd), name, NET_NAME_PREDICTABLE, ether_setup);
	if (!ndev) {
		kfree(nd);
		return -ENOMEM;
	}
	*(struct rpmsg_eth_netdev **)netdev_priv(ndev) = nd;
	nd->ndev = ndev;
	nd->link.chan = chan;
	skb_queue_head_init(&nd->link.txq);
	spin_lock_init(&nd->carrier_lock);
	spin_lock_init(&nd->frag_lock);
	INIT_DELAYED_WORK(&nd->frag_work, nd_frag_work);
	chan->netdev_fe = nd;
	if (chan->frag) {
		nd->frag_buf = kmalloc(chan->frag_mtu + ETH_HLEN, GFP_KERNEL);
		if (!nd->frag_buf) {
			nd_free(chan);
			return -ENOMEM;
		}
		rpmsg_frag_rx_init(&nd->frag_rx, nd->frag_buf,
				   chan->frag_mtu + ETH_HLEN, 0);
		rpmsg_frag_neg_init(&nd->frag_neg, chan->frag_mtu + ETH_HLEN,
				    0, 0);
	}
	ndev->netdev_ops = &rpmsg_eth_nd_ops;
	ndev->ethtool_ops = &rpmsg_eth_nd_ethtool_ops;
	ndev->mtu = mtu;
	ndev->max_mtu = mtu;
	ndev->min_mtu = min_t(u32, ETH_MIN_MTU, mtu);
	eth_hw_addr_random(ndev);
	netif_carrier_off(ndev);
	ret = register_netdev(ndev);
	if (ret) {
		pr_err("channel %u %s: cannot register %s: %d%s\n", chan->num,
		       chan->name, name, ret,
		       ret == -EEXIST ? " (an interface of that name exists: the daemon's?)" : "");
		nd_free(chan);
		return ret;
	}
	/* not "channel N ...": those lines are the channel table */
	pr_info("interface %s for channel %u (%s), MTU %u%s\n", ndev->name,
		chan->num, chan->name, mtu, chan->frag ? ", frag framing" : "");
	return 0;
}

int rpmsg_eth_netdev_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < rpmsg_eth_nr_chans; i++) {
		if (!rpmsg_eth_chans[i].netdev)
			continue;
		ret = nd_create(&rpmsg_eth_chans[i]);
		if (ret) {
			rpmsg_eth_netdev_exit();
			return ret;
		}
	}
	return 0;
}

/* After the driver is gone: every link is stopped. */
void rpmsg_eth_netdev_exit(void)
{
	unsigned int i;

	for (i = 0; i < rpmsg_eth_nr_chans; i++)
		nd_free(&rpmsg_eth_chans[i]);
}
