// SPDX-License-Identifier: GPL-2.0-only
/*
 * rpmsg_vx_emu, framing=frag: the remote speaks the frag framing of
 * frag/wire-spec.md through the one implementation, frag/rpmsg_frag.c
 * (on the include path from Kbuild, not copied), as a VxWorks END driver
 * would embed it (wire-spec.md, section 8): it reassembles what Linux
 * sends, answers Linux's PROBE, and fragments vx<N>'s frames once Linux
 * has shown that it speaks frag (until then it sends them raw).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "rpmsg_frag.c"

#include "vx_emu.h"

struct emu_frag {
	spinlock_t lock;		/* guards rx, linux_speaks_frag */
	struct rpmsg_frag_rx rx;
	struct rpmsg_frag_tx tx;	/* vx<N>'s transmit path only */
	bool linux_speaks_frag;		/* a PROBE or PROBE_REPLY came */
	u8 buf[RPMSG_FRAG_MAX_FRAME];
};

int emu_frag_add(struct emu_chan *ch)
{
	struct emu_frag *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	spin_lock_init(&f->lock);
	rpmsg_frag_rx_init(&f->rx, f->buf, sizeof(f->buf), 0);
	rpmsg_frag_tx_init(&f->tx, EMU_BUF_SIZE - EMU_HDR_SIZE);
	ch->frag = f;
	return 0;
}

void emu_frag_free(struct emu_chan *ch)
{
	kfree(ch->frag);
	ch->frag = NULL;
}

/* Send the PROBE_REPLY to Linux's PROBE @p. */
static void emu_frag_reply(struct emu_chan *ch, const struct rpmsg_frag_probe *p)
{
	struct rpmsg_frag_probe r = {
		.type = RPMSG_FRAG_PROBE_REPLY,
		.version = RPMSG_FRAG_VERSION,
		.max_frame = RPMSG_FRAG_MAX_FRAME,
		.nonce = p->nonce,
	};
	struct sk_buff_head msgs;
	struct sk_buff *skb;

	skb = alloc_skb(RPMSG_FRAG_CONTROL_LEN, GFP_ATOMIC);
	if (!skb) {
		atomic64_inc(&ch->tx_dropped);
		return;
	}
	skb_put(skb, rpmsg_frag_probe_build(&r, skb->data, RPMSG_FRAG_CONTROL_LEN));
	__skb_queue_head_init(&msgs);
	__skb_queue_tail(&msgs, skb);
	emu_queue_msgs(ch, &msgs);
}

/* A message from Linux (any context): a frame, a fragment, a probe. */
void emu_frag_rx(struct emu_chan *ch, const void *data, unsigned int len)
{
	struct emu_frag *f = ch->frag;
	struct rpmsg_frag_probe p;
	enum rpmsg_frag_rx_result res;
	struct sk_buff *skb = NULL;
	bool probe = false;
	unsigned long flags;
	const u8 *frame;
	u32 flen;

	spin_lock_irqsave(&f->lock, flags);
	res = rpmsg_frag_rx_push(&f->rx, data, len, jiffies_to_msecs(jiffies),
				 &frame, &flen);
	if (res == RPMSG_FRAG_RX_FRAME) {
		/* valid until the next push: copied now */
		skb = emu_frame_skb(ch, frame, flen);
	} else if (res == RPMSG_FRAG_RX_CONTROL &&
		   !rpmsg_frag_probe_parse(data, len, &p)) {
		f->linux_speaks_frag = true;
		probe = p.type == RPMSG_FRAG_PROBE;
	}
	spin_unlock_irqrestore(&f->lock, flags);
	if (skb)
		emu_frame_up(ch, skb);
	if (probe)
		emu_frag_reply(ch, &p);
}

/*
 * vx<N>'s frame @skb (linear) as messages on @msgs: fragments once Linux
 * speaks frag, else the frame itself, raw (a copy). False: dropped.
 */
bool emu_frag_msgs(struct emu_chan *ch, struct sk_buff *skb,
		   struct sk_buff_head *msgs)
{
	u32 payload = EMU_BUF_SIZE - EMU_HDR_SIZE, n, i;
	struct emu_frag *f = ch->frag;
	struct sk_buff *m;

	if (!READ_ONCE(f->linux_speaks_frag)) {
		m = skb_copy(skb, GFP_ATOMIC);
		if (!m)
			return false;
		__skb_queue_tail(msgs, m);
		return true;
	}
	n = rpmsg_frag_tx_begin(&f->tx, skb->len);
	for (i = 0; i < n; i++) {
		m = alloc_skb(payload, GFP_ATOMIC);
		if (!m) {
			__skb_queue_purge(msgs);
			return false;
		}
		skb_put(m, rpmsg_frag_tx_fragment(&f->tx, skb->data, skb->len,
						  i, m->data, payload));
		__skb_queue_tail(msgs, m);
	}
	return n > 0;
}
