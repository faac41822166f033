/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rpmsg_eth internals shared by its parts:
 *  rpmsg_eth_main.c    parameters, the rpmsg driver, module load/unload
 *  rpmsg_eth_config.c  the channel table (device tree or parameters)
 *  rpmsg_eth_link.c    the channel lifetime: one binding's endpoint,
 *                      transmit queue and thread, stall detection
 *  rpmsg_eth_cdev.c    the character device front end /dev/rpmsg-eth<N>
 *  rpmsg_eth_netdev.c  the network interface front end rpmsg<N>
 *  rpmsg_eth_frag.c    the frag framing (frag/rpmsg_frag.c) for it
 * A front end embeds a struct rpmsg_eth_link, starts it on probe, stops it
 * on remove, and is called back through struct rpmsg_eth_link_ops.
 */
#ifndef RPMSG_ETH_H
#define RPMSG_ETH_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rpmsg.h>
#include <linux/skbuff.h>
#include <linux/types.h>
#include <linux/wait.h>

#define RPMSG_ETH_VERSION	"1.1.0"
#define RPMSG_ETH_MAX_CHANNELS	64

/* module parameters read by more than one part */
extern char *rpmsg_eth_channels_param;
extern char *rpmsg_eth_remote_addrs_param;
extern unsigned int rpmsg_eth_buf_size;
extern unsigned int rpmsg_eth_rx_queue_len;
extern unsigned int rpmsg_eth_tx_queue_len;
extern unsigned int rpmsg_eth_stall_ms;
extern unsigned int rpmsg_eth_loglevel;
extern char *rpmsg_eth_netdev_param;
extern char *rpmsg_eth_frag_param;
extern unsigned int rpmsg_eth_frag_mtu;

/* frag framing: the MTU when nothing says otherwise, and the largest */
#define RPMSG_ETH_FRAG_MTU_DEFAULT	1500U
#define RPMSG_ETH_FRAG_MTU_MAX		9000U

enum rpmsg_eth_loglevel {
	RPMSG_ETH_LOG_ERR,
	RPMSG_ETH_LOG_EVENT,
	RPMSG_ETH_LOG_FRAME,
};

/* The counters in the order of struct rpmsg_eth_counters. */
enum rpmsg_eth_counter {
	RX_PACKETS, RX_BYTES, TX_PACKETS, TX_BYTES,
	RX_DROP_OVERFLOW, RX_DROP_NOMEM, RX_DROP_CLOSED, RX_DROP_EMPTY,
	RX_DROP_FLUSHED, TX_DROP_ERROR, TX_DROP_DEAD, TX_RING_FULL,
	RX_DROP_OVERSIZE, TX_STALLS,
	RPMSG_ETH_NR_COUNTERS,
};

extern const char * const rpmsg_eth_counter_names[RPMSG_ETH_NR_COUNTERS];

/* One configured channel; lives as long as the module. */
struct rpmsg_eth_chan {
	char name[RPMSG_NAME_SIZE];
	u32 num;		/* channel-num: the N of rpmsg-ethN */
	u32 addr;		/* local eth-dev endpoint address */
	u32 remote;		/* where frames are sent */
	u32 buf_size;		/* from the device tree; 0: unknown */
	u32 num_bufs;		/* from the device tree; 0: unknown */
	unsigned int index;	/* position in the table: the minor number */
	bool netdev;		/* served as interface rpmsg<num>, not a cdev */
	bool frag;		/* netdev with frag framing */
	u32 frag_mtu;		/* its MTU with frag framing */
	void *netdev_fe;	/* the netdev front end, load to unload */
	unsigned int loglevel;
	atomic64_t counters[RPMSG_ETH_NR_COUNTERS];
	/* under rpmsg_eth_lock: the front end's binding, if any */
	void *binding;
	/* a device for this channel was refused while it was bound */
	bool waiting;
};

extern struct rpmsg_eth_chan *rpmsg_eth_chans;
extern unsigned int rpmsg_eth_nr_chans;
extern struct mutex rpmsg_eth_lock;

static inline void rpmsg_eth_count(struct rpmsg_eth_chan *chan,
				   enum rpmsg_eth_counter c, u64 n)
{
	atomic64_add(n, &chan->counters[c]);
}

int rpmsg_eth_config(void);
void rpmsg_eth_config_free(void);
struct rpmsg_eth_chan *rpmsg_eth_find_chan(const char *name);

struct rpmsg_eth_link;

/*
 * Delays between two tries on a full ring of a bus without poll: the
 * first, the longest, and the longest once the link is stalled.
 */
#define RPMSG_ETH_RETRY_MIN_US		20U
#define RPMSG_ETH_RETRY_MAX_US		2000U
#define RPMSG_ETH_RETRY_STALLED_US	50000U

/* The transmit thread's hook on the bus's poll (rpmsg_poll()). */
struct rpmsg_eth_bus_wait {
	poll_table pt;
	struct rpmsg_eth_link *link;
	struct rpmsg_eth_bus_entry {
		wait_queue_head_t *wqh;
		struct wait_queue_entry wait;
		struct rpmsg_eth_link *link;
	} e[2];
	unsigned int n;
};

/**
 * struct rpmsg_eth_link_ops - how a link calls its front end
 * @rx: a message arrived; may run in hard-IRQ context
 * @tx_room: the transmit queue has room again
 * @state_changed: the link became stalled or came back (any context)
 * @frame_sent: optional: the last message of a frame was sent, and every
 *              message before it (the link's thread)
 */
struct rpmsg_eth_link_ops {
	void (*rx)(struct rpmsg_eth_link *link, void *data, int len);
	void (*tx_room)(struct rpmsg_eth_link *link);
	void (*state_changed)(struct rpmsg_eth_link *link);
	void (*frame_sent)(struct rpmsg_eth_link *link, struct sk_buff *skb);
};

/**
 * struct rpmsg_eth_msg_cb - what a queued message is (its skb->cb)
 * @more: a later message of the same frame follows (frag fragments)
 * @control: carries no frame (a frag control message)
 * @frame_len: the front end's: the length of the frame this message ends
 *
 * All zero: one message is one frame. Sent frames and tx_drop_dead and
 * tx_drop_error count frames: once each, at the frame's last message.
 */
struct rpmsg_eth_msg_cb {
	bool more;
	bool control;
	u32 frame_len;
};

static inline struct rpmsg_eth_msg_cb *rpmsg_eth_msg_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct rpmsg_eth_msg_cb) > sizeof(skb->cb));
	return (struct rpmsg_eth_msg_cb *)skb->cb;
}

/**
 * struct rpmsg_eth_link - one binding of a channel to an rpmsg device
 * @chan: the channel
 * @ops: the front end's callbacks
 * @rpdev: the rpmsg device, while bound
 * @ept: the eth-dev endpoint, while bound
 * @max_payload: largest frame, bounded by the bus and RPMSG_ETH_MAX_PAYLOAD
 * @buf_size: rpmsg buffer size, 0 if unknown
 * @dead: unbound; set under @tx_lock and @txq's lock, read with READ_ONCE
 *        elsewhere
 * @stalled: the ring has not taken a frame for stall_ms (written by
 *            @tx_thread only)
 * @txq: frames waiting for a ring buffer, sent by @tx_thread
 * @frame_failed: a message of the frame being sent failed (@tx_thread)
 * @tx_lock: serializes sending; guards @dead and @ept
 * @tx_thread: drains @txq, waiting on the bus for room
 * @tx_thread_wait: wakes @tx_thread
 * @bus_wait: @tx_thread's entries on the bus's waitqueues
 * @bus_progress: the bus woke @tx_thread
 */
struct rpmsg_eth_link {
	struct rpmsg_eth_chan *chan;
	const struct rpmsg_eth_link_ops *ops;
	struct rpmsg_device *rpdev;
	struct rpmsg_endpoint *ept;
	u32 max_payload;
	u32 buf_size;
	bool dead;
	bool stalled;
	bool frame_failed;
	struct sk_buff_head txq;
	struct mutex tx_lock;	/* serializes sending; guards dead, ept */
	struct task_struct *tx_thread;
	wait_queue_head_t tx_thread_wait;
	struct rpmsg_eth_bus_wait bus_wait;
	bool bus_progress;
};

int rpmsg_eth_link_start(struct rpmsg_eth_link *link,
			 struct rpmsg_eth_chan *chan,
			 struct rpmsg_device *rpdev,
			 const struct rpmsg_eth_link_ops *ops);
void rpmsg_eth_link_stop(struct rpmsg_eth_link *link);
int rpmsg_eth_link_xmit(struct rpmsg_eth_link *link, struct sk_buff *skb);
bool rpmsg_eth_link_queue(struct rpmsg_eth_link *link, struct sk_buff_head *msgs);
void rpmsg_eth_purge(struct rpmsg_eth_chan *chan, struct sk_buff_head *q,
		     enum rpmsg_eth_counter c);

static inline bool rpmsg_eth_link_dead(struct rpmsg_eth_link *link)
{
	return READ_ONCE(link->dead);
}

static inline bool rpmsg_eth_link_stalled(struct rpmsg_eth_link *link)
{
	return READ_ONCE(link->stalled);
}

static inline bool rpmsg_eth_link_tx_room(struct rpmsg_eth_link *link)
{
	return skb_queue_len(&link->txq) < rpmsg_eth_tx_queue_len;
}

/* the character device front end; probe runs with rpmsg_eth_lock held */
int rpmsg_eth_cdev_init(void);
void rpmsg_eth_cdev_exit(void);
int rpmsg_eth_cdev_probe(struct rpmsg_eth_chan *chan,
			 struct rpmsg_device *rpdev);
void rpmsg_eth_cdev_remove(struct rpmsg_device *rpdev);

/*
 * the network interface front end: interfaces exist from load to unload,
 * probe and remove bind them (probe runs with rpmsg_eth_lock held)
 */
int rpmsg_eth_netdev_init(void);
void rpmsg_eth_netdev_exit(void);
int rpmsg_eth_netdev_probe(struct rpmsg_eth_chan *chan,
			   struct rpmsg_device *rpdev);
void rpmsg_eth_netdev_remove(struct rpmsg_eth_chan *chan);

/* rpmsg_eth_frag.c: frag/rpmsg_frag.c, and what the front end asks of it */
struct rpmsg_frag_rx;
bool rpmsg_eth_frag_rx_assembling(const struct rpmsg_frag_rx *rx);

/* called by a front end once its binding is gone from chan->binding */
void rpmsg_eth_unbound(struct rpmsg_eth_chan *chan);

#endif /* RPMSG_ETH_H */
