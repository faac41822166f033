/*
 * rpmsg_frag - the `frag` framing of rpmsg-eth, peer side (docs/frag-wire-spec.md, version 1).
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

#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif

#endif /* RPMSG_FRAG_H */
