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
 *   fd 4  doorbell  SOCK_SEQPACKET, messages of one u32 (host order): "I consumed N of your buffers",
 *                   i.e. the used-ring update plus the interrupt that tells the sender buffers are free.
 *
 * Ring limits are enforced as the real ring does: a message larger than the channel's maximum payload
 * is refused (counted), and at most num-bufs/2 messages are in flight per direction: the peer stops
 * reading its TAP when the daemon holds num-bufs/2 unacknowledged frames, and returns a credit for
 * every frame it takes from the daemon once it has delivered it.
 *
 * Usage: vx-peer --netns NS --ifname NAME --mac MAC --mtu MTU --max-payload N --num-bufs N
 * Prints "ready" on stdout once its interface exists and is up; exits on SIGTERM or when the daemon
 * closes the data socket. Counters are printed as one JSON line on stderr at exit.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#define DATA_FD 3
#define DOORBELL_FD 4
#define BATCH 64

struct peer {
	int tap;
	unsigned int max_payload;
	unsigned int ring_slots;	/* num-bufs / 2: buffers per direction */
	unsigned int in_flight;		/* frames sent to the daemon, not yet credited */
	unsigned long long tx_frames, rx_frames, refused_oversize, tap_drops;
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

static void send_credit(unsigned int n)
{
	uint32_t v = n;

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
		if (write(p->tap, buf, n) < 0)
			p->tap_drops++;
		else
			p->rx_frames++;
	}
	send_credit(consumed);
	return 0;
}

/* Peer -> daemon: only while the daemon has free buffers. */
static int drain_tap(struct peer *p, unsigned char *buf, size_t bufsize)
{
	while (p->in_flight < p->ring_slots) {
		ssize_t n = read(p->tap, buf, bufsize);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
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
		p->in_flight = v > p->in_flight ? 0 : p->in_flight - v;
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
		default: return 2;
		}
	}
	if (!ifname || mtu <= 0 || !p.max_payload || !p.ring_slots) {
		fprintf(stderr, "usage: vx-peer [--netns NS] --ifname NAME [--mac MAC] --mtu MTU "
				"--max-payload N --num-bufs N  (data socket on fd 3, doorbell on fd 4)\n");
		return 2;
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
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[3] = {
			{ .fd = DATA_FD, .events = POLLIN },
			{ .fd = DOORBELL_FD, .events = POLLIN },
			{ .fd = p.in_flight < p.ring_slots ? p.tap : -1, .events = POLLIN },
		};

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && drain_data(&p, buf, bufsize) < 0)
			break;
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && drain_doorbell(&p) < 0)
			break;
		if (p.in_flight < p.ring_slots && drain_tap(&p, buf, bufsize) < 0)
			die("tap");
	}
	fprintf(stderr,
		"{\"tx\":%llu,\"rx\":%llu,\"refusedOversize\":%llu,\"tapDrops\":%llu}\n",
		p.tx_frames, p.rx_frames, p.refused_oversize, p.tap_drops);
	return 0;
}
