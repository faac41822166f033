/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulated ring's shared state (see RING.md beside this file): one page both sides map, holding
 * for each direction the receiver's used index and the sender's event index, as virtio's used ring
 * and VIRTIO_F_EVENT_IDX do. Included by the simulated peer (C) and the daemon's data plane (C++);
 * GCC/Clang atomic builtins work in both.
 */
#ifndef SIM_RING_H
#define SIM_RING_H

#include <stdint.h>

/* One direction of the ring. Indices are free-running u32 counts of frames. */
struct sim_ring_dir {
	uint32_t used;       /* written by the receiver: frames it has taken off the ring */
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

/* Sender: frames sent and not yet taken, clamped to the window (a garbled index cannot widen it). */
static inline uint32_t sim_ring_in_flight(const struct sim_ring_dir *d, uint32_t sent, uint32_t window)
{
	uint32_t n = sent - sim_ring_load(&d->used);

	return n > window ? window : n;
}

/*
 * Sender, window full: ask for a kick once half the window is free again, then look once more (the
 * receiver may have taken frames between the caller's check and the store). Returns the frames in
 * flight after that second look; below `window` means go on sending without waiting.
 */
static inline uint32_t sim_ring_arm(struct sim_ring_dir *d, uint32_t sent, uint32_t window)
{
	uint32_t half = window / 2u ? window / 2u : 1u;

	sim_ring_store(&d->used_event, sent - window + half - 1u);
	sim_ring_fence();
	return sim_ring_in_flight(d, sent, window);
}

/* Receiver: `n` more frames taken. Returns 1 if the sender asked to be kicked for this. */
static inline int sim_ring_consume(struct sim_ring_dir *d, uint32_t n)
{
	uint32_t old_idx = d->used, new_idx = old_idx + n;

	sim_ring_store(&d->used, new_idx);
	sim_ring_fence();
	return sim_ring_need_event(sim_ring_load(&d->used_event), new_idx, old_idx);
}

#endif /* SIM_RING_H */
