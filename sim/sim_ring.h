/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulated ring's shared state (see RING.md beside this file): one page both sides map, holding
 * for each direction the receiver's used index and the sender's event index, as virtio's used ring
 * and VIRTIO_F_EVENT_IDX do. Included by the simulated peer (C) and the daemon's data plane (C++);
 * GCC/Clang atomic builtins work in both.
 */
#ifndef SIM_RING_H
#define SIM_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One direction of the ring. Indices are free-running u32 counts of buffers (messages). */
struct sim_ring_dir {
	uint32_t used;       /* written by the receiver: buffers it has taken off the ring */
	uint32_t used_event; /* written by the sender: kick me once `used` passes this value */
	uint32_t pad[14];    /* one cache line per direction */
};

struct sim_ring_shared {
	struct sim_ring_dir to_peer;   /* daemon -> peer */
	struct sim_ring_dir to_daemon; /* peer -> daemon */
};

#define SIM_RING_SHARED_SIZE 4096u

static inline uint32_t sim_ring_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void sim_ring_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Between a store of one side's index and the load of the other side's (Dekker): no lost kick. */
static inline void sim_ring_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* virtio's vring_need_event(): did moving `used` from old_idx to new_idx pass the event index? */
static inline int sim_ring_need_event(uint32_t event, uint32_t new_idx, uint32_t old_idx)
{
	return (uint32_t)(new_idx - event - 1u) < (uint32_t)(new_idx - old_idx);
}

/* Sender: buffers sent and not yet taken, clamped to the window (a garbled index cannot widen it). */
static inline uint32_t sim_ring_in_flight(const struct sim_ring_dir *d, uint32_t sent, uint32_t window)
{
	uint32_t n = sent - sim_ring_load(&d->used);

	return n > window ? window : n;
}

/*
 * Sender, window full: ask for a kick once half the window is free again, then look once more (the
 * receiver may have taken buffers between the caller's check and the store). Returns the buffers in
 * flight after that second look; below `window` means go on sending without waiting.
 */
static inline uint32_t sim_ring_arm(struct sim_ring_dir *d, uint32_t sent, uint32_t window)
{
	uint32_t half = window / 2u ? window / 2u : 1u;

	sim_ring_store(&d->used_event, sent - window + half - 1u);
	sim_ring_fence();
	return sim_ring_in_flight(d, sent, window);
}

/* Receiver: `n` more buffers taken. Returns 1 if the sender asked to be kicked for this. */
static inline int sim_ring_consume(struct sim_ring_dir *d, uint32_t n)
{
	uint32_t old_idx = d->used, new_idx = old_idx + n;

	sim_ring_store(&d->used, new_idx);
	sim_ring_fence();
	return sim_ring_need_event(sim_ring_load(&d->used_event), new_idx, old_idx);
}

/*
 * The data socket carries batches: one datagram holds the ring buffers a sender posts at once, as
 *   u32 count, u32 len[count], then the count buffers back to back (native byte order: one host).
 * A message per buffer would cost the kernel an skb per buffer on both sides (allocation, memory
 * accounting, queueing, wakeup checks, free), four per frame with frag; a batch costs one.
 * A batch holds 1..SIM_RING_BATCH buffers and at most SIM_RING_BATCH_BYTES of them, except that a
 * single buffer may be larger (a receiver refuses one above its maximum payload).
 */
#define SIM_RING_BATCH 64u
#define SIM_RING_BATCH_BYTES 65536u

/* The largest batch datagram a receiver must take whole, for buffers of at most max_payload bytes. */
static inline size_t sim_ring_batch_max(uint32_t max_payload)
{
	return 4u * (1u + SIM_RING_BATCH) + (max_payload > SIM_RING_BATCH_BYTES ? max_payload : SIM_RING_BATCH_BYTES);
}

/* Sender: does one more buffer of len bytes fit a batch that holds count buffers of bytes bytes? */
static inline int sim_ring_batch_fits(uint32_t count, uint32_t bytes, uint32_t len)
{
	return count == 0 || (count < SIM_RING_BATCH && bytes + len <= SIM_RING_BATCH_BYTES);
}

/* The u32 at p (any alignment). */
static inline uint32_t sim_ring_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Receiver: checks a batch of len bytes; returns its buffer count, or 0 if the datagram is not a
 * well-formed batch. Buffer i is sim_ring_u32(dgram + 4 + 4 * i) bytes long; the first starts at
 * dgram + 4 * (1 + count), each next one right after the one before.
 */
static inline uint32_t sim_ring_batch_parse(const uint8_t *dgram, size_t len)
{
	size_t head, total = 0;
	uint32_t n, i;

	if (len < 4u)
		return 0;
	n = sim_ring_u32(dgram);
	if (n == 0 || n > SIM_RING_BATCH)
		return 0;
	head = 4u * (1u + (size_t)n);
	if (len < head)
		return 0;
	for (i = 0; i < n; i++)
		total += sim_ring_u32(dgram + 4u + 4u * i);
	return total == len - head ? n : 0;
}

#endif /* SIM_RING_H */
