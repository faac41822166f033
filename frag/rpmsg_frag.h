/*
 * rpmsg_frag - the `frag` framing of rpmsg-eth, peer side (frag/wire-spec.md, version 1).
 *
 * Carries Ethernet frames of up to 9014 bytes over rpmsg messages of maxPayload bytes by adding a
 * 16-byte header to every message. Portable C99: no OS calls, no allocation, no globals; the caller
 * provides the reassembly buffer and a millisecond clock. Meant to be embedded in a VxWorks END driver
 * (or any other peer); one rpmsg_frag_tx and one rpmsg_frag_rx per channel.
 *
 * SPDX-License-Identifier: GPL-2.0-only OR BSD-3-Clause
 */
#ifndef RPMSG_FRAG_H
#define RPMSG_FRAG_H

/* Also built into the kernel module (kmod/rpmsg_eth_frag.c): no libc there. */
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define RPMSG_FRAG_VERSION        1u
#define RPMSG_FRAG_HDR_LEN        16u
#define RPMSG_FRAG_ETH_HDR_LEN    14u
#define RPMSG_FRAG_MAX_FRAME      9014u   /* MTU 9000 + Ethernet header */
#define RPMSG_FRAG_MIN_PAYLOAD    64u     /* smallest maxPayload frag works with */
#define RPMSG_FRAG_ETHERTYPE      0x88B5u /* IEEE 802 Local Experimental EtherType 1 */
#define RPMSG_FRAG_TIMEOUT_MS     1000u   /* recommended reassembly timeout */

#define RPMSG_FRAG_FLAG_FIRST     0x01u
#define RPMSG_FRAG_FLAG_LAST      0x02u
#define RPMSG_FRAG_FLAG_CONTROL   0x80u
#define RPMSG_FRAG_FLAG_RESERVED  0x7Cu

#define RPMSG_FRAG_CONTROL_LEN     60u    /* control messages are padded to this length */
#define RPMSG_FRAG_CONTROL_MIN_LEN 24u    /* header + body: shortest accepted control message */
#define RPMSG_FRAG_PROBE           1u
#define RPMSG_FRAG_PROBE_REPLY     2u

/* Failure counters of the receiver; the index into rpmsg_frag_rx.failures. */
enum rpmsg_frag_failure {
	RPMSG_FRAG_LOST = 0,
	RPMSG_FRAG_DUPLICATE,
	RPMSG_FRAG_TRUNCATED,
	RPMSG_FRAG_OVERLONG,
	RPMSG_FRAG_BAD_VERSION,
	RPMSG_FRAG_BAD_HEADER,
	RPMSG_FRAG_TIMEOUT,
	RPMSG_FRAG_NFAILURES
};

/* Counter names as used in the spec and the test vectors, indexed by enum rpmsg_frag_failure. */
extern const char *const rpmsg_frag_failure_names[RPMSG_FRAG_NFAILURES];

/* ---- sender ---------------------------------------------------------------------------------- */

struct rpmsg_frag_tx {
	uint32_t max_payload;     /* largest rpmsg message: buffer size - 16 */
	uint32_t frag_payload;    /* F = max_payload - 16 */
	uint32_t max_frame;       /* min(9014, peer's announced maxFrame) */
	uint16_t seq;             /* seq of the frame begun last */
	uint16_t next_seq;
	/* counters */
	uint32_t fragments_sent;  /* messages built by rpmsg_frag_tx_fragment() */
	uint32_t frames_sent;     /* frames begun */
	uint32_t frames_oversize; /* refused: longer than max_frame */
	uint32_t frames_runt;     /* refused: shorter than 14 bytes */
};

/* Set up a sender; returns 0, or -1 if max_payload < RPMSG_FRAG_MIN_PAYLOAD. seq starts at 0. */
int rpmsg_frag_tx_init(struct rpmsg_frag_tx *tx, uint32_t max_payload);

/* Limit frames to the peer's maxFrame from its PROBE / PROBE_REPLY (clamped to 14..9014). */
void rpmsg_frag_tx_set_max_frame(struct rpmsg_frag_tx *tx, uint32_t max_frame);

/*
 * Begin sending a frame of frame_len bytes: assigns it the next sequence number and returns the
 * number of messages it takes, or 0 if the frame is refused (too short / too long; counted).
 */
uint32_t rpmsg_frag_tx_begin(struct rpmsg_frag_tx *tx, uint32_t frame_len);

/*
 * Build message `index` (0-based, < the count from rpmsg_frag_tx_begin) of the frame begun last into
 * msg[0..msg_cap). Returns the message length (header + payload), or 0 if index is out of range or
 * msg_cap is too small. Send the messages in index order with nothing in between.
 */
uint32_t rpmsg_frag_tx_fragment(struct rpmsg_frag_tx *tx, const uint8_t *frame, uint32_t frame_len,
				uint32_t index, uint8_t *msg, uint32_t msg_cap);

/* ---- receiver -------------------------------------------------------------------------------- */

enum rpmsg_frag_rx_result {
	RPMSG_FRAG_RX_NONE = 0,   /* consumed; nothing to deliver */
	RPMSG_FRAG_RX_FRAME = 1,  /* a frame is ready: *frame, *frame_len (valid until the next push) */
	RPMSG_FRAG_RX_CONTROL = 2 /* a control message: parse msg with rpmsg_frag_probe_parse() */
};

struct rpmsg_frag_rx {
	uint8_t *buf;             /* caller's reassembly buffer */
	uint32_t max_frame;       /* min(buffer size, 9014) */
	uint32_t timeout_ms;
	/* reassembly state (spec §4) */
	uint8_t state;
	uint8_t last_seq_valid;
	uint16_t cur_seq;
	uint16_t last_seq;
	uint16_t cur_total;
	uint32_t received;
	uint32_t frag_size;
	uint32_t started_ms;
	/* counters */
	uint32_t fragments_received;
	uint32_t fragments_discarded;
	uint32_t frames_reassembled;
	uint32_t raw_frames;
	uint32_t control_received;
	uint32_t failures[RPMSG_FRAG_NFAILURES];
};

/*
 * Set up a receiver with the caller's buffer of buf_size bytes (RPMSG_FRAG_MAX_FRAME for MTU 9000,
 * MTU + 14 for smaller). Returns 0, or -1 if buf_size < 14. timeout_ms 0 means the default 1000.
 */
int rpmsg_frag_rx_init(struct rpmsg_frag_rx *rx, uint8_t *buf, uint32_t buf_size, uint32_t timeout_ms);

/* Forget the reassembly state (link down); counters are kept. */
void rpmsg_frag_rx_reset(struct rpmsg_frag_rx *rx);

/*
 * Take one received message msg[0..len) at time now_ms (any free-running millisecond counter;
 * wrap-around is handled). On RPMSG_FRAG_RX_FRAME, *frame / *frame_len point at the frame: inside
 * msg for a single-fragment or raw frame, inside the reassembly buffer otherwise.
 */
enum rpmsg_frag_rx_result rpmsg_frag_rx_push(struct rpmsg_frag_rx *rx, const uint8_t *msg, uint32_t len,
					     uint32_t now_ms, const uint8_t **frame, uint32_t *frame_len);

/* Drop a frame in progress older than the timeout; call from a periodic timer. */
void rpmsg_frag_rx_tick(struct rpmsg_frag_rx *rx, uint32_t now_ms);

/* ---- control messages: the negotiation probe (spec §6) ----------------------------------------- */

struct rpmsg_frag_probe {
	uint8_t type;       /* RPMSG_FRAG_PROBE or RPMSG_FRAG_PROBE_REPLY */
	uint8_t version;    /* highest frag version the sender speaks */
	uint16_t max_frame; /* largest frame the sender accepts */
	uint32_t nonce;
};

/* True (1) if msg[0..len) carries the frag signature; a raw frame with it must not be sent raw. */
int rpmsg_frag_has_signature(const uint8_t *msg, uint32_t len);

/* Build a 60-byte control message into msg; returns 60, or 0 if msg_cap < 60 or a field is invalid. */
uint32_t rpmsg_frag_probe_build(const struct rpmsg_frag_probe *p, uint8_t *msg, uint32_t msg_cap);

/* Parse a PROBE / PROBE_REPLY; returns 0 and fills *p, or -1 if msg is not a valid one. */
int rpmsg_frag_probe_parse(const uint8_t *msg, uint32_t len, struct rpmsg_frag_probe *p);

/* ---- negotiation: the daemon's side of spec §6 ------------------------------------------------ */

/*
 * A clock-driven state machine with no timers or I/O: the caller sends the messages it builds, feeds
 * it the control messages rpmsg_frag_rx_push() reports, and calls rpmsg_frag_neg_poll() while
 * rpmsg_frag_neg_next_poll() asks for it.
 */
enum rpmsg_frag_neg_state {
	RPMSG_FRAG_NEG_IDLE = 0,    /* not started */
	RPMSG_FRAG_NEG_PROBING = 1, /* PROBE sent, waiting for a reply; send no frames */
	RPMSG_FRAG_NEG_FRAG = 2,    /* the peer speaks frag: send with frag headers */
	RPMSG_FRAG_NEG_RAW = 3      /* no reply in time: send raw frames */
};

enum rpmsg_frag_neg_outcome {
	RPMSG_FRAG_NEG_SAME = 0,    /* the sending mode did not change */
	RPMSG_FRAG_NEG_TO_FRAG = 1, /* switch to frag, frames up to rpmsg_frag_neg_send_max_frame() */
	RPMSG_FRAG_NEG_TO_RAW = 2   /* fall back to raw */
};

#define RPMSG_FRAG_PROBE_RESEND_MS  500u
#define RPMSG_FRAG_PROBE_GIVE_UP_MS 1500u

struct rpmsg_frag_neg {
	uint32_t max_frame;       /* ours, announced in PROBE and PROBE_REPLY */
	uint32_t resend_ms;
	uint32_t give_up_ms;
	uint32_t nonce;
	uint32_t started_ms;
	uint32_t sent_ms;
	uint16_t peer_max_frame;  /* 0 until the peer has shown that it speaks frag */
	uint8_t state;            /* enum rpmsg_frag_neg_state */
};

/* Set up (state IDLE); 0 for resend_ms / give_up_ms means the spec's 500 / 1500 ms. */
void rpmsg_frag_neg_init(struct rpmsg_frag_neg *n, uint32_t max_frame, uint32_t resend_ms, uint32_t give_up_ms);

/*
 * Channel start or link back up: forget the peer, start probing with `nonce` (fresh and random) and
 * build the PROBE into msg. Returns its length (60), or 0 if msg_cap < 60.
 */
uint32_t rpmsg_frag_neg_start(struct rpmsg_frag_neg *n, uint32_t now_ms, uint32_t nonce, uint8_t *msg,
			      uint32_t msg_cap);

/*
 * Periodic while probing: resend the PROBE every resend_ms (built into msg, *msg_len = 60; else 0) and
 * fall back to raw once give_up_ms have passed since rpmsg_frag_neg_start().
 */
enum rpmsg_frag_neg_outcome rpmsg_frag_neg_poll(struct rpmsg_frag_neg *n, uint32_t now_ms, uint8_t *msg,
						uint32_t msg_cap, uint32_t *msg_len);

/* Milliseconds until rpmsg_frag_neg_poll() has something to do; 0 when it never will (not probing). */
uint32_t rpmsg_frag_neg_next_poll(const struct rpmsg_frag_neg *n, uint32_t now_ms);

/*
 * A control message from the peer. A PROBE is answered (the PROBE_REPLY built into reply,
 * *reply_len = 60; else 0); a PROBE, or a PROBE_REPLY with the current nonce, shows that the peer
 * speaks frag, which switches to frag (also from the raw fallback: the peer booted late).
 */
enum rpmsg_frag_neg_outcome rpmsg_frag_neg_on_control(struct rpmsg_frag_neg *n, const uint8_t *msg, uint32_t len,
						      uint8_t *reply, uint32_t reply_cap, uint32_t *reply_len);

/* Largest frame to send in frag mode: min(ours, the peer's announced maxFrame). */
uint32_t rpmsg_frag_neg_send_max_frame(const struct rpmsg_frag_neg *n);

#ifdef __cplusplus
}
#endif

#endif /* RPMSG_FRAG_H */
