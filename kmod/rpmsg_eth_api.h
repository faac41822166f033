/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rpmsg_eth user-space API: /dev/rpmsg-eth<N> carries the Ethernet frames of
 * rpmsg channel N's eth-dev endpoint, one rpmsg message per frame.
 *
 * This header is the only definition of the ioctl numbers; user space
 * (the daemon's native binding) includes it instead of re-typing them,
 * because the _IOC encoding differs between architectures (e.g. PowerPC).
 *
 * read()  returns exactly one frame. A buffer shorter than the frame fails
 *         with EMSGSIZE and the frame stays queued. O_NONBLOCK: EAGAIN when
 *         no frame is queued.
 * write() sends exactly one frame. Longer than max_payload: EMSGSIZE.
 *         The frame is queued for transmission and sent by the module as
 *         soon as the rpmsg ring has a free buffer; O_NONBLOCK: EAGAIN when
 *         the transmit queue is full. A zero-length write sends nothing.
 * poll()  POLLIN: a frame is queued. POLLOUT: the transmit queue has room
 *         for one frame. POLLHUP: the channel went away. POLLPRI: the link
 *         state changed (stalled or back, see struct rpmsg_eth_info.link)
 *         since the last RPMSG_ETH_IOC_INFO, which clears it.
 * Stall: when the remote takes no frame for stall_ms (module parameter,
 * default 1000 ms) while frames wait, the link is "stalled": POLLPRI, and
 * INFO reports RPMSG_ETH_LINK_STALLED; frames stay queued. The first frame
 * the remote takes again ends the stall: POLLPRI again, INFO reports
 * RPMSG_ETH_LINK_UP. A daemon takes the interface's carrier down and up
 * accordingly; the device stays open throughout.
 * When the channel goes away (remote stopped, driver unbound, module
 * unloaded), blocked and later read/write/batch calls fail with EPIPE; close
 * the file and open the device again once it reappears (same name).
 * Only one open file per device at a time (EBUSY otherwise). Frames that
 * arrive while the device is not open are dropped and counted.
 */
#ifndef _UAPI_RPMSG_ETH_API_H
#define _UAPI_RPMSG_ETH_API_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped when a struct or ioctl below changes incompatibly. */
#define RPMSG_ETH_API_VERSION	1

#define RPMSG_ETH_NAME_SIZE	32
/* struct rpmsg_eth_info.link */
#define RPMSG_ETH_LINK_UP	0	/* the remote takes frames */
#define RPMSG_ETH_LINK_STALLED	1	/* it took none for stall_ms */

/* Largest rpmsg_eth_batch.count accepted. */
#define RPMSG_ETH_BATCH_MAX	256

/**
 * struct rpmsg_eth_info - what RPMSG_ETH_IOC_INFO returns
 * @api_version: RPMSG_ETH_API_VERSION of the running module
 * @channel: the channel number (channel-num in the device tree)
 * @name: the rpmsg channel name, NUL-terminated
 * @local_addr: rpmsg address of the eth-dev endpoint on this side (src)
 * @remote_addr: rpmsg address frames are sent to on the remote core (dst)
 * @max_payload: largest frame write() accepts, in bytes
 * @buf_size: rpmsg buffer size including the 16-byte header, 0 if unknown
 * @num_bufs: rpmsg buffers of the channel (both directions), 0 if unknown
 * @rx_queue_len: frames the receive queue holds before dropping
 * @tx_queue_len: frames the transmit queue holds before write() blocks
 * @link: RPMSG_ETH_LINK_UP or RPMSG_ETH_LINK_STALLED; reading it clears
 *        the POLLPRI event
 * @stall_ms: how long a full ring may not move before the link is stalled
 * @reserved: zero
 */
struct rpmsg_eth_info {
	__u32 api_version;
	__u32 channel;
	char name[RPMSG_ETH_NAME_SIZE];
	__u32 local_addr;
	__u32 remote_addr;
	__u32 max_payload;
	__u32 buf_size;
	__u32 num_bufs;
	__u32 rx_queue_len;
	__u32 tx_queue_len;
	__u32 link;
	__u32 stall_ms;
	__u32 reserved[3];
};

/**
 * struct rpmsg_eth_frame - one frame of a batch
 * @data: user pointer to the frame buffer
 * @len: write: frame length. read: in, buffer size; out, frame length
 *       (also set on EMSGSIZE to the length the buffer must have)
 * @flags: zero
 */
struct rpmsg_eth_frame {
	__u64 data;
	__u32 len;
	__u32 flags;
};

/**
 * struct rpmsg_eth_batch - argument of the batch ioctls
 * @frames: user pointer to an array of struct rpmsg_eth_frame
 * @count: entries in @frames, at most RPMSG_ETH_BATCH_MAX
 * @flags: zero
 *
 * RPMSG_ETH_IOC_READ_BATCH waits (unless O_NONBLOCK) for one frame, then
 * moves queued frames into frames[0..], stopping when the queue is empty or
 * @count is reached. RPMSG_ETH_IOC_WRITE_BATCH waits (unless O_NONBLOCK)
 * for room for one frame, then queues frames[0..] in order, stopping when
 * the transmit queue is full. Both return the number of frames moved
 * (>= 1 when @count > 0). An error on the first frame is returned as the
 * ioctl's error (EAGAIN, EMSGSIZE, EFAULT, EPIPE, ...); an error on a later
 * frame ends the batch early and is reported by the next call.
 */
struct rpmsg_eth_batch {
	__u64 frames;
	__u32 count;
	__u32 flags;
};

/**
 * struct rpmsg_eth_counters - what RPMSG_ETH_IOC_COUNTERS returns
 *
 * Counts since the module was loaded; they survive unbind/rebind.
 * rx_drop_*: received frames not delivered: queue full (overflow), no
 * memory, device not open (closed), zero length (empty), discarded when the
 * file was closed or the channel went away (flushed), longer than
 * max_payload (oversize).
 * tx_drop_*: frames accepted by write() but not sent: the rpmsg core
 * refused them (error) or the channel went away first (dead).
 * tx_ring_full: frames that found the ring without a free buffer and
 * waited for one. tx_stalls: times the link became stalled.
 */
struct rpmsg_eth_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_drop_overflow;
	__u64 rx_drop_nomem;
	__u64 rx_drop_closed;
	__u64 rx_drop_empty;
	__u64 rx_drop_flushed;
	__u64 tx_drop_error;
	__u64 tx_drop_dead;
	__u64 tx_ring_full;
	__u64 rx_drop_oversize;
	__u64 tx_stalls;
};

#define RPMSG_ETH_IOC_MAGIC	0xb5	/* rpmsg's; numbers above rpmsg_char's */
#define RPMSG_ETH_IOC_INFO	_IOR(RPMSG_ETH_IOC_MAGIC, 0x80, struct rpmsg_eth_info)
#define RPMSG_ETH_IOC_READ_BATCH	_IOW(RPMSG_ETH_IOC_MAGIC, 0x81, struct rpmsg_eth_batch)
#define RPMSG_ETH_IOC_WRITE_BATCH	_IOW(RPMSG_ETH_IOC_MAGIC, 0x82, struct rpmsg_eth_batch)
#define RPMSG_ETH_IOC_COUNTERS	_IOR(RPMSG_ETH_IOC_MAGIC, 0x83, struct rpmsg_eth_counters)

#endif /* _UAPI_RPMSG_ETH_API_H */
