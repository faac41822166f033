// SPDX-License-Identifier: GPL-2.0
/*
 * vx-peer: the simulated VxWorks side of one rpmsg channel.
 *
 * It stands where the remote core stands on a board: at the far end of the channel's virtio rings,
 * terminating the eth-dev endpoint in a network interface. The rings are modelled as RING.md (beside
 * this file) describes, with three fds the daemon passes in:
 *
 *   fd 3  data      SOCK_SEQPACKET, batches of ring buffers in both directions (sim_ring.h);
 *   fd 4  doorbell  SOCK_SEQPACKET, kicks: "the used index you asked about has passed";
 *   fd 5  ring      a shared page (sim_ring.h): each direction's used index and event index.
 *
 * Ring limits are enforced as the real ring does: a message larger than the channel's maximum payload
 * is refused (counted), and at most num-bufs/2 messages are in flight per direction: the peer stops
 * reading its TAP while the daemon holds num-bufs/2 messages it has not taken, and publishes in the
 * shared page every message it takes from the daemon once it has delivered it; a kick goes only to a
 * side that asked for one (VIRTIO_F_EVENT_IDX).
 *
 * With --framing frag the peer speaks the `frag` framing (frag/wire-spec.md) through the portable
 * implementation a VxWorks driver would embed (frag/rpmsg_frag.c): it sends a PROBE when it
 * starts, answers the daemon's PROBEs, reassembles fragments from the daemon at any time, and fragments
 * its own frames once the daemon has shown that it speaks frag. Without it the peer is a plain raw-only
 * peer: one frame per message, MTU at most max-payload - 14, frag messages reach its interface as the
 * foreign Ethernet frames they look like.
 *
 * Usage: vx-peer --netns NS --ifname NAME --mac MAC --mtu MTU --max-payload N --num-bufs N [--framing frag]
 * Prints "ready" on stdout once its interface exists and is up; exits on SIGTERM or when the daemon
 * closes the data socket. Counters are printed as one JSON line on stderr at exit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../frag/rpmsg_frag.h"
#include "sim_ring.h"

#define DATA_FD 3
#define DOORBELL_FD 4
#define RING_FD 5
#define BATCH 64		/* frames read from the TAP per wakeup, at most */
#define QSLOTS 64		/* outgoing messages queued */
#define RX_BATCHES 4		/* batches (sim_ring.h) per recvmmsg */
#define FLUSH_EVERY 16		/* after the first frame of a wakeup, send in batches of this many */
#define TICK_MS 100

enum slot_kind { K_FRAME, K_FRAG, K_FRAG_LAST, K_CONTROL };

struct peer {
	int tap;
	unsigned int max_payload;
	unsigned int window;		/* num-bufs / 2: buffers per direction */
	struct sim_ring_shared *ring;
	uint32_t sent;			/* messages sent to the daemon (free-running) */
	int waiting_kick;		/* window full, event index armed */
	int want_out;			/* the data socket was full: wait for POLLOUT */
	unsigned long long tx_frames, rx_frames, refused_oversize, tap_drops;
	unsigned long long window_waits;	/* times it waited for a kick with the window full */
	/* outgoing queue: QSLOTS slots of max_payload bytes */
	unsigned char *q;
	uint32_t qlen[QSLOTS];
	unsigned char qkind[QSLOTS];
	unsigned int qhead, qcount;
	/* --framing frag */
	int frag;			/* speaks frag: reassembles, answers probes */
	int frag_tx;			/* sends with frag headers: the daemon has shown it speaks frag */
	unsigned int max_frags;		/* messages the largest frame takes */
	struct rpmsg_frag_tx tx;
	struct rpmsg_frag_rx rx;
	unsigned char *frame;		/* a frame read from the TAP in frag mode */
	unsigned char ctl[RPMSG_FRAG_CONTROL_LEN];
	int ctl_pending;		/* ctl waits for a free queue slot */
	unsigned long long signature_drops;
};

static volatile sig_atomic_t stop;
static unsigned char overflow_tail[65536];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "vx-peer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		      &mac[5]) == 6 ? 0 : -1;
}

static void enter_netns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), strchr(name, '/') ? "%s" : "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die(path);
	close(fd);
}

static int open_tap(const char *name, const unsigned char mac[6], int mtu)
{
	struct ifreq ifr;
	int fd, sock;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket");
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
		die("SIOCSIFHWADDR");
	ifr.ifr_mtu = mtu;
	if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
		die("SIOCSIFMTU");
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS");
	close(sock);
	return fd;
}

/*
 * The socket must hold a whole ring's worth of frames, or it would push back before the ring is full.
 * SO_SNDBUFFORCE passes wmem_max; it needs CAP_NET_ADMIN, which the peer has.
 */
static void set_ring_room(unsigned int slots, unsigned int max_payload)
{
	int room = (int)(slots * (max_payload + 1024));

	if (setsockopt(DATA_FD, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof(room)) < 0)
		die("SO_SNDBUFFORCE");
}

static uint32_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static unsigned char *q_slot(struct peer *p, unsigned int i)
{
	return p->q + (size_t)((p->qhead + i) % QSLOTS) * p->max_payload;
}

static void q_push(struct peer *p, uint32_t len, unsigned char kind)
{
	unsigned int at = (p->qhead + p->qcount) % QSLOTS;

	p->qlen[at] = len;
	p->qkind[at] = kind;
	p->qcount++;
}

/* Messages the daemon can still take (the window, less what is in flight). */
static unsigned int room(const struct peer *p)
{
	return p->window - sim_ring_in_flight(&p->ring->to_daemon, p->sent, p->window);
}

/*
 * Builds batches (sim_ring.h) of the first n queued messages into msgs, iov and table (room for
 * 2 * QSLOTS entries each); returns the number of batches and their message counts in counts.
 */
static unsigned int build_batches(const struct peer *p, unsigned int n, struct mmsghdr *msgs, struct iovec *iov,
				  uint32_t *table, unsigned int *counts)
{
	unsigned int d = 0, i = 0, v = 0, t = 0;

	while (i < n) {
		unsigned int head_v = v++, head_t = t++, count = 0, bytes = 0;

		for (; i < n; i++) {
			unsigned int at = (p->qhead + i) % QSLOTS;

			if (!sim_ring_batch_fits(count, bytes, p->qlen[at]))
				break;
			table[t++] = p->qlen[at];
			iov[v].iov_base = p->q + (size_t)at * p->max_payload;
			iov[v++].iov_len = p->qlen[at];
			count++;
			bytes += p->qlen[at];
		}
		table[head_t] = count;
		iov[head_v].iov_base = &table[head_t];
		iov[head_v].iov_len = 4u * (1u + count);
		memset(&msgs[d], 0, sizeof(msgs[d]));
		msgs[d].msg_hdr.msg_iov = &iov[head_v];
		msgs[d].msg_hdr.msg_iovlen = 1u + count;
		counts[d++] = count;
	}
	return d;
}

/* Sends what the window and the socket take from the queue, in batches; 0, or -1 if the daemon is gone. */
static int flush(struct peer *p)
{
	struct mmsghdr msgs[QSLOTS];
	struct iovec iov[2 * QSLOTS];
	uint32_t table[2 * QSLOTS];
	unsigned int counts[QSLOTS];

	for (;;) {
		unsigned int n = p->qcount, r, i, d, taken = 0;
		int sent;

		if (p->ctl_pending && p->qcount < QSLOTS) {
			memcpy(q_slot(p, p->qcount), p->ctl, sizeof(p->ctl));
			q_push(p, sizeof(p->ctl), K_CONTROL);
			p->ctl_pending = 0;
			n = p->qcount;
		}
		if (!n || p->want_out)
			return 0;
		r = room(p);
		if (!r) {
			/* Window full: ask for a kick once half of it is free, and look once more. */
			if (sim_ring_arm(&p->ring->to_daemon, p->sent, p->window) >= p->window) {
				p->waiting_kick = 1;
				p->window_waits++;
				return 0;
			}
			continue;
		}
		if (n > r)
			n = r;
		d = build_batches(p, n, msgs, iov, table, counts);
		sent = sendmmsg(DATA_FD, msgs, d, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				p->want_out = 1;
				return 0;
			}
			return -1;
		}
		for (i = 0; i < (unsigned int)sent; i++)
			taken += counts[i];
		for (i = 0; i < taken; i++) {
			unsigned char kind = p->qkind[(p->qhead + i) % QSLOTS];

			if (kind == K_FRAME || kind == K_FRAG_LAST)
				p->tx_frames++;
		}
		p->sent += taken;
		p->qhead = (p->qhead + taken) % QSLOTS;
		p->qcount -= taken;
	}
}

static void queue_control(struct peer *p, uint8_t type, uint32_t nonce)
{
	struct rpmsg_frag_probe pr = { type, RPMSG_FRAG_VERSION, (uint16_t)p->rx.max_frame, nonce };

	if (rpmsg_frag_probe_build(&pr, p->ctl, sizeof(p->ctl)) == RPMSG_FRAG_CONTROL_LEN)
		p->ctl_pending = 1;
}

/* A PROBE or PROBE_REPLY from the daemon: it speaks frag; a PROBE is answered. */
static void on_control(struct peer *p, const unsigned char *m, size_t n)
{
	struct rpmsg_frag_probe pr;

	if (rpmsg_frag_probe_parse(m, (uint32_t)n, &pr) < 0)
		return;
	if (pr.type == RPMSG_FRAG_PROBE)
		queue_control(p, RPMSG_FRAG_PROBE_REPLY, pr.nonce);
	rpmsg_frag_tx_set_max_frame(&p->tx, pr.max_frame);
	p->frag_tx = 1;
}

static void to_tap(struct peer *p, const unsigned char *frame, size_t len)
{
	if (write(p->tap, frame, len) < 0)
		p->tap_drops++;
	else
		p->rx_frames++;
}

/* One message from the daemon, frag mode: a raw frame, a fragment or a control message. */
static void take_message(struct peer *p, const unsigned char *m, size_t n)
{
	const uint8_t *frame;
	uint32_t frame_len;

	switch (rpmsg_frag_rx_push(&p->rx, m, (uint32_t)n, now_ms(), &frame, &frame_len)) {
	case RPMSG_FRAG_RX_FRAME:
		to_tap(p, frame, frame_len);
		break;
	case RPMSG_FRAG_RX_CONTROL:
		on_control(p, m, n);
		break;
	default:
		break;
	}
}

/* One message from the daemon: refused if longer than a ring buffer, else delivered. */
static void take(struct peer *p, const unsigned char *m, uint32_t len)
{
	if (len > p->max_payload)
		p->refused_oversize++;
	else if (p->frag)
		take_message(p, m, len);
	else
		to_tap(p, m, len);
}

/* Daemon -> peer: take batches off the "ring", deliver their messages, publish that their buffers are free. */
static int drain_data(struct peer *p, unsigned char *rx, size_t slot)
{
	struct mmsghdr msgs[RX_BATCHES];
	struct iovec iov[RX_BATCHES];
	unsigned int taken = 0;
	int n, i;

	for (i = 0; i < RX_BATCHES; i++) {
		iov[i].iov_base = rx + (size_t)i * slot;
		iov[i].iov_len = slot;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(DATA_FD, msgs, RX_BATCHES, MSG_DONTWAIT | MSG_TRUNC, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		const unsigned char *b = rx + (size_t)i * slot, *m;
		size_t len = msgs[i].msg_len;
		uint32_t count, k;

		if (len == 0) {
			/* The daemon closed the link (recvmmsg reports that as an empty message). */
			struct pollfd pfd = { .fd = DATA_FD, .events = POLLRDHUP };

			if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
				return -1;
		}
		count = len <= slot ? sim_ring_batch_parse(b, len) : 0;
		if (!count) {
			fprintf(stderr, "vx-peer: a %zu-byte datagram from the daemon is not a batch of ring buffers\n", len);
			return -1;
		}
		m = b + 4u * (1u + count);
		for (k = 0; k < count; k++) {
			uint32_t l = sim_ring_u32(b + 4u + 4u * k);

			take(p, m, l);
			m += l;
		}
		taken += count;
	}
	if (taken && sim_ring_consume(&p->ring->to_peer, taken)) {
		uint32_t v = htonl(p->ring->to_peer.used);

		if (send(DOORBELL_FD, &v, sizeof(v), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
			return -1;
	}
	return p->frag ? flush(p) : 0;
}

/* Queue slots a frame from the TAP may need: one, or the largest frame's fragments in frag mode. */
static unsigned int slots_needed(const struct peer *p)
{
	return p->frag_tx ? p->max_frags : 1;
}

static int tap_ready(const struct peer *p)
{
	return !p->want_out && !p->waiting_kick && QSLOTS - p->qcount >= slots_needed(p) &&
	       room(p) > p->qcount;
}

/* Peer -> daemon: only while the daemon has free buffers; the first frame leaves at once. */
static int drain_tap(struct peer *p)
{
	static uint32_t last;
	uint32_t now = now_ms();
	/* After a quiet spell, most likely one frame: take it without the read that says EAGAIN. */
	unsigned int n, budget = now - last <= 1 ? BATCH : 1;

	last = now;
	for (n = 0; n < budget && tap_ready(p); n++) {
		unsigned char *buf = p->frag_tx ? p->frame : q_slot(p, p->qcount);
		size_t cap = p->frag_tx ? RPMSG_FRAG_MAX_FRAME : p->max_payload;
		struct iovec iov[2] = { { buf, cap }, { overflow_tail, sizeof(overflow_tail) } };
		ssize_t len = readv(p->tap, iov, 2);

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		if (p->frag_tx) {
			uint32_t count = rpmsg_frag_tx_begin(&p->tx, (uint32_t)len), i;

			if (!count)
				p->refused_oversize++;
			for (i = 0; i < count; i++) {
				uint32_t m = rpmsg_frag_tx_fragment(&p->tx, p->frame, (uint32_t)len, i,
								    q_slot(p, p->qcount), p->max_payload);

				q_push(p, m, i + 1 == count ? K_FRAG_LAST : K_FRAG);
			}
		} else if ((size_t)len > p->max_payload) {
			p->refused_oversize++;
		} else if (p->frag && rpmsg_frag_has_signature(buf, (uint32_t)len)) {
			/* Sending raw, a frag-speaking peer must not send what looks like a fragment (spec 3.8). */
			p->signature_drops++;
		} else {
			q_push(p, (uint32_t)len, K_FRAME);
		}
		if ((n == 0 || p->qcount >= FLUSH_EVERY) && flush(p) < 0)
			return -2;
	}
	return flush(p) < 0 ? -2 : 0;
}

/* Kicks from the daemon: it took messages; look at the window again. */
static int drain_doorbell(struct peer *p)
{
	uint32_t v;
	ssize_t n;

	while ((n = recv(DOORBELL_FD, &v, sizeof(v), MSG_DONTWAIT)) == sizeof(v))
		p->waiting_kick = 0;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, 0, 'n' },
		{ "ifname", required_argument, 0, 'i' },
		{ "mac", required_argument, 0, 'm' },
		{ "mtu", required_argument, 0, 'u' },
		{ "max-payload", required_argument, 0, 'p' },
		{ "num-bufs", required_argument, 0, 'b' },
		{ "framing", required_argument, 0, 'f' },
		{ 0, 0, 0, 0 },
	};
	const char *netns = NULL, *ifname = NULL;
	unsigned char mac[6] = { 0x02, 0x76, 0x78, 0, 0, 1 };
	struct peer p = { 0 };
	struct sigaction sa = { 0 };
	unsigned char *rx;
	size_t rx_slot;
	void *ring;
	int mtu = 0, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': netns = optarg; break;
		case 'i': ifname = optarg; break;
		case 'm':
			if (parse_mac(optarg, mac))
				return fprintf(stderr, "vx-peer: bad --mac %s\n", optarg), 2;
			break;
		case 'u': mtu = atoi(optarg); break;
		case 'p': p.max_payload = strtoul(optarg, NULL, 0); break;
		case 'b': p.window = strtoul(optarg, NULL, 0) / 2; break;
		case 'f':
			if (strcmp(optarg, "frag") && strcmp(optarg, "raw"))
				return fprintf(stderr, "vx-peer: --framing raw|frag, not %s\n", optarg), 2;
			p.frag = !strcmp(optarg, "frag");
			break;
		default: return 2;
		}
	}
	if (!ifname || mtu <= 0 || !p.max_payload || !p.window) {
		fprintf(stderr, "usage: vx-peer [--netns NS] --ifname NAME [--mac MAC] --mtu MTU --max-payload N "
				"--num-bufs N [--framing raw|frag]  (data socket on fd 3, doorbell on fd 4, ring page on fd 5)\n");
		return 2;
	}
	/* A raw-only peer cannot carry more than one message's worth of frame. */
	if (!p.frag && (unsigned int)mtu + 14 > p.max_payload)
		mtu = (int)p.max_payload - 14;
	if (p.frag) {
		if ((unsigned int)mtu + 14 > RPMSG_FRAG_MAX_FRAME || rpmsg_frag_tx_init(&p.tx, p.max_payload) < 0) {
			fprintf(stderr, "vx-peer: --framing frag needs --mtu <= 9000 and --max-payload >= %u\n",
				RPMSG_FRAG_MIN_PAYLOAD);
			return 2;
		}
		p.max_frags = (mtu + 14 + p.tx.frag_payload - 1) / p.tx.frag_payload;
		if (p.max_frags + 1 > p.window || p.max_frags + 1 > QSLOTS) {
			fprintf(stderr, "vx-peer: a %d-byte frame does not fit %u ring buffers\n", mtu + 14, p.window);
			return 2;
		}
	}

	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ring = mmap(NULL, SIM_RING_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, RING_FD, 0);
	if (ring == MAP_FAILED)
		die("mapping the ring page (fd 5)");
	close(RING_FD);
	p.ring = ring;
	if (netns)
		enter_netns(netns);
	set_ring_room(p.window, p.max_payload);
	p.tap = open_tap(ifname, mac, mtu);
	p.q = malloc((size_t)QSLOTS * p.max_payload);
	rx_slot = (sim_ring_batch_max(p.max_payload) + 7u) & ~(size_t)7u;
	rx = malloc(RX_BATCHES * rx_slot);
	if (!p.q || !rx)
		die("malloc");
	if (p.frag) {
		static uint8_t reassembly[RPMSG_FRAG_MAX_FRAME];

		p.frame = malloc(RPMSG_FRAG_MAX_FRAME);
		if (!p.frame)
			die("malloc");
		rpmsg_frag_rx_init(&p.rx, reassembly, (uint32_t)mtu + 14, 0);
		/* Tell a daemon that is already running that this side (re)started and speaks frag (spec 6.5). */
		queue_control(&p, RPMSG_FRAG_PROBE, (uint32_t)getpid() ^ now_ms());
		if (flush(&p) < 0)
			die("probe");
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[3];
		int rc;

		/* Window full with nothing queued: ask for a kick before waiting (else no one wakes us). */
		if (!p.waiting_kick && !room(&p) &&
		    sim_ring_arm(&p.ring->to_daemon, p.sent, p.window) >= p.window) {
			p.waiting_kick = 1;
			p.window_waits++;
		}
		pfd[0] = (struct pollfd){ .fd = DATA_FD, .events = POLLIN | (p.want_out ? POLLOUT : 0) };
		pfd[1] = (struct pollfd){ .fd = DOORBELL_FD, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = tap_ready(&p) ? p.tap : -1, .events = POLLIN };

		/* Frag only: a reassembly in progress times out on the tick (nothing to do when idle). */
		if (poll(pfd, 3, p.frag && p.rx.state == 1 ? TICK_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents & POLLOUT) {
			p.want_out = 0;
			if (flush(&p) < 0)
				break;
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (drain_data(&p, rx, rx_slot) < 0)
				break;
			/* What was just delivered is often answered at once (a ping, a TCP ack): look. */
			pfd[2].revents = tap_ready(&p) ? POLLIN : 0;
		}
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && drain_doorbell(&p) < 0)
			break;
		if (p.frag)
			rpmsg_frag_rx_tick(&p.rx, now_ms());
		if (flush(&p) < 0)
			break;
		rc = pfd[2].revents ? drain_tap(&p) : 0;
		if (rc == -2)
			break;
		if (rc < 0)
			die("tap");
	}
	fprintf(stderr,
		"{\"tx\":%llu,\"rx\":%llu,\"refusedOversize\":%llu,\"tapDrops\":%llu,\"windowWaits\":%llu",
		p.tx_frames, p.rx_frames, p.refused_oversize, p.tap_drops, p.window_waits);
	if (p.frag) {
		int i;

		fprintf(stderr, ",\"frag\":{\"sending\":%s,\"fragmentsSent\":%u,\"fragmentsReceived\":%u,"
			"\"framesReassembled\":%u,\"rawFrames\":%u,\"signatureDrops\":%llu",
			p.frag_tx ? "true" : "false", p.tx.fragments_sent, p.rx.fragments_received,
			p.rx.frames_reassembled, p.rx.raw_frames, p.signature_drops);
		for (i = 0; i < RPMSG_FRAG_NFAILURES; i++)
			fprintf(stderr, ",\"%s\":%u", rpmsg_frag_failure_names[i], p.rx.failures[i]);
		fprintf(stderr, "}");
	}
	fprintf(stderr, "}\n");
	return 0;
}
