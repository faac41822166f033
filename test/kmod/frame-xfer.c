// SPDX-License-Identifier: GPL-2.0-only
/*
 * frame-xfer: checks the frame path between a Linux-side message device
 * (an rpmsg_char endpoint created through /dev/rpmsg_ctrlN, or an existing
 * device such as /dev/rpmsg-ethN) and the emulated remote's netdev vxN.
 *
 *   frame-xfer --iface vxN --ctrl /dev/rpmsg_ctrlK --src A --dst B [--max P]
 *   frame-xfer --iface vxN --dev /dev/rpmsg-ethN [--max P]
 *   frame-xfer --iface vxN [--dev PATH] --flood N [--len L]
 *   frame-xfer --iface vxN --ctrl /dev/rpmsg_ctrlK --src A --dst B --keep
 *
 * --flood only sends N test frames of L bytes (default 100) on vxN, or
 * with --dev writes them to the device, stopping quietly (exit 0) at the
 * first EPIPE: the channel went away, which is what the caller provokes.
 * --keep only creates the endpoint, prints its /dev/rpmsgM and leaves it.
 *
 * Checks, each failing with a message and exit status 1:
 *  1. a frame written to the device arrives on vxN, byte for byte;
 *  2. a frame sent on vxN is read from the device, byte for byte;
 *  3. a frame of exactly P bytes (max payload, default 496) passes both ways;
 *  4. writing P + 1 bytes fails with EMSGSIZE;
 *  5. if vxN's MTU allows it, a (P + 1)-byte frame sent on vxN is not
 *     delivered and vxN's tx_errors grows by one.
 * The frames use the local experimental EtherType 0x88b5 and a per-run tag,
 * so other traffic on the link (IPv6 autoconf, ARP) is skipped.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/rpmsg.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_TEST	0x88b5
#define WAIT_MS		3000
#define QUIET_MS	300

static const char *iface;
static unsigned char iface_mac[ETH_ALEN];
static int ifindex;
static unsigned int tag;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("frame-xfer: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static long read_long(const char *path)
{
	char buf[64];
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, sizeof(buf), f))
		die("cannot read %s: %s", path, strerror(errno));
	fclose(f);
	return strtol(buf, NULL, 0);
}

static long if_stat(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", iface, name);
	return read_long(path);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A test frame of len bytes: to vxN's MAC, EtherType 0x88b5, tag + seq. */
static void make_frame(unsigned char *f, size_t len, unsigned int seq)
{
	size_t i;

	memcpy(f, iface_mac, ETH_ALEN);
	memcpy(f + 6, "\x02\x00\x5e\x10\x00\x01", ETH_ALEN);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	memcpy(f + 14, &tag, 4);
	memcpy(f + 18, &seq, 4);
	for (i = 22; i < len; i++)
		f[i] = (unsigned char)(i * 7 + seq);
}

static int is_test_frame(const unsigned char *f, size_t len, unsigned int seq)
{
	return len >= 22 && f[12] == (ETHERTYPE_TEST >> 8) &&
	       f[13] == (ETHERTYPE_TEST & 0xff) && !memcmp(f + 14, &tag, 4) &&
	       !memcmp(f + 18, &seq, 4);
}

/*
 * Wait up to ms for the test frame seq on fd (a packet socket when sock is
 * set, else the message device); returns its length or -1 on timeout.
 */
static ssize_t wait_frame(int fd, int sock, unsigned char *buf, size_t size,
			  unsigned int seq, long ms)
{
	long end = now_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		long left = end - now_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		n = poll(&p, 1, left);
		if (n < 0)
			die("poll: %s", strerror(errno));
		if (!n)
			return -1;
		if (p.revents & (POLLHUP | POLLERR))
			die("device reported POLLHUP/POLLERR");
		if (sock) {
			n = recvfrom(fd, buf, size, 0, (struct sockaddr *)&from, &fl);
			if (n >= 0 && from.sll_pkttype == PACKET_OUTGOING)
				continue;
		} else {
			n = read(fd, buf, size);
		}
		if (n < 0)
			die("read: %s", strerror(errno));
		if ((size_t)n > size)
			die("read returned %zd for a %zu-byte buffer", n, size);
		if (is_test_frame(buf, n, seq))
			return n;
	}
}

static void check_same(const unsigned char *a, const unsigned char *b,
		       size_t alen, ssize_t blen, const char *what)
{
	if (blen < 0)
		die("%s: frame not received within %d ms", what, WAIT_MS);
	if ((size_t)blen != alen || memcmp(a, b, alen))
		die("%s: received %zd bytes that differ from the %zu sent", what,
		    blen, alen);
	printf("frame-xfer: ok: %s (%zu bytes)\n", what, alen);
}

/* Linux side -> vxN */
static void to_remote(int dev, int sock, size_t len, unsigned int seq)
{
	static unsigned char out[65536], in[65536];
	char what[64];

	make_frame(out, len, seq);
	if (write(dev, out, len) != (ssize_t)len)
		die("write of %zu bytes: %s", len, strerror(errno));
	snprintf(what, sizeof(what), "device -> %s", iface);
	check_same(out, in, len, wait_frame(sock, 1, in, sizeof(in), seq, WAIT_MS),
		   what);
}

/* vxN -> Linux side */
static void to_linux(int dev, int sock, size_t len, unsigned int seq)
{
	static unsigned char out[65536], in[65536];
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};
	char what[64];

	make_frame(out, len, seq);
	memcpy(to.sll_addr, out, ETH_ALEN);
	if (sendto(sock, out, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		die("send of %zu bytes on %s: %s", len, iface, strerror(errno));
	snprintf(what, sizeof(what), "%s -> device", iface);
	check_same(out, in, len, wait_frame(dev, 0, in, sizeof(in), seq, WAIT_MS),
		   what);
}

/* Create an rpmsg_char endpoint and open its /dev/rpmsgM. */
static int open_endpoint(const char *ctrl, unsigned int src, unsigned int dst)
{
	struct rpmsg_endpoint_info info = { .src = src, .dst = dst };
	char path[512], name[64];
	struct dirent *d;
	DIR *dir;
	int fd;

	snprintf(info.name, sizeof(info.name), "frame-xfer-%u", tag & 0xffff);
	fd = open(ctrl, O_RDWR);
	if (fd < 0)
		die("open %s: %s", ctrl, strerror(errno));
	if (ioctl(fd, RPMSG_CREATE_EPT_IOCTL, &info))
		die("RPMSG_CREATE_EPT_IOCTL on %s: %s", ctrl, strerror(errno));
	close(fd);
	/* the ioctl does not say which rpmsgM it made: find it by name */
	dir = opendir("/sys/class/rpmsg");
	if (!dir)
		die("opendir /sys/class/rpmsg: %s", strerror(errno));
	while ((d = readdir(dir))) {
		FILE *f;

		if (strncmp(d->d_name, "rpmsg", 5) || !strncmp(d->d_name, "rpmsg_ctrl", 10))
			continue;
		snprintf(path, sizeof(path), "/sys/class/rpmsg/%s/name", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, info.name, strlen(info.name)) &&
		    name[strlen(info.name)] == '\n') {
			fclose(f);
			snprintf(path, sizeof(path), "/dev/%s", d->d_name);
			closedir(dir);
			fd = open(path, O_RDWR);
			if (fd < 0)
				die("open %s: %s", path, strerror(errno));
			printf("frame-xfer: ok: endpoint %s src 0x%x dst 0x%x is %s\n",
			       info.name, src, dst, path);
			return fd;
		}
		fclose(f);
	}
	die("no /sys/class/rpmsg entry named %s after RPMSG_CREATE_EPT_IOCTL", info.name);
	return -1;
}

static int open_iface(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	char path[256];
	FILE *f;
	int sock, i;

	ifindex = if_nametoindex(iface);
	if (!ifindex)
		die("no interface %s", iface);
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", iface);
	f = fopen(path, "r");
	if (!f)
		die("cannot read %s", path);
	for (i = 0; i < ETH_ALEN; i++)
		if (fscanf(f, i ? ":%hhx" : "%hhx", &iface_mac[i]) != 1)
			die("cannot parse %s", path);
	fclose(f);
	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (sock < 0)
		die("packet socket: %s", strerror(errno));
	sll.sll_ifindex = ifindex;
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind to %s: %s", iface, strerror(errno));
	return sock;
}

/* Send count test frames of len bytes on vxN as fast as the socket takes them. */
static void flood_iface(int sock, unsigned int count, size_t len)
{
	static unsigned char f[65536];
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = ETH_ALEN,
	};
	unsigned int i;

	if (len < 22 || len > sizeof(f))
		die("--len must be 22..%zu", sizeof(f));
	for (i = 0; i < count; i++) {
		make_frame(f, len, i);
		memcpy(to.sll_addr, f, ETH_ALEN);
		if (sendto(sock, f, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
			die("send of frame %u on %s: %s", i, iface, strerror(errno));
	}
	printf("frame-xfer: ok: sent %u frames of %zu bytes on %s\n", count, len, iface);
}

/* Write count test frames to the device; EPIPE ends the flood early. */
static void flood_dev(const char *path, unsigned int count, size_t len)
{
	static unsigned char f[65536];
	unsigned int i;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (len < 22 || len > sizeof(f))
		die("--len must be 22..%zu", sizeof(f));
	for (i = 0; i < count; i++) {
		make_frame(f, len, i);
		if (write(fd, f, len) == (ssize_t)len)
			continue;
		if (errno != EPIPE)
			die("write of frame %u to %s: %s", i, path, strerror(errno));
		printf("frame-xfer: ok: %s went away after %u frames (EPIPE)\n", path, i);
		close(fd);
		return;
	}
	printf("frame-xfer: ok: wrote %u frames of %zu bytes to %s\n", count, len, path);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *ctrl = NULL, *devpath = NULL;
	unsigned int src = 0, dst = 0, seq = 0, flood = 0, keep = 0;
	size_t max = 496, flood_len = 100;
	long before, mtu;
	unsigned char big[65536];
	int i, dev, sock;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--keep")) {
			keep = 1;
			continue;
		}
		if (!val)
			die("option %s needs a value", opt);
		i++;
		if (!strcmp(opt, "--iface"))
			iface = val;
		else if (!strcmp(opt, "--ctrl"))
			ctrl = val;
		else if (!strcmp(opt, "--dev"))
			devpath = val;
		else if (!strcmp(opt, "--src"))
			src = strtoul(val, NULL, 0);
		else if (!strcmp(opt, "--dst"))
			dst = strtoul(val, NULL, 0);
		else if (!strcmp(opt, "--max"))
			max = strtoul(val, NULL, 0);
		else if (!strcmp(opt, "--flood"))
			flood = strtoul(val, NULL, 0);
		else if (!strcmp(opt, "--len"))
			flood_len = strtoul(val, NULL, 0);
		else
			die("unknown option %s", opt);
	}
	tag = (unsigned int)getpid() ^ (unsigned int)now_ms();
	if (iface && flood && !ctrl) {
		if (devpath)
			flood_dev(devpath, flood, flood_len);
		else
			flood_iface(open_iface(), flood, flood_len);
		return 0;
	}
	if (iface && ctrl && keep) {
		open_iface();
		close(open_endpoint(ctrl, src, dst));
		return 0;
	}
	if (!iface || !ctrl == !devpath || keep || flood)
		die("usage: frame-xfer --iface vxN %s [--max P | --keep] | --flood N [--len L]",
		    "(--ctrl /dev/rpmsg_ctrlK --src A --dst B | --dev PATH)");
	sock = open_iface();
	if (ctrl) {
		dev = open_endpoint(ctrl, src, dst);
	} else {
		dev = open(devpath, O_RDWR);
		if (dev < 0)
			die("open %s: %s", devpath, strerror(errno));
	}

	to_remote(dev, sock, 100, ++seq);
	to_linux(dev, sock, 100, ++seq);
	to_remote(dev, sock, max, ++seq);
	to_linux(dev, sock, max, ++seq);

	make_frame(big, max + 1, ++seq);
	if (write(dev, big, max + 1) >= 0 || errno != EMSGSIZE)
		die("write of %zu bytes (max payload + 1) did not fail with EMSGSIZE (%s)",
		    max + 1, strerror(errno));
	printf("frame-xfer: ok: write of %zu bytes fails with EMSGSIZE\n", max + 1);

	snprintf((char *)big, sizeof(big), "/sys/class/net/%s/mtu", iface);
	mtu = read_long((char *)big);
	if (mtu + ETH_HLEN > (long)max) {
		struct sockaddr_ll to = {
			.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = ETH_ALEN,
		};

		before = if_stat("tx_errors");
		make_frame(big, max + 1, ++seq);
		memcpy(to.sll_addr, big, ETH_ALEN);
		if (sendto(sock, big, max + 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			die("send of %zu bytes on %s: %s", max + 1, iface, strerror(errno));
		if (wait_frame(dev, 0, big, sizeof(big), seq, QUIET_MS) >= 0)
			die("a %zu-byte frame from %s was delivered; the limit is %zu", max + 1,
			    iface, max);
		if (if_stat("tx_errors") != before + 1)
			die("%s tx_errors went from %ld to %ld, expected +1", iface, before,
			    if_stat("tx_errors"));
		printf("frame-xfer: ok: %zu-byte frame on %s dropped and counted\n", max + 1,
		       iface);
	}
	if (ctrl && ioctl(dev, RPMSG_DESTROY_EPT_IOCTL))
		die("RPMSG_DESTROY_EPT_IOCTL: %s", strerror(errno));
	close(dev);
	close(sock);
	printf("frame-xfer: PASS\n");
	return 0;
}
