/*
 * Test program for frag/rpmsg_frag.c. Reads the shared test vectors (frag/vectors/frag-v1.json)
 * converted to a line format by frag/test/vectors-to-lines.mjs, checks every vector, then runs the
 * checks that need C: millisecond wrap-around, API edge cases, the negotiation state machine, and a
 * random-fault run (build it with
 * -fsanitize=address,undefined so any out-of-bounds access fails the run).
 *
 *   node frag/test/vectors-to-lines.mjs | ./frag_vectors_test
 *
 * Input tokens (whitespace separated; "-" = empty):
 *   ENC maxPayload seq frameHex nMessages name      then nMessages x  MSG hex
 *   REJ maxPayload length runt|oversize name
 *   DEC maxFrame timeoutMs nSteps name              then nSteps x
 *       PUSH at msgHex none|frame|control frameHex discarded(0|1) failures(comma list|-)
 *       TICK at failures
 *     and END fragmentsReceived fragmentsDiscarded framesReassembled rawFrames controlReceived
 *             lost duplicate truncated overlong badVersion badHeader timeout
 *   PENC type version maxFrame nonce hex name
 *   PPARSE hex ok(0|1) type version maxFrame nonce name
 * Prints one line per failure and a summary; exit status 0 only if everything passed and at least one
 * vector of each kind was seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpmsg_frag.h"

static int failures, checks;
static char *tok;
static size_t tok_cap;

#define CHECK(cond, ...)                                                \
	do {                                                            \
		checks++;                                               \
		if (!(cond)) {                                          \
			failures++;                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
			printf(__VA_ARGS__);                            \
			printf("\n");                                   \
		}                                                       \
	} while (0)

/* Next whitespace-separated token from stdin, or NULL at end of input. */
static const char *next(void)
{
	size_t n = 0;
	int c;

	while ((c = getchar()) != EOF && (c == ' ' || c == '\n' || c == '\r' || c == '\t'))
		;
	if (c == EOF)
		return NULL;
	do {
		if (n + 1 >= tok_cap) {
			tok_cap = tok_cap ? tok_cap * 2 : 256;
			tok = realloc(tok, tok_cap);
			if (!tok) {
				fprintf(stderr, "out of memory\n");
				exit(2);
			}
		}
		tok[n++] = (char)c;
	} while ((c = getchar()) != EOF && c != ' ' && c != '\n' && c != '\r' && c != '\t');
	tok[n] = 0;
	return tok;
}

static const char *need(void)
{
	const char *t = next();
	if (!t) {
		fprintf(stderr, "unexpected end of vector input\n");
		exit(2);
	}
	return t;
}

static unsigned long num(void)
{
	return strtoul(need(), NULL, 10);
}

static char *dup_str(const char *s)
{
	char *d = malloc(strlen(s) + 1);
	if (!d)
		exit(2);
	strcpy(d, s);
	return d;
}

/* Decode a hex token into a fresh buffer; "-" is empty. */
static uint8_t *hex(uint32_t *len)
{
	const char *t = need();
	size_t n = strcmp(t, "-") == 0 ? 0 : strlen(t) / 2, i;
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		exit(2);
	for (i = 0; i < n; i++) {
		unsigned v;
		sscanf(t + 2 * i, "%2x", &v);
		b[i] = (uint8_t)v;
	}
	*len = (uint32_t)n;
	return b;
}

/* Parse a failures token ("-" or "lost,duplicate") into per-reason counts. */
static void parse_failures(const char *t, uint32_t counts[RPMSG_FRAG_NFAILURES])
{
	char buf[256];
	char *p;
	int r;

	memset(counts, 0, sizeof(uint32_t) * RPMSG_FRAG_NFAILURES);
	if (strcmp(t, "-") == 0)
		return;
	snprintf(buf, sizeof(buf), "%s", t);
	for (p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		for (r = 0; r < RPMSG_FRAG_NFAILURES; r++)
			if (strcmp(p, rpmsg_frag_failure_names[r]) == 0)
				break;
		if (r == RPMSG_FRAG_NFAILURES) {
			fprintf(stderr, "unknown failure reason %s\n", p);
			exit(2);
		}
		counts[r]++;
	}
}

static int n_enc, n_rej, n_dec, n_penc, n_pparse;

static void run_enc(void)
{
	uint32_t max_payload = (uint32_t)num(), seq = (uint32_t)num(), frame_len, n, i, count;
	uint8_t *frame = hex(&frame_len);
	uint32_t n_msgs = (uint32_t)num();
	char *name = dup_str(need());
	struct rpmsg_frag_tx tx;
	uint8_t *msg = malloc(max_payload + 8);

	n_enc++;
	CHECK(rpmsg_frag_tx_init(&tx, max_payload) == 0, "%s: init", name);
	tx.next_seq = (uint16_t)seq;
	count = rpmsg_frag_tx_begin(&tx, frame_len);
	CHECK(count == n_msgs, "%s: %u messages, want %u", name, count, n_msgs);
	for (i = 0; i < n_msgs; i++) {
		uint32_t want_len, got;
		uint8_t *want;

		need(); /* MSG */
		want = hex(&want_len);
		memset(msg, 0xA5, max_payload + 8);
		got = rpmsg_frag_tx_fragment(&tx, frame, frame_len, i, msg, max_payload);
		CHECK(got == want_len && memcmp(msg, want, want_len) == 0, "%s: message %u differs (len %u, want %u)",
		      name, i, got, want_len);
		CHECK(msg[got] == 0xA5, "%s: message %u wrote past its end", name, i);
		free(want);
	}
	n = rpmsg_frag_tx_fragment(&tx, frame, frame_len, n_msgs, msg, max_payload);
	CHECK(n == 0, "%s: index past the last fragment accepted", name);
	CHECK(tx.fragments_sent == n_msgs && tx.frames_sent == 1, "%s: counters", name);
	CHECK(tx.next_seq == (uint16_t)(seq + 1), "%s: next seq", name);
	free(frame);
	free(msg);
	free(name);
}

static void run_rej(void)
{
	uint32_t max_payload = (uint32_t)num(), length = (uint32_t)num();
	int runt = strcmp(need(), "runt") == 0;
	char *name = dup_str(need());
	struct rpmsg_frag_tx tx;

	n_rej++;
	rpmsg_frag_tx_init(&tx, max_payload);
	CHECK(rpmsg_frag_tx_begin(&tx, length) == 0, "%s: accepted", name);
	CHECK(runt ? tx.frames_runt == 1 : tx.frames_oversize == 1, "%s: not counted", name);
	CHECK(tx.next_seq == 0, "%s: used a sequence number", name);
	free(name);
}

static const char *result_name(enum rpmsg_frag_rx_result r)
{
	return r == RPMSG_FRAG_RX_FRAME ? "frame" : r == RPMSG_FRAG_RX_CONTROL ? "control" : "none";
}

static void run_dec(void)
{
	uint32_t max_frame = (uint32_t)num(), timeout = (uint32_t)num(), steps = (uint32_t)num(), s;
	char *name = dup_str(need());
	uint8_t *buf = malloc(max_frame);
	struct rpmsg_frag_rx rx;
	uint32_t want_end[12], i;
	int r;

	n_dec++;
	CHECK(rpmsg_frag_rx_init(&rx, buf, max_frame, timeout) == 0, "%s: init", name);
	for (s = 0; s < steps; s++) {
		const char *kind = need();
		uint32_t before[RPMSG_FRAG_NFAILURES], want[RPMSG_FRAG_NFAILURES];
		uint32_t discarded_before = rx.fragments_discarded, at;
		int want_discard = 0;

		memcpy(before, rx.failures, sizeof(before));
		if (strcmp(kind, "TICK") == 0) {
			at = (uint32_t)num();
			rpmsg_frag_rx_tick(&rx, at);
		} else {
			uint32_t len, want_frame_len, frame_len = 0;
			uint8_t *m, *want_frame;
			const uint8_t *frame = NULL;
			char want_result[16];
			enum rpmsg_frag_rx_result res;

			at = (uint32_t)num();
			m = hex(&len);
			snprintf(want_result, sizeof(want_result), "%s", need());
			want_frame = hex(&want_frame_len);
			want_discard = (int)num();
			res = rpmsg_frag_rx_push(&rx, m, len, at, &frame, &frame_len);
			CHECK(strcmp(result_name(res), want_result) == 0, "%s: step %u: result %s, want %s", name, s,
			      result_name(res), want_result);
			if (res == RPMSG_FRAG_RX_FRAME && strcmp(want_result, "frame") == 0)
				CHECK(frame_len == want_frame_len && memcmp(frame, want_frame, frame_len) == 0,
				      "%s: step %u: wrong frame (len %u, want %u)", name, s, frame_len, want_frame_len);
			free(m);
			free(want_frame);
		}
		parse_failures(need(), want);
		for (r = 0; r < RPMSG_FRAG_NFAILURES; r++)
			CHECK(rx.failures[r] - before[r] == want[r], "%s: step %u: %s +%u, want +%u", name, s,
			      rpmsg_frag_failure_names[r], rx.failures[r] - before[r], want[r]);
		CHECK(rx.fragments_discarded - discarded_before == (uint32_t)want_discard,
		      "%s: step %u: discarded +%u, want +%d", name, s, rx.fragments_discarded - discarded_before,
		      want_discard);
	}
	need(); /* END */
	for (i = 0; i < 12; i++)
		want_end[i] = (uint32_t)num();
	CHECK(rx.fragments_received == want_end[0], "%s: fragmentsReceived %u want %u", name, rx.fragments_received,
	      want_end[0]);
	CHECK(rx.fragments_discarded == want_end[1], "%s: fragmentsDiscarded", name);
	CHECK(rx.frames_reassembled == want_end[2], "%s: framesReassembled", name);
	CHECK(rx.raw_frames == want_end[3], "%s: rawFrames", name);
	CHECK(rx.control_received == want_end[4], "%s: controlReceived", name);
	for (r = 0; r < RPMSG_FRAG_NFAILURES; r++)
		CHECK(rx.failures[r] == want_end[5 + r], "%s: final %s %u want %u", name, rpmsg_frag_failure_names[r],
		      rx.failures[r], want_end[5 + r]);
	free(buf);
	free(name);
}

static void run_penc(void)
{
	struct rpmsg_frag_probe p;
	uint32_t want_len, got;
	uint8_t *want, msg[64];
	char *name;

	p.type = (uint8_t)num();
	p.version = (uint8_t)num();
	p.max_frame = (uint16_t)num();
	p.nonce = (uint32_t)num();
	want = hex(&want_len);
	name = dup_str(need());
	n_penc++;
	got = rpmsg_frag_probe_build(&p, msg, sizeof(msg));
	CHECK(got == want_len && memcmp(msg, want, want_len) == 0, "%s: probe bytes differ", name);
	CHECK(rpmsg_frag_probe_build(&p, msg, 59) == 0, "%s: built into a too small buffer", name);
	free(want);
	free(name);
}

static void run_pparse(void)
{
	uint32_t len;
	uint8_t *m = hex(&len);
	int ok = (int)num();
	struct rpmsg_frag_probe want, got;
	char *name;

	want.type = (uint8_t)num();
	want.version = (uint8_t)num();
	want.max_frame = (uint16_t)num();
	want.nonce = (uint32_t)num();
	name = dup_str(need());
	n_pparse++;
	memset(&got, 0, sizeof(got));
	if (ok) {
		CHECK(rpmsg_frag_probe_parse(m, len, &got) == 0, "%s: rejected", name);
		CHECK(got.type == want.type && got.version == want.version && got.max_frame == want.max_frame &&
			      got.nonce == want.nonce,
		      "%s: fields %u %u %u %u", name, got.type, got.version, got.max_frame, got.nonce);
	} else {
		CHECK(rpmsg_frag_probe_parse(m, len, &got) == -1, "%s: accepted", name);
	}
	free(m);
	free(name);
}

/* ---- checks that are specific to C ----------------------------------------------------------- */

static uint8_t frame_a[1000];
static uint8_t rxbuf[RPMSG_FRAG_MAX_FRAME];

static void test_clock_wrap(void)
{
	struct rpmsg_frag_tx tx;
	struct rpmsg_frag_rx rx;
	uint8_t m[3][496];
	uint32_t len[3], i, flen = 0;
	const uint8_t *f = NULL;
	const uint32_t t0 = 0xFFFFFF00u; /* 256 ms before the millisecond counter wraps */

	for (i = 0; i < sizeof(frame_a); i++)
		frame_a[i] = (uint8_t)(i * 7);
	rpmsg_frag_tx_init(&tx, 496);
	CHECK(rpmsg_frag_tx_begin(&tx, 1000) == 3, "wrap: 3 fragments");
	for (i = 0; i < 3; i++)
		len[i] = rpmsg_frag_tx_fragment(&tx, frame_a, 1000, i, m[i], 496);
	rpmsg_frag_rx_init(&rx, rxbuf, sizeof(rxbuf), 1000);
	/* Across the wrap, within the timeout: delivered. */
	rpmsg_frag_rx_push(&rx, m[0], len[0], t0, &f, &flen);
	rpmsg_frag_rx_push(&rx, m[1], len[1], t0 + 300u, &f, &flen);
	CHECK(rpmsg_frag_rx_push(&rx, m[2], len[2], t0 + 900u, &f, &flen) == RPMSG_FRAG_RX_FRAME &&
		      flen == 1000 && memcmp(f, frame_a, 1000) == 0,
	      "wrap: frame across the counter wrap not delivered");
	/* Across the wrap, beyond the timeout: dropped. */
	rpmsg_frag_tx_begin(&tx, 1000);
	for (i = 0; i < 3; i++)
		len[i] = rpmsg_frag_tx_fragment(&tx, frame_a, 1000, i, m[i], 496);
	rpmsg_frag_rx_push(&rx, m[0], len[0], t0, &f, &flen);
	rpmsg_frag_rx_tick(&rx, t0 + 1001u);
	CHECK(rx.failures[RPMSG_FRAG_TIMEOUT] == 1, "wrap: timeout across the counter wrap not detected");
}

static void test_api_edges(void)
{
	struct rpmsg_frag_tx tx;
	struct rpmsg_frag_rx rx;
	uint8_t m[496], small[100];
	const uint8_t *f = NULL;
	uint32_t flen = 0, len;

	CHECK(rpmsg_frag_tx_init(&tx, 63) == -1, "tx_init accepted maxPayload 63");
	CHECK(rpmsg_frag_tx_begin(&tx, 100) == 0, "uninitialised tx accepted a frame");
	CHECK(rpmsg_frag_rx_init(&rx, rxbuf, 13, 0) == -1, "rx_init accepted a 13-byte buffer");
	CHECK(rpmsg_frag_rx_init(&rx, NULL, 100, 0) == -1, "rx_init accepted a NULL buffer");
	CHECK(rpmsg_frag_rx_init(&rx, rxbuf, 1514, 0) == 0 && rx.timeout_ms == RPMSG_FRAG_TIMEOUT_MS &&
		      rx.max_frame == 1514,
	      "rx_init defaults");

	rpmsg_frag_tx_init(&tx, 496);
	rpmsg_frag_tx_set_max_frame(&tx, 1514);
	CHECK(rpmsg_frag_tx_begin(&tx, 1515) == 0 && tx.frames_oversize == 1, "peer maxFrame not honoured");
	CHECK(rpmsg_frag_tx_begin(&tx, 1000) == 3, "1000-byte frame");
	CHECK(rpmsg_frag_tx_fragment(&tx, frame_a, 1000, 0, small, sizeof(small)) == 0,
	      "fragment written into a too small message buffer");
	len = rpmsg_frag_tx_fragment(&tx, frame_a, 1000, 2, m, sizeof(m));
	CHECK(len == 56, "last fragment length %u", len);

	/* A frame one byte over the receiver's 1514-byte buffer is refused, not written past the buffer. */
	rpmsg_frag_tx_set_max_frame(&tx, 9014);
	{
		static uint8_t big[1515];
		uint8_t mm[496];
		uint32_t l;
		CHECK(rpmsg_frag_tx_begin(&tx, 1515) == 4, "1515-byte frame");
		l = rpmsg_frag_tx_fragment(&tx, big, 1515, 0, mm, sizeof(mm));
		CHECK(rpmsg_frag_rx_push(&rx, mm, l, 0, &f, &flen) == RPMSG_FRAG_RX_NONE &&
			      rx.failures[RPMSG_FRAG_OVERLONG] == 1,
		      "frame above the receiver buffer not refused");
	}
	CHECK(rpmsg_frag_has_signature(m, 14) == 1 && rpmsg_frag_has_signature(m, 13) == 0, "signature length rule");
}

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return *seed >> 8;
}

/* Random messages and random faults: must never crash (ASan/UBSan build) or deliver a frame that
 * is not exactly one that was sent. */
static void test_random(void)
{
	static uint8_t frames[64][3000];
	static uint32_t frame_lens[64];
	struct rpmsg_frag_tx tx;
	struct rpmsg_frag_rx rx;
	uint32_t seed = 12345u, iter, delivered = 0, bogus = 0;

	rpmsg_frag_tx_init(&tx, 496);
	rpmsg_frag_rx_init(&rx, rxbuf, sizeof(rxbuf), 1000);
#define RND() rnd(&seed)
	for (iter = 0; iter < 20000; iter++) {
		uint32_t k = iter % 64, i, n, len = 14 + RND() % 2986;
		frame_lens[k] = len;
		for (i = 0; i < len; i++)
			frames[k][i] = (uint8_t)RND();
		n = rpmsg_frag_tx_begin(&tx, len);
		for (i = 0; i < n; i++) {
			uint8_t m[600];
			uint32_t l = rpmsg_frag_tx_fragment(&tx, frames[k], len, i, m, 496), fault = RND() % 100, rep = 1, r;
			const uint8_t *f;
			uint32_t flen;

			if (fault < 5)
				continue;                       /* lost */
			if (fault < 10)
				rep = 2;                        /* duplicated */
			else if (fault < 15)
				l = RND() % (l + 1);            /* truncated */
			else if (fault < 20) {
				uint32_t at = RND() % 16;               /* header bit flip */
				m[at] ^= (uint8_t)(1u << (RND() % 8));
			}
			else if (fault < 22)
				for (r = 0; r < l; r++)         /* garbage */
					m[r] = (uint8_t)RND();
			for (r = 0; r < rep; r++) {
				uint32_t raw_before = rx.raw_frames, j, match = 0;
				if (rpmsg_frag_rx_push(&rx, m, l, iter, &f, &flen) != RPMSG_FRAG_RX_FRAME)
					continue;
				if (rx.raw_frames != raw_before)
					continue; /* a message whose signature was hit is a raw frame by definition */
				for (j = 0; j < 64 && !match; j++)
					match = flen == frame_lens[j] && memcmp(f, frames[j], flen) == 0;
				delivered++;
				bogus += !match;
			}
		}
	}
#undef RND
	CHECK(bogus == 0, "random: %u delivered frames were never sent", bogus);
	CHECK(delivered > 5000, "random: only %u frames delivered", delivered);
}

/* The daemon's negotiation (spec §6): probe, resend, reply, fallback, late upgrade, stale replies. */
static void reply_to(uint8_t *m, uint8_t type, uint32_t nonce, uint16_t max_frame)
{
	struct rpmsg_frag_probe p = { type, 1, max_frame, nonce };

	rpmsg_frag_probe_build(&p, m, RPMSG_FRAG_CONTROL_LEN);
}

static void test_negotiator(void)
{
	struct rpmsg_frag_neg n;
	struct rpmsg_frag_probe p;
	uint8_t m[RPMSG_FRAG_CONTROL_LEN], r[RPMSG_FRAG_CONTROL_LEN];
	uint32_t len;

	/* A reply with the current nonce switches to frag, limited to the peer's maxFrame. */
	rpmsg_frag_neg_init(&n, 9014, 0, 0);
	CHECK(rpmsg_frag_neg_start(&n, 0, 0xabc, m, sizeof(m)) == 60, "start builds a 60-byte PROBE");
	CHECK(rpmsg_frag_probe_parse(m, 60, &p) == 0 && p.type == RPMSG_FRAG_PROBE && p.nonce == 0xabc && p.max_frame == 9014,
	      "the PROBE carries the nonce and maxFrame");
	CHECK(rpmsg_frag_neg_next_poll(&n, 0) == 500, "next poll at the resend time");
	reply_to(m, RPMSG_FRAG_PROBE_REPLY, 0xabd, 1514);
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_SAME && len == 0,
	      "a reply with another nonce changes nothing");
	reply_to(m, RPMSG_FRAG_PROBE_REPLY, 0xabc, 1514);
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_TO_FRAG && len == 0,
	      "the reply switches to frag");
	CHECK(rpmsg_frag_neg_send_max_frame(&n) == 1514 && n.peer_max_frame == 1514, "frames limited to the peer's");
	CHECK(rpmsg_frag_neg_next_poll(&n, 10) == 0, "no more polls once settled");

	/* Resend every 500 ms with the same nonce, fall back at 1500 ms, upgrade on a late reply. */
	rpmsg_frag_neg_init(&n, 1514, 0, 0);
	rpmsg_frag_neg_start(&n, 1000, 77, m, sizeof(m));
	CHECK(rpmsg_frag_neg_poll(&n, 1499, m, sizeof(m), &len) == RPMSG_FRAG_NEG_SAME && len == 0, "no resend before 500 ms");
	CHECK(rpmsg_frag_neg_poll(&n, 1500, m, sizeof(m), &len) == RPMSG_FRAG_NEG_SAME && len == 60 &&
	      rpmsg_frag_probe_parse(m, 60, &p) == 0 && p.nonce == 77, "resent at 500 ms, same nonce");
	CHECK(rpmsg_frag_neg_poll(&n, 2000, m, sizeof(m), &len) == RPMSG_FRAG_NEG_SAME && len == 60, "resent at 1000 ms");
	CHECK(rpmsg_frag_neg_poll(&n, 2499, m, sizeof(m), &len) == RPMSG_FRAG_NEG_SAME, "still probing at 1499 ms");
	CHECK(rpmsg_frag_neg_poll(&n, 2500, m, sizeof(m), &len) == RPMSG_FRAG_NEG_TO_RAW && n.state == RPMSG_FRAG_NEG_RAW,
	      "fallback at 1500 ms");
	CHECK(rpmsg_frag_neg_poll(&n, 9000, m, sizeof(m), &len) == RPMSG_FRAG_NEG_SAME && len == 0, "quiet after the fallback");
	reply_to(m, RPMSG_FRAG_PROBE_REPLY, 77, 9014);
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_TO_FRAG, "a late reply upgrades");
	CHECK(rpmsg_frag_neg_send_max_frame(&n) == 1514, "own maxFrame below the peer's");

	/* A PROBE from the peer is answered with its nonce and our maxFrame, and shows it speaks frag. */
	rpmsg_frag_neg_init(&n, 1514, 0, 0);
	rpmsg_frag_neg_start(&n, 0, 1, m, sizeof(m));
	rpmsg_frag_neg_poll(&n, 1500, m, sizeof(m), &len);
	reply_to(m, RPMSG_FRAG_PROBE, 0xabcdef01, 9014);
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_TO_FRAG && len == 60 &&
	      rpmsg_frag_probe_parse(r, 60, &p) == 0 && p.type == RPMSG_FRAG_PROBE_REPLY && p.nonce == 0xabcdef01 &&
	      p.max_frame == 1514, "a PROBE is answered and switches to frag");
	reply_to(m, RPMSG_FRAG_PROBE, 7, 9014);
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_SAME && len == 60,
	      "a second PROBE (peer restarted) is answered, no new outcome");

	/* Before start, a reply means nothing; garbage is ignored; timings are the caller's. */
	rpmsg_frag_neg_init(&n, 1514, 50, 150);
	reply_to(m, RPMSG_FRAG_PROBE_REPLY, 0, 1514);
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_SAME && n.state == RPMSG_FRAG_NEG_IDLE,
	      "a reply before start changes nothing");
	memset(m, 0, sizeof(m));
	CHECK(rpmsg_frag_neg_on_control(&n, m, 60, r, sizeof(r), &len) == RPMSG_FRAG_NEG_SAME && len == 0, "garbage ignored");
	rpmsg_frag_neg_start(&n, 0xfffffff0u, 5, m, sizeof(m));
	CHECK(rpmsg_frag_neg_next_poll(&n, 0xfffffff0u) == 50, "the caller's resend time");
	CHECK(rpmsg_frag_neg_poll(&n, 0xfffffff0u + 150u, m, sizeof(m), &len) == RPMSG_FRAG_NEG_TO_RAW,
	      "the caller's give-up time, across the clock's wrap");
}

int main(void)
{
	const char *t;

	while ((t = next()) != NULL) {
		if (strcmp(t, "ENC") == 0)
			run_enc();
		else if (strcmp(t, "REJ") == 0)
			run_rej();
		else if (strcmp(t, "DEC") == 0)
			run_dec();
		else if (strcmp(t, "PENC") == 0)
			run_penc();
		else if (strcmp(t, "PPARSE") == 0)
			run_pparse();
		else {
			fprintf(stderr, "unknown vector line %s\n", t);
			return 2;
		}
	}
	test_clock_wrap();
	test_api_edges();
	test_random();
	test_negotiator();
	CHECK(n_enc > 0 && n_rej > 0 && n_dec > 0 && n_penc > 0 && n_pparse > 0, "vector input incomplete");
	printf("vectors: %d encode, %d reject, %d decode, %d probe-encode, %d probe-parse; %d checks, %d failed\n",
	       n_enc, n_rej, n_dec, n_penc, n_pparse, checks, failures);
	free(tok);
	return failures ? 1 : 0;
}
