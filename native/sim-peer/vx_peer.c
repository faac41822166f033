// SPDX-License-Identifier: GPL-2.0
/*
 * vx-peer: the simulated VxWorks side of one rpmsg channel.
 *
 * It stands where the remote core stands on a board: at the far end of the channel's virtio rings,
 * terminating the eth-dev endpoint in a network interface. The rings are modelled by two sockets the
 * daemon passes in:
 *
 *   fd 3  data      SOCK_SEQPACKET, one Ethernet frame per message in both directions (what the
 *                   ring buffers carry);
 *   fd 4  doorbell  SOCK_SEQPACKET, messages of one u32 (big-endian, as src/transport/sim.ts writes and
 *                   reads it): "I consumed N of your buffers",
 *                   i.e. the used-ring update plus the interrupt that tells the sender buffers are free.
 *
 * Ring limits are enforced as the real ring does: a message larger than the channel's maximum payload
 * is refused (counted), and at most num-bufs/2 messages are in flight per direction: the peer stops
 * reading its TAP when the daemon holds num-bufs/2 unacknowledged frames, and returns a credit for
 * every frame it takes from the daemon once it has delivered it.
 *
 * With --framing frag the peer speaks the `frag` framing (docs/frag-wire-spec.md) through the portable
 * implementation a VxWorks driver would embed (native/frag/rpmsg_frag.c): it sends a PROBE when it
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../frag/rpmsg_frag.h"

#define DATA_FD 3
#define DOORBELL_FD 4
#define BATCH 64
#define TICK_MS 100

struct peer {
	int tap;
	unsigned int max_payload;
	unsigned int ring_slots;	/* num-bufs / 2: buffers per direction */
	unsigned int in_flight;		/* frames sent to the daemon, not yet credited */
	unsigned long long tx_frames, rx_frames, refused_oversize, tap_drops;
	/* --framing frag */
	int frag;			/* speaks frag: reassembles, answers probes */
	int frag_tx;			/* sends with frag headers: the daemon has shown it speaks frag */
	unsigned int max_frags;		/* messages the largest frame takes */
	struct rpmsg_frag_tx tx;
	struct rpmsg_frag_rx rx;
	unsigned char *msg;		/* one outgoing message */
	unsigned char *frame;		/* the frame being fragmented */
	uint32_t frame_len;
	uint32_t frag_next, frag_count;	/* next fragment to send, of frag_count (0: none pending) */
	int want_out;			/* the data socket was full: wait for POLLOUT */
	unsigned char ctl[RPMSG_FRAG_CONTROL_LEN];
	int ctl_pending;		/* ctl waits for a free ring buffer */
	unsigned long long signature_drops;
};

static volatile sig_atomic_t stop;

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

/* Send the pending control message if the daemon has a free buffer for it (never inside a frame). */
static int flush_control(struct peer *p)
{
	if (!p->ctl_pending || p->frag_count || p->in_flight >= p->ring_slots)
		return 0;
	if (send(DATA_FD, p->ctl, sizeof(p->ctl), MSG_DONTWAIT) < 0)
		return errno == EAGAIN ? (p->want_out = 1, 0) : -1;
	p->want_out = 0;
	p->ctl_pending = 0;
	p->in_flight++;
	return 0;
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

/* One message from the daemon, frag mode: a raw frame, a fragment or a control message. */
static void take_message(struct peer *p, const unsigned char *m, size_t n)
{
	const uint8_t *frame;
	uint32_t frame_len;

	switch (rpmsg_frag_rx_push(&p->rx, m, (uint32_t)n, now_ms(), &frame, &frame_len)) {
	case RPMSG_FRAG_RX_FRAME:
		if (write(p->tap, frame, frame_len) < 0)
			p->tap_drops++;
		else
			p->rx_frames++;
		break;
	case RPMSG_FRAG_RX_CONTROL:
		on_control(p, m, n);
		break;
	default:
		break;
	}
}

static void send_credit(unsigned int n)
{
	uint32_t v = htonl(n);

	/* The daemon never lets the doorbell fill: at most one message per batch it sent. */
	if (n && send(DOORBELL_FD, &v, sizeof(v), MSG_DONTWAIT) < 0 && errno != EAGAIN)
		die("doorbell");
}

/* Daemon -> peer: take frames off the "ring", deliver them, hand the buffers back. */
static int drain_data(struct peer *p, unsigned char *buf, size_t bufsize)
{
	unsigned int consumed = 0;

	while (consumed < BATCH) {
		ssize_t n = recv(DATA_FD, buf, bufsize, MSG_DONTWAIT | MSG_TRUNC);

		if (n == 0)
			return -1;	/* daemon closed the link */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		consumed++;
		if ((size_t)n > p->max_payload) {
			p->refused_oversize++;
			continue;
		}
		if (p->frag)
			take_message(p, buf, n);
		else if (write(p->tap, buf, n) < 0)
			p->tap_drops++;
		else
			p->rx_frames++;
	}
	send_credit(consumed);
	return p->frag ? flush_control(p) : 0;
}

/*
 * Frag mode: the fragments of the current frame, back to back and in order. When the ring or the socket
 * has no room, the rest waits (nothing else is sent meanwhile) until credits or POLLOUT come back.
 */
static int send_fragments(struct peer *p)
{
	while (p->frag_next < p->frag_count) {
		uint32_t m;

		if (p->in_flight >= p->ring_slots)
			return 0;
		m = rpmsg_frag_tx_fragment(&p->tx, p->frame, p->frame_len, p->frag_next, p->msg, p->max_payload);
		if (send(DATA_FD, p->msg, m, MSG_DONTWAIT) < 0)
			return errno == EAGAIN ? (p->want_out = 1, 0) : -1;
		p->want_out = 0;
		p->in_flight++;
		p->frag_next++;
	}
	if (p->frag_count)
		p->tx_frames++;
	p->frag_count = p->frag_next = 0;
	return 0;
}

/* Ring buffers a frame from the TAP may need: one, or the largest frame's fragments in frag mode. */
static unsigned int tap_room_needed(const struct peer *p)
{
	return (p->frag_tx ? p->max_frags : 1) + (p->ctl_pending ? 1 : 0);
}

/* Peer -> daemon: only while the daemon has free buffers. */
static int drain_tap(struct peer *p, unsigned char *buf, size_t bufsize)
{
	while (!p->frag_count && p->in_flight + tap_room_needed(p) <= p->ring_slots) {
		ssize_t n = read(p->tap, p->frag_tx ? p->frame : buf, bufsize);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (p->frag_tx) {
			p->frame_len = (uint32_t)n;
			p->frag_count = rpmsg_frag_tx_begin(&p->tx, p->frame_len);
			if (!p->frag_count)
				p->refused_oversize++;
			if (send_fragments(p) < 0)
				return -1;
			continue;
		}
		/* Sending raw, a frag-speaking peer must not send what looks like a fragment (spec 3.8). */
		if (p->frag && rpmsg_frag_has_signature(buf, (uint32_t)n)) {
			p->signature_drops++;
			continue;
		}
		if ((size_t)n > p->max_payload) {
			p->refused_oversize++;
			continue;
		}
		if (send(DATA_FD, buf, n, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN) {
				p->tap_drops++;
				return 0;
			}
			return -1;
		}
		p->in_flight++;
		p->tx_frames++;
	}
	return 0;
}

static int drain_doorbell(struct peer *p)
{
	uint32_t v;
	ssize_t n;

	while ((n = recv(DOORBELL_FD, &v, sizeof(v), MSG_DONTWAIT)) == sizeof(v))
		p->in_flight = ntohl(v) > p->in_flight ? 0 : p->in_flight - ntohl(v);
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
	unsigned char *buf;
	size_t bufsize;
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
		case 'b': p.ring_slots = strtoul(optarg, NULL, 0) / 2; break;
		case 'f':
			if (strcmp(optarg, "frag") && strcmp(optarg, "raw"))
				return fprintf(stderr, "vx-peer: --framing raw|frag, not %s\n", optarg), 2;
			p.frag = !strcmp(optarg, "frag");
			break;
		default: return 2;
		}
	}
	if (!ifname || mtu <= 0 || !p.max_payload || !p.ring_slots) {
		fprintf(stderr, "usage: vx-peer [--netns NS] --ifname NAME [--mac MAC] --mtu MTU "
				"--max-payload N --num-bufs N [--framing raw|frag]  (data socket on fd 3, doorbell on fd 4)\n");
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
		if (p.max_frags + 1 > p.ring_slots) {
			fprintf(stderr, "vx-peer: a %d-byte frame does not fit %u ring buffers\n", mtu + 14, p.ring_slots);
			return 2;
		}
	}

	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (netns)
		enter_netns(netns);
	set_ring_room(p.ring_slots, p.max_payload);
	p.tap = open_tap(ifname, mac, mtu);
	/* One spare byte beyond the ring's limit so an oversize message is seen as oversize. */
	bufsize = (p.max_payload > (unsigned int)mtu + 14 ? p.max_payload : (unsigned int)mtu + 14) + 1;
	buf = malloc(bufsize);
	if (!buf)
		die("malloc");
	if (p.frag) {
		static uint8_t reassembly[RPMSG_FRAG_MAX_FRAME];

		p.msg = malloc(p.max_payload);
		p.frame = malloc(bufsize);
		if (!p.msg || !p.frame)
			die("malloc");
		rpmsg_frag_rx_init(&p.rx, reassembly, (uint32_t)mtu + 14, 0);
		/* Tell a daemon that is already running that this side (re)started and speaks frag (spec 6.5). */
		queue_control(&p, RPMSG_FRAG_PROBE, (uint32_t)getpid() ^ now_ms());
		if (flush_control(&p) < 0)
			die("probe");
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[3] = {
			{ .fd = DATA_FD, .events = POLLIN | (p.want_out ? POLLOUT : 0) },
			{ .fd = DOORBELL_FD, .events = POLLIN },
			{ .fd = !p.frag_count && p.in_flight + tap_room_needed(&p) <= p.ring_slots ? p.tap : -1,
			  .events = POLLIN },
		};

		if (poll(pfd, 3, p.frag ? TICK_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && drain_data(&p, buf, bufsize) < 0)
			break;
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && drain_doorbell(&p) < 0)
			break;
		if (p.frag) {
			rpmsg_frag_rx_tick(&p.rx, now_ms());
			if (send_fragments(&p) < 0 || flush_control(&p) < 0)
				break;
		}
		if (drain_tap(&p, buf, bufsize) < 0)
			die("tap");
	}
	fprintf(stderr,
		"{\"tx\":%llu,\"rx\":%llu,\"refusedOversize\":%llu,\"tapDrops\":%llu",
		p.tx_frames, p.rx_frames, p.refused_oversize, p.tap_drops);
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
