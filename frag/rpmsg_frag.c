/*
 * rpmsg_frag - the `frag` framing of rpmsg-eth, peer side. See rpmsg_frag.h and
 * frag/wire-spec.md; the receiver follows the spec's §4 algorithm step by step (step numbers in
 * the comments). Only <string.h> (memcpy, memset) is used from the C library (<linux/string.h> in
 * the kernel module).
 *
 * SPDX-License-Identifier: GPL-2.0-only OR BSD-3-Clause
 */
#include "rpmsg_frag.h"

#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif

enum { ST_IDLE = 0, ST_ASSEMBLING = 1, ST_DISCARDING = 2 };

/* Header field offsets (spec §2). */
enum { OFF_VERSION = 6, OFF_FLAGS = 7, OFF_SEQ = 8, OFF_TOTAL = 10, OFF_ETHERTYPE = 12, OFF_OFFSET = 14 };

static const uint8_t signature[6] = { 0x03, 0x72, 0x70, 0x6D, 0x73, 0x67 };

const char *const rpmsg_frag_failure_names[RPMSG_FRAG_NFAILURES] = {
	"lost", "duplicate", "truncated", "overlong", "badVersion", "badHeader", "timeout",
};

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_header(uint8_t *m, uint32_t flags, uint32_t seq, uint32_t total, uint32_t offset)
{
	memcpy(m, signature, sizeof(signature));
	m[OFF_VERSION] = RPMSG_FRAG_VERSION;
	m[OFF_FLAGS] = (uint8_t)flags;
	put_be16(m + OFF_SEQ, seq);
	put_be16(m + OFF_TOTAL, total);
	put_be16(m + OFF_ETHERTYPE, RPMSG_FRAG_ETHERTYPE);
	put_be16(m + OFF_OFFSET, offset);
}

int rpmsg_frag_has_signature(const uint8_t *msg, uint32_t len)
{
	return len >= RPMSG_FRAG_ETH_HDR_LEN && memcmp(msg, signature, sizeof(signature)) == 0 &&
	       msg[OFF_ETHERTYPE] == 0x88 && msg[OFF_ETHERTYPE + 1] == 0xB5;
}

/* ---- sender ---------------------------------------------------------------------------------- */

int rpmsg_frag_tx_init(struct rpmsg_frag_tx *tx, uint32_t max_payload)
{
	memset(tx, 0, sizeof(*tx));
	if (max_payload < RPMSG_FRAG_MIN_PAYLOAD)
		return -1;
	tx->max_payload = max_payload;
	tx->frag_payload = max_payload - RPMSG_FRAG_HDR_LEN;
	tx->max_frame = RPMSG_FRAG_MAX_FRAME;
	return 0;
}

void rpmsg_frag_tx_set_max_frame(struct rpmsg_frag_tx *tx, uint32_t max_frame)
{
	if (max_frame < RPMSG_FRAG_ETH_HDR_LEN)
		max_frame = RPMSG_FRAG_ETH_HDR_LEN;
	if (max_frame > RPMSG_FRAG_MAX_FRAME)
		max_frame = RPMSG_FRAG_MAX_FRAME;
	tx->max_frame = max_frame;
}

uint32_t rpmsg_frag_tx_begin(struct rpmsg_frag_tx *tx, uint32_t frame_len)
{
	if (tx->frag_payload == 0)
		return 0;
	if (frame_len < RPMSG_FRAG_ETH_HDR_LEN) {
		tx->frames_runt++;
		return 0;
	}
	if (frame_len > tx->max_frame) {
		tx->frames_oversize++;
		return 0;
	}
	tx->seq = tx->next_seq;
	tx->next_seq = (uint16_t)(tx->next_seq + 1u);
	tx->frames_sent++;
	return (frame_len + tx->frag_payload - 1u) / tx->frag_payload;
}

uint32_t rpmsg_frag_tx_fragment(struct rpmsg_frag_tx *tx, const uint8_t *frame, uint32_t frame_len,
				uint32_t index, uint8_t *msg, uint32_t msg_cap)
{
	uint32_t f = tx->frag_payload, n, offset, chunk, flags = 0;

	if (f == 0 || frame_len < RPMSG_FRAG_ETH_HDR_LEN || frame_len > tx->max_frame)
		return 0;
	n = (frame_len + f - 1u) / f;
	if (index >= n)
		return 0;
	offset = index * f;
	chunk = index == n - 1u ? frame_len - offset : f;
	if (msg_cap < RPMSG_FRAG_HDR_LEN + chunk)
		return 0;
	if (index == 0)
		flags |= RPMSG_FRAG_FLAG_FIRST;
	if (index == n - 1u)
		flags |= RPMSG_FRAG_FLAG_LAST;
	put_header(msg, flags, tx->seq, frame_len, offset);
	memcpy(msg + RPMSG_FRAG_HDR_LEN, frame + offset, chunk);
	tx->fragments_sent++;
	return RPMSG_FRAG_HDR_LEN + chunk;
}

/* ---- receiver -------------------------------------------------------------------------------- */

int rpmsg_frag_rx_init(struct rpmsg_frag_rx *rx, uint8_t *buf, uint32_t buf_size, uint32_t timeout_ms)
{
	memset(rx, 0, sizeof(*rx));
	if (buf == NULL || buf_size < RPMSG_FRAG_ETH_HDR_LEN)
		return -1;
	rx->buf = buf;
	rx->max_frame = buf_size < RPMSG_FRAG_MAX_FRAME ? buf_size : RPMSG_FRAG_MAX_FRAME;
	rx->timeout_ms = timeout_ms ? timeout_ms : RPMSG_FRAG_TIMEOUT_MS;
	rx->state = ST_IDLE;
	return 0;
}

void rpmsg_frag_rx_reset(struct rpmsg_frag_rx *rx)
{
	rx->state = ST_IDLE;
	rx->last_seq_valid = 0;
}

void rpmsg_frag_rx_tick(struct rpmsg_frag_rx *rx, uint32_t now_ms)
{
	/* Unsigned difference: correct across wrap-around of the millisecond counter. */
	if (rx->state == ST_ASSEMBLING && (uint32_t)(now_ms - rx->started_ms) > rx->timeout_ms) {
		rx->failures[RPMSG_FRAG_TIMEOUT]++;
		rx->state = ST_DISCARDING;
	}
}

/* drop(reason): count; the frame `seq` is over if this was its LAST fragment, else discard its rest. */
static enum rpmsg_frag_rx_result drop(struct rpmsg_frag_rx *rx, enum rpmsg_frag_failure reason, uint16_t seq,
				      int last)
{
	rx->failures[reason]++;
	rx->cur_seq = seq;
	rx->state = last ? ST_IDLE : ST_DISCARDING;
	return RPMSG_FRAG_RX_NONE;
}

/* abort(reason): count; a frame in progress is dropped with it. */
static enum rpmsg_frag_rx_result abort_msg(struct rpmsg_frag_rx *rx, enum rpmsg_frag_failure reason)
{
	rx->failures[reason]++;
	if (rx->state == ST_ASSEMBLING)
		rx->state = ST_DISCARDING;
	return RPMSG_FRAG_RX_NONE;
}

static enum rpmsg_frag_rx_result deliver(const uint8_t *p, uint32_t len, const uint8_t **frame,
					 uint32_t *frame_len)
{
	*frame = p;
	*frame_len = len;
	return RPMSG_FRAG_RX_FRAME;
}

enum rpmsg_frag_rx_result rpmsg_frag_rx_push(struct rpmsg_frag_rx *rx, const uint8_t *msg, uint32_t len,
					     uint32_t now_ms, const uint8_t **frame, uint32_t *frame_len)
{
	uint32_t flags, p, total, offset;
	uint16_t seq;
	int first, last;

	/* Step 0: timeout. */
	rpmsg_frag_rx_tick(rx, now_ms);

	/* Step 1: a raw message is a whole frame; it does not touch the reassembly state. */
	if (!rpmsg_frag_has_signature(msg, len)) {
		if (len < RPMSG_FRAG_ETH_HDR_LEN) {
			rx->failures[RPMSG_FRAG_TRUNCATED]++;
			return RPMSG_FRAG_RX_NONE;
		}
		rx->raw_frames++;
		return deliver(msg, len, frame, frame_len);
	}

	/* Step 2: header checks; the header cannot be trusted, so abort. */
	if (len < RPMSG_FRAG_HDR_LEN)
		return abort_msg(rx, RPMSG_FRAG_TRUNCATED);
	if (msg[OFF_VERSION] != RPMSG_FRAG_VERSION)
		return abort_msg(rx, RPMSG_FRAG_BAD_VERSION);
	flags = msg[OFF_FLAGS];
	if (flags & RPMSG_FRAG_FLAG_CONTROL) {
		if (flags != RPMSG_FRAG_FLAG_CONTROL)
			return abort_msg(rx, RPMSG_FRAG_BAD_HEADER);
		if (len < RPMSG_FRAG_CONTROL_MIN_LEN)
			return abort_msg(rx, RPMSG_FRAG_TRUNCATED);
		rx->control_received++;
		if (msg[RPMSG_FRAG_HDR_LEN] == RPMSG_FRAG_PROBE) {
			/* The sender (re)started: its sequence numbers begin again (spec §6.6). */
			if (rx->state == ST_ASSEMBLING)
				rx->failures[RPMSG_FRAG_LOST]++;
			rx->state = ST_IDLE;
			rx->last_seq_valid = 0;
		}
		return RPMSG_FRAG_RX_CONTROL;
	}
	if (flags & RPMSG_FRAG_FLAG_RESERVED)
		return abort_msg(rx, RPMSG_FRAG_BAD_HEADER);
	rx->fragments_received++;

	first = (flags & RPMSG_FRAG_FLAG_FIRST) != 0;
	last = (flags & RPMSG_FRAG_FLAG_LAST) != 0;
	seq = get_be16(msg + OFF_SEQ);
	total = get_be16(msg + OFF_TOTAL);
	offset = get_be16(msg + OFF_OFFSET);
	p = len - RPMSG_FRAG_HDR_LEN;

	if (rx->state == ST_ASSEMBLING) {
		if (!first && seq == rx->cur_seq) {
			/* Step 3: continuation of the frame in progress. */
			if (total != rx->cur_total)
				return drop(rx, RPMSG_FRAG_BAD_HEADER, seq, last);
			if (offset < rx->received)
				return drop(rx, RPMSG_FRAG_DUPLICATE, seq, last);
			if (offset > rx->received)
				return drop(rx, RPMSG_FRAG_LOST, seq, last);
			if (p == 0)
				return drop(rx, RPMSG_FRAG_TRUNCATED, seq, last);
			if (p > total - offset) /* offset == received <= total: no wrap */
				return drop(rx, RPMSG_FRAG_OVERLONG, seq, last);
			if (!last) {
				if (p < rx->frag_size)
					return drop(rx, RPMSG_FRAG_TRUNCATED, seq, last);
				if (p > rx->frag_size)
					return drop(rx, RPMSG_FRAG_BAD_HEADER, seq, last);
				if (offset + p == total)
					return drop(rx, RPMSG_FRAG_BAD_HEADER, seq, last);
			} else if (offset + p < total) {
				return drop(rx, RPMSG_FRAG_TRUNCATED, seq, last);
			}
			/* offset + p <= total <= max_frame: the copy stays inside the buffer. */
			memcpy(rx->buf + offset, msg + RPMSG_FRAG_HDR_LEN, p);
			rx->received += p;
			if (!last)
				return RPMSG_FRAG_RX_NONE;
			rx->state = ST_IDLE;
			rx->frames_reassembled++;
			return deliver(rx->buf, total, frame, frame_len);
		}
		/* Step 4: the frame in progress is broken. */
		if (first && seq == rx->cur_seq)
			return drop(rx, RPMSG_FRAG_DUPLICATE, seq, last);
		rx->failures[RPMSG_FRAG_LOST]++;
		rx->state = ST_IDLE;
	}

	if (first) {
		/* Step 5: a FIRST fragment, no frame in progress. */
		if (rx->last_seq_valid && seq == rx->last_seq)
			return drop(rx, RPMSG_FRAG_DUPLICATE, seq, last);
		if (offset != 0)
			return drop(rx, RPMSG_FRAG_BAD_HEADER, seq, last);
		if (total < RPMSG_FRAG_ETH_HDR_LEN)
			return drop(rx, RPMSG_FRAG_BAD_HEADER, seq, last);
		if (total > rx->max_frame)
			return drop(rx, RPMSG_FRAG_OVERLONG, seq, last);
		if (p == 0)
			return drop(rx, RPMSG_FRAG_TRUNCATED, seq, last);
		if (p > total)
			return drop(rx, RPMSG_FRAG_OVERLONG, seq, last);
		if (last && p < total)
			return drop(rx, RPMSG_FRAG_TRUNCATED, seq, last);
		if (!last && p == total)
			return drop(rx, RPMSG_FRAG_BAD_HEADER, seq, last);
		rx->cur_seq = seq;
		rx->last_seq = seq;
		rx->last_seq_valid = 1;
		rx->cur_total = (uint16_t)total;
		rx->received = p;
		rx->frag_size = p;
		rx->started_ms = now_ms;
		if (last) {
			/* Single-fragment frame: hand it up from the message itself, no copy. */
			rx->state = ST_IDLE;
			rx->frames_reassembled++;
			return deliver(msg + RPMSG_FRAG_HDR_LEN, p, frame, frame_len);
		}
		memcpy(rx->buf, msg + RPMSG_FRAG_HDR_LEN, p);
		rx->state = ST_ASSEMBLING;
		return RPMSG_FRAG_RX_NONE;
	}

	/* Step 6: a continuation fragment, no frame in progress. */
	if (rx->state == ST_DISCARDING && seq == rx->cur_seq) {
		rx->fragments_discarded++;
		if (last)
			rx->state = ST_IDLE;
		return RPMSG_FRAG_RX_NONE;
	}
	if (rx->last_seq_valid && seq == rx->last_seq)
		return drop(rx, RPMSG_FRAG_DUPLICATE, seq, last);
	return drop(rx, RPMSG_FRAG_LOST, seq, last);
}

/* ---- control messages ------------------------------------------------------------------------ */

uint32_t rpmsg_frag_probe_build(const struct rpmsg_frag_probe *pr, uint8_t *msg, uint32_t msg_cap)
{
	if (msg_cap < RPMSG_FRAG_CONTROL_LEN || pr->max_frame < RPMSG_FRAG_ETH_HDR_LEN ||
	    pr->max_frame > RPMSG_FRAG_MAX_FRAME)
		return 0;
	memset(msg, 0, RPMSG_FRAG_CONTROL_LEN);
	put_header(msg, RPMSG_FRAG_FLAG_CONTROL, 0, 0, 0);
	msg[16] = pr->type;
	msg[17] = pr->version;
	put_be16(msg + 18, pr->max_frame);
	put_be32(msg + 20, pr->nonce);
	return RPMSG_FRAG_CONTROL_LEN;
}

int rpmsg_frag_probe_parse(const uint8_t *msg, uint32_t len, struct rpmsg_frag_probe *pr)
{
	uint16_t max_frame;

	if (len < RPMSG_FRAG_CONTROL_MIN_LEN || !rpmsg_frag_has_signature(msg, len))
		return -1;
	if (msg[OFF_VERSION] != RPMSG_FRAG_VERSION || msg[OFF_FLAGS] != RPMSG_FRAG_FLAG_CONTROL)
		return -1;
	if (msg[16] != RPMSG_FRAG_PROBE && msg[16] != RPMSG_FRAG_PROBE_REPLY)
		return -1;
	max_frame = get_be16(msg + 18);
	if (msg[17] < 1 || max_frame < RPMSG_FRAG_ETH_HDR_LEN)
		return -1;
	pr->type = msg[16];
	pr->version = msg[17];
	pr->max_frame = max_frame > RPMSG_FRAG_MAX_FRAME ? (uint16_t)RPMSG_FRAG_MAX_FRAME : max_frame;
	pr->nonce = ((uint32_t)msg[20] << 24) | ((uint32_t)msg[21] << 16) | ((uint32_t)msg[22] << 8) | msg[23];
	return 0;
}

/* ---- negotiation (spec §6) --------------------------------------------------------------------- */

void rpmsg_frag_neg_init(struct rpmsg_frag_neg *n, uint32_t max_frame, uint32_t resend_ms, uint32_t give_up_ms)
{
	memset(n, 0, sizeof(*n));
	if (max_frame < RPMSG_FRAG_ETH_HDR_LEN)
		max_frame = RPMSG_FRAG_ETH_HDR_LEN;
	n->max_frame = max_frame > RPMSG_FRAG_MAX_FRAME ? RPMSG_FRAG_MAX_FRAME : max_frame;
	n->resend_ms = resend_ms ? resend_ms : RPMSG_FRAG_PROBE_RESEND_MS;
	n->give_up_ms = give_up_ms ? give_up_ms : RPMSG_FRAG_PROBE_GIVE_UP_MS;
	n->state = RPMSG_FRAG_NEG_IDLE;
}

static uint32_t neg_build(const struct rpmsg_frag_neg *n, uint8_t type, uint32_t nonce, uint8_t *msg,
			  uint32_t msg_cap)
{
	struct rpmsg_frag_probe p;

	p.type = type;
	p.version = RPMSG_FRAG_VERSION;
	p.max_frame = (uint16_t)n->max_frame;
	p.nonce = nonce;
	return rpmsg_frag_probe_build(&p, msg, msg_cap);
}

uint32_t rpmsg_frag_neg_start(struct rpmsg_frag_neg *n, uint32_t now_ms, uint32_t nonce, uint8_t *msg,
			      uint32_t msg_cap)
{
	n->state = RPMSG_FRAG_NEG_PROBING;
	n->peer_max_frame = 0;
	n->nonce = nonce;
	n->started_ms = now_ms;
	n->sent_ms = now_ms;
	return neg_build(n, RPMSG_FRAG_PROBE, nonce, msg, msg_cap);
}

enum rpmsg_frag_neg_outcome rpmsg_frag_neg_poll(struct rpmsg_frag_neg *n, uint32_t now_ms, uint8_t *msg,
						uint32_t msg_cap, uint32_t *msg_len)
{
	*msg_len = 0;
	if (n->state != RPMSG_FRAG_NEG_PROBING)
		return RPMSG_FRAG_NEG_SAME;
	if ((uint32_t)(now_ms - n->started_ms) >= n->give_up_ms) {
		n->state = RPMSG_FRAG_NEG_RAW;
		return RPMSG_FRAG_NEG_TO_RAW;
	}
	if ((uint32_t)(now_ms - n->sent_ms) >= n->resend_ms) {
		n->sent_ms = now_ms;
		*msg_len = neg_build(n, RPMSG_FRAG_PROBE, n->nonce, msg, msg_cap);
	}
	return RPMSG_FRAG_NEG_SAME;
}

uint32_t rpmsg_frag_neg_next_poll(const struct rpmsg_frag_neg *n, uint32_t now_ms)
{
	uint32_t to_resend, to_give_up, since_sent, since_start;

	if (n->state != RPMSG_FRAG_NEG_PROBING)
		return 0;
	since_sent = (uint32_t)(now_ms - n->sent_ms);
	since_start = (uint32_t)(now_ms - n->started_ms);
	to_resend = since_sent >= n->resend_ms ? 1u : n->resend_ms - since_sent;
	to_give_up = since_start >= n->give_up_ms ? 1u : n->give_up_ms - since_start;
	return to_resend < to_give_up ? to_resend : to_give_up;
}

enum rpmsg_frag_neg_outcome rpmsg_frag_neg_on_control(struct rpmsg_frag_neg *n, const uint8_t *msg, uint32_t len,
						      uint8_t *reply, uint32_t reply_cap, uint32_t *reply_len)
{
	struct rpmsg_frag_probe p;

	*reply_len = 0;
	if (rpmsg_frag_probe_parse(msg, len, &p) < 0)
		return RPMSG_FRAG_NEG_SAME;
	if (p.type == RPMSG_FRAG_PROBE)
		*reply_len = neg_build(n, RPMSG_FRAG_PROBE_REPLY, p.nonce, reply, reply_cap);
	else if (n->state == RPMSG_FRAG_NEG_IDLE || p.nonce != n->nonce)
		return RPMSG_FRAG_NEG_SAME; /* a stale reply, or one before we probed */
	n->peer_max_frame = p.max_frame;
	if (n->state == RPMSG_FRAG_NEG_FRAG)
		return RPMSG_FRAG_NEG_SAME;
	n->state = RPMSG_FRAG_NEG_FRAG;
	return RPMSG_FRAG_NEG_TO_FRAG;
}

uint32_t rpmsg_frag_neg_send_max_frame(const struct rpmsg_frag_neg *n)
{
	if (n->peer_max_frame && n->peer_max_frame < n->max_frame)
		return n->peer_max_frame;
	return n->max_frame;
}
