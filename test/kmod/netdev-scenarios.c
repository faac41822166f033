// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netdev-mode scenarios of kmod-scenarios (included by it: one program,
 * the ppc guest's /init). rpmsg_eth serves the channels as interfaces
 * rpmsg<N>; the emulator's vx<N> sits in a network namespace of its own, so
 * a ping from rpmsg<N> to vx<N>'s address crosses the channel both ways.
 * What ip, ping, tcpdump and ethtool -S would do is done here from C:
 * ioctls (addresses, flags, MTU, ETHTOOL_GSTATS), rtnetlink (moving an
 * interface to a namespace), a raw ICMP socket, an AF_PACKET capture.
 */
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sched.h>

/* what rpmsg_eth's ethtool -S starts with: rpmsg_eth_counter_names */
static const char * const nd_counter_names[] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
	"rx_drop_overflow", "rx_drop_nomem", "rx_drop_closed", "rx_drop_empty",
	"rx_drop_flushed", "tx_drop_error", "tx_drop_dead", "tx_ring_full",
	"rx_drop_oversize", "tx_stalls",
};

#define ND_NR_NAMES (sizeof(nd_counter_names) / sizeof(nd_counter_names[0]))
#define ND_RAW_MTU 482		/* 512-byte buffers: 512 - 16 - 14 */
#define ND_FRAG_MTU 1500

/* the namespace the scenario started in */
static int nd_init_ns = -1;

/* ---- namespaces ---- */

static void nd_setns(int fd)
{
	if (setns(fd, CLONE_NEWNET))
		fail("setns: %s", strerror(errno));
}

/* A new network namespace, as an fd; the process stays where it was. */
static int nd_new_ns(void)
{
	int fd;

	if (nd_init_ns < 0) {
		nd_init_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (nd_init_ns < 0)
			fail("/proc/self/ns/net: %s", strerror(errno));
	}
	if (unshare(CLONE_NEWNET))
		fail("unshare(CLONE_NEWNET): %s", strerror(errno));
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("/proc/self/ns/net: %s", strerror(errno));
	nd_setns(nd_init_ns);
	return fd;
}

/* `ip link set IFACE netns NS`: RTM_NEWLINK with IFLA_NET_NS_FD. */
static void nd_link_to_ns(const char *iface, int nsfd)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr rta;
		uint32_t fd;
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
		char more[256];
	} ack;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = if_nametoindex(iface);
	req.rta.rta_type = IFLA_NET_NS_FD;
	req.rta.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.fd = nsfd;
	if (!req.ifi.ifi_index)
		fail("moving %s to a namespace: no such interface", iface);
	if (s < 0 || send(s, &req, sizeof(req), 0) != sizeof(req))
		fail("rtnetlink: %s", strerror(errno));
	n = recv(s, &ack, sizeof(ack), 0);
	if (n < (ssize_t)(sizeof(ack.nh) + sizeof(ack.err)) || ack.nh.nlmsg_type != NLMSG_ERROR)
		fail("rtnetlink: no acknowledgement moving %s", iface);
	if (ack.err.error)
		fail("moving %s to a namespace: %s", iface, strerror(-ack.err.error));
	close(s);
}

/* ---- interfaces, in the current namespace ---- */

static void nd_ifreq(struct ifreq *ifr, const char *iface)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", iface);
}

/* `ip link set IFACE up`, IPv6 off (its autoconfiguration adds frames). */
static void nd_link_up(const char *iface)
{
	struct ifreq ifr;
	char path[128];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", iface);
	if (exists(path) && write_text(path, "1"))
		fail("disabling IPv6 on %s", iface);
	nd_ifreq(&ifr, iface);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		fail("flags of %s: %s", iface, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		fail("%s up: %s", iface, strerror(errno));
	close(s);
}

/* `ip addr add ADDR/24 dev IFACE; ip link set IFACE up`, IPv6 off. */
static void nd_iface_up(const char *iface, const char *addr)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	nd_link_up(iface);
	nd_ifreq(&ifr, iface);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (s < 0 || ioctl(s, SIOCSIFADDR, &ifr))
		fail("address %s on %s: %s", addr, iface, strerror(errno));
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		fail("netmask on %s: %s", iface, strerror(errno));
	close(s);
}

static int nd_mtu(const char *iface)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	nd_ifreq(&ifr, iface);
	if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr))
		fail("MTU of %s: %s", iface, strerror(errno));
	close(s);
	return ifr.ifr_mtu;
}

static void nd_set_mtu(const char *iface, int mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	nd_ifreq(&ifr, iface);
	ifr.ifr_mtu = mtu;
	if (s < 0 || ioctl(s, SIOCSIFMTU, &ifr))
		fail("MTU %d on %s: %s", mtu, iface, strerror(errno));
	close(s);
}

/* /sys/class/net/IFACE/carrier: 1, 0 (-1: cannot tell, e.g. IFACE down) */
static int nd_carrier(const char *iface)
{
	char path[128], buf[16];

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", iface);
	if (read_text(path, buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

static void nd_wait_carrier(const char *iface, int want, long ms)
{
	long end = now_ms() + ms;

	while (nd_carrier(iface) != want) {
		if (now_ms() > end)
			fail("%s: carrier %d, want %d within %ld ms", iface, nd_carrier(iface),
			     want, ms);
		sleep_ms(20);
	}
}

/* `ethtool -S IFACE`'s counter NAME (ETHTOOL_GSTRINGS, ETHTOOL_GSTATS). */
static long long nd_ethtool_stat(const char *iface, const char *name)
{
	struct ethtool_drvinfo drv = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *strs;
	struct ethtool_stats *stats;
	struct ifreq ifr;
	long long val = -1;
	unsigned int i, n;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	nd_ifreq(&ifr, iface);
	ifr.ifr_data = (void *)&drv;
	if (s < 0 || ioctl(s, SIOCETHTOOL, &ifr))
		fail("ETHTOOL_GDRVINFO on %s: %s", iface, strerror(errno));
	if (strcmp(drv.driver, "rpmsg_eth"))
		fail("%s: driver %s, want rpmsg_eth", iface, drv.driver);
	n = drv.n_stats;
	strs = calloc(1, sizeof(*strs) + n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + n * sizeof(uint64_t));
	if (!strs || !stats)
		fail("out of memory");
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	ifr.ifr_data = (void *)strs;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		fail("ETHTOOL_GSTRINGS on %s: %s", iface, strerror(errno));
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	ifr.ifr_data = (void *)stats;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		fail("ETHTOOL_GSTATS on %s: %s", iface, strerror(errno));
	if (n < ND_NR_NAMES)
		fail("%s: %u ethtool stats, want at least the %zu rpmsg_eth counters", iface, n,
		     ND_NR_NAMES);
	for (i = 0; i < n; i++) {
		const char *got = (const char *)strs->data + i * ETH_GSTRING_LEN;

		if (i < ND_NR_NAMES && strncmp(got, nd_counter_names[i], ETH_GSTRING_LEN))
			fail("%s: ethtool stat %u is %.32s, want %s", iface, i, got,
			     nd_counter_names[i]);
		if (!strncmp(got, name, ETH_GSTRING_LEN))
			val = stats->data[i];
	}
	if (val < 0)
		fail("%s: no ethtool stat %s", iface, name);
	free(strs);
	free(stats);
	close(s);
	return val;
}

/* ---- ping, capture, flood ---- */

static uint16_t nd_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * `ping -c1 [-M do -s SIZE] ADDR` from the current namespace: an echo
 * request with SIZE bytes of data, its reply within 3 s (a few tries: the
 * first waits for ARP). Returns 0, or the errno of a refused send.
 */
static int nd_ping(const char *addr, int size, int df)
{
	static unsigned char pkt[9100], reply[9200];
	static uint16_t seq;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct icmphdr *icmp = (struct icmphdr *)pkt;
	int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	int pmtu = IP_PMTUDISC_DO, tries, i;
	uint16_t id = (uint16_t)getpid();

	if (s < 0)
		fail("raw ICMP socket: %s", strerror(errno));
	if (df && setsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)))
		fail("IP_MTU_DISCOVER: %s", strerror(errno));
	inet_pton(AF_INET, addr, &to.sin_addr);
	for (tries = 0; tries < 4; tries++) {
		long end = now_ms() + 3000;

		memset(pkt, 0, sizeof(*icmp) + size);
		icmp->type = ICMP_ECHO;
		icmp->un.echo.id = htons(id);
		icmp->un.echo.sequence = htons(++seq);
		for (i = 0; i < size; i++)
			pkt[sizeof(*icmp) + i] = (unsigned char)(i + seq);
		icmp->checksum = nd_csum(pkt, sizeof(*icmp) + size);
		if (sendto(s, pkt, sizeof(*icmp) + size, 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0) {
			int err = errno;

			close(s);
			return err;
		}
		while (now_ms() < end) {
			struct pollfd p = { .fd = s, .events = POLLIN };
			struct iphdr *ip = (struct iphdr *)reply;
			struct icmphdr *r;
			ssize_t n;

			if (poll(&p, 1, (int)(end - now_ms())) <= 0)
				break;
			n = recv(s, reply, sizeof(reply), 0);
			if (n < (ssize_t)sizeof(*ip))
				continue;
			r = (struct icmphdr *)(reply + ip->ihl * 4);
			if (ip->saddr != to.sin_addr.s_addr || r->type != ICMP_ECHOREPLY ||
			    ntohs(r->un.echo.id) != id || ntohs(r->un.echo.sequence) != seq)
				continue;
			if (n != (ssize_t)(ip->ihl * 4 + sizeof(*icmp) + size) ||
			    memcmp(r + 1, pkt + sizeof(*icmp), size))
				fail("echo reply from %s: %zd bytes, not the %d sent back", addr, n,
				     size);
			close(s);
			return 0;
		}
	}
	fail("no echo reply from %s (%d bytes%s) in %d tries", addr, size, df ? ", DF" : "",
	     tries);
	return -1;
}

static void nd_ping_ok(const char *addr, int size, int df)
{
	int err = nd_ping(addr, size, df);

	if (err)
		fail("ping %s (%d bytes): %s", addr, size, strerror(err));
}

/* `tcpdump -i IFACE`: an AF_PACKET socket bound to it. */
static int nd_capture_open(const char *iface)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	sll.sll_ifindex = if_nametoindex(iface);
	if (s < 0 || !sll.sll_ifindex || bind(s, (struct sockaddr *)&sll, sizeof(sll)))
		fail("packet socket on %s: %s", iface, strerror(errno));
	return s;
}

/* The capture holds an echo request from @from and the reply to it. */
static void nd_capture_check(int s, const char *iface, const char *from, const char *to)
{
	static unsigned char f[2048];
	struct in_addr a, b;
	int req = 0, rep = 0, frames = 0;
	ssize_t n;

	inet_pton(AF_INET, from, &a);
	inet_pton(AF_INET, to, &b);
	while ((n = recv(s, f, sizeof(f), MSG_DONTWAIT)) > 0) {
		struct iphdr *ip = (struct iphdr *)(f + ETH_HLEN);
		struct icmphdr *icmp;

		frames++;
		if (n < ETH_HLEN + (ssize_t)sizeof(*ip) + 8 || f[12] != 0x08 || f[13] != 0x00 ||
		    ip->protocol != IPPROTO_ICMP)
			continue;
		icmp = (struct icmphdr *)((unsigned char *)ip + ip->ihl * 4);
		if (icmp->type == ICMP_ECHO && ip->saddr == a.s_addr && ip->daddr == b.s_addr)
			req++;
		if (icmp->type == ICMP_ECHOREPLY && ip->saddr == b.s_addr && ip->daddr == a.s_addr)
			rep++;
	}
	if (!req || !rep)
		fail("capture on %s: %d frames, %d echo requests %s->%s, %d replies", iface, frames,
		     req, from, to, rep);
	say("AF_PACKET capture on %s: %d frames, echo requests %d, replies %d", iface, frames, req,
	    rep);
}

/* One broadcast test frame of @len bytes on IFACE (a packet socket). */
static void nd_send_frame(const char *iface, size_t len)
{
	static unsigned char f[2048];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	sll.sll_ifindex = if_nametoindex(iface);
	memset(sll.sll_addr, 0xff, 6);
	make_frame(f, len, 0);
	if (s < 0 || sendto(s, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len)
		fail("sending a %zu-byte frame on %s: %s", len, iface, strerror(errno));
	close(s);
}

/* A child sending broadcast frames on IFACE until killed (errors ignored). */
static pid_t nd_flood(const char *iface)
{
	unsigned char f[FRAME_LEN];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned int i = 0;
	pid_t pid;
	int s;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid)
		return pid;
	/* protocol 0: it receives nothing */
	s = socket(AF_PACKET, SOCK_RAW, 0);
	sll.sll_ifindex = if_nametoindex(iface);
	memset(sll.sll_addr, 0xff, 6);
	for (;;) {
		make_frame(f, sizeof(f), i++);
		if (sendto(s, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			sleep_ms(1);
	}
}

/* ---- setting up a channel's two ends ---- */

/* The channels of the expected table (ppc: the DT's), else the emulator's. */
static int nd_table_channels(void)
{
	static char buf[16384];
	int n = 0;
	char *p;

	if (!expect_table)
		return EMU_NR;
	if (read_text(expect_table, buf, sizeof(buf)))
		fail("cannot read %s", expect_table);
	for (p = buf; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

/* Interface rpmsgN for each channel with the MTU it should have. */
static void nd_check_ifaces(int count)
{
	char iface[IFNAMSIZ];
	int i, want;

	for (i = 0; i < count; i++) {
		snprintf(iface, sizeof(iface), "rpmsg%d", i);
		if (!if_nametoindex(iface))
			fail("no interface %s", iface);
		/* the DT's frag channel keeps its frag MTU */
		want = i == dt_netdev_chan ? dt_netdev_mtu : ND_RAW_MTU;
		if (nd_mtu(iface) != want)
			fail("%s: MTU %d, want %d", iface, nd_mtu(iface), want);
	}
}

/*
 * The remote's MAC address on vxN: the same whenever the remote comes back,
 * as a rebooted core's (the emulator picks a random one per load). With a
 * new one, a remote back within linkwatch's second would meet rpmsgN's ARP
 * entry for the old one: carrier off and on again between two of its runs
 * flush nothing.
 */
static void nd_set_mac(const char *iface, int n)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	nd_ifreq(&ifr, iface);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x00\x5e\x99\x00", 5);
	ifr.ifr_hwaddr.sa_data[5] = (char)n;
	if (s < 0 || ioctl(s, SIOCSIFHWADDR, &ifr))
		fail("MAC address of %s: %s", iface, strerror(errno));
	close(s);
}

/*
 * vxN into namespace @vx_ns with 10.99.N.2 and the remote's MAC, rpmsgN (in
 * @eth_ns, -1: this one) with 10.99.N.1, both up.
 */
static void nd_wire(int n, int vx_ns, int eth_ns)
{
	char vx[IFNAMSIZ], eth[IFNAMSIZ], addr[32];

	snprintf(vx, sizeof(vx), "vx%d", n);
	snprintf(eth, sizeof(eth), "rpmsg%d", n);
	nd_link_to_ns(vx, vx_ns);
	nd_setns(vx_ns);
	nd_set_mac(vx, n);
	snprintf(addr, sizeof(addr), "10.99.%d.2", n);
	nd_iface_up(vx, addr);
	/* frag framing carries 1500; raw frames stay small anyway */
	nd_set_mtu(vx, 1500);
	nd_setns(nd_init_ns);
	if (eth_ns >= 0)
		nd_setns(eth_ns);
	snprintf(addr, sizeof(addr), "10.99.%d.1", n);
	nd_iface_up(eth, addr);
	nd_setns(nd_init_ns);
}

/* Ping vxN from rpmsgN (in @eth_ns, -1: this namespace). */
static void nd_ping_chan(int n, int eth_ns, int size, int df)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "10.99.%d.2", n);
	if (eth_ns >= 0)
		nd_setns(eth_ns);
	nd_ping_ok(addr, size, df);
	nd_setns(nd_init_ns);
}

/* ---- scenarios ---- */

/*
 * netdev=all: rpmsg0..N for every channel with its MTU (482: 512-byte
 * buffers; ppc: fsproxy's 8192 of the DT bounded by the bus to 482 once
 * bound, and the DT's own netdev channel), carrier on once bound.
 */
static void scenario_netdev_ifaces(void)
{
	int count = nd_table_channels();

	load_eth("netdev=all");
	load_emu(NULL);
	/* the carrier of an interface that is down cannot be read */
	nd_link_up("rpmsg0");
	nd_link_up("rpmsg2");
	nd_wait_carrier("rpmsg0", 1, 5000);
	nd_wait_carrier("rpmsg2", 1, 5000);
	nd_check_ifaces(count);
	if (eth_dev_present(0))
		fail("/dev/rpmsg-eth0 exists in netdev mode");
	say("netdev=all: rpmsg0..rpmsg%d with their MTUs, carrier on for the %d bound channels",
	    count - 1, EMU_NR);
}

/*
 * The emulator delivers from hard-IRQ context. Each vxN in a namespace of
 * its own, rpmsg2 moved to another one: a ping over every channel, a
 * capture on rpmsg0 sees request and reply; a stalled remote takes the
 * carrier down, ethtool -S counts the stall and the full ring; remote gone
 * and back: carrier off, on, ping again.
 */
static void scenario_netdev_ping(void)
{
	int vx_ns[EMU_NR], eth_ns, cap, i;
	long long stalls, before, after;
	long rx;
	pid_t flood;

	load_eth("netdev=all stall_ms=300");
	load_emu(NULL);
	for (i = 0; i < EMU_NR; i++)
		vx_ns[i] = nd_new_ns();
	eth_ns = nd_new_ns();
	for (i = 0; i < EMU_NR; i++) {
		char iface[IFNAMSIZ];

		snprintf(iface, sizeof(iface), "rpmsg%d", i);
		nd_link_up(iface);
	}
	nd_wait_carrier("rpmsg2", 1, 5000);
	/* `ip link set rpmsg2 netns X` */
	nd_link_to_ns("rpmsg2", eth_ns);
	if (if_nametoindex("rpmsg2"))
		fail("rpmsg2 still here after moving it to another namespace");
	cap = nd_capture_open("rpmsg0");
	for (i = 0; i < EMU_NR; i++)
		nd_wire(i, vx_ns[i], i == 2 ? eth_ns : -1);
	for (i = 0; i < EMU_NR; i++)
		nd_ping_chan(i, i == 2 ? eth_ns : -1, 56, 0);
	say("%s transport: ping over %d channels (rpmsg2 in a namespace of its own)",
	    emu_transport, EMU_NR);
	nd_capture_check(cap, "rpmsg0", "10.99.0.1", "10.99.0.2");
	close(cap);

	/* stalled: the ring and the queue fill, carrier goes off */
	set_stall(1);
	flood = nd_flood("rpmsg0");
	nd_wait_carrier("rpmsg0", 0, 10000);
	kill(flood, SIGKILL);
	wait_exit(flood);
	stalls = nd_ethtool_stat("rpmsg0", "tx_stalls");
	if (stalls != 1 || nd_ethtool_stat("rpmsg0", "tx_ring_full") < 1)
		fail("ethtool -S rpmsg0: tx_stalls %lld (want 1), tx_ring_full %lld", stalls,
		     nd_ethtool_stat("rpmsg0", "tx_ring_full"));
	say("stalled remote: carrier off; ethtool -S: tx_stalls 1, tx_ring_full %lld",
	    nd_ethtool_stat("rpmsg0", "tx_ring_full"));
	set_stall(0);
	nd_wait_carrier("rpmsg0", 1, 10000);
	nd_ping_chan(0, -1, 56, 0);
	say("remote resumed: carrier on, ping again");

	/* gone and back */
	if (rmmod(EMU))
		fail("rmmod " EMU ": %s", strerror(errno));
	nd_wait_carrier("rpmsg0", 0, 5000);
	nd_wait_carrier("rpmsg1", 0, 5000);
	load_emu(NULL);
	nd_wait_carrier("rpmsg0", 1, 5000);
	nd_wait_carrier("rpmsg1", 1, 5000);
	/* a new remote: new vxN, in init's namespace again */
	for (i = 0; i < EMU_NR; i++)
		nd_wire(i, vx_ns[i], i == 2 ? eth_ns : -1);
	for (i = 0; i < EMU_NR; i++)
		nd_ping_chan(i, i == 2 ? eth_ns : -1, 56, 0);
	say("remote gone: carrier off; back: carrier on, ping over %d channels again", EMU_NR);
	/* the same counter, read between two reads of ethtool's (frames may come) */
	before = nd_ethtool_stat("rpmsg0", "rx_packets");
	rx = read_num("/sys/class/net/rpmsg0/statistics/rx_packets");
	after = nd_ethtool_stat("rpmsg0", "rx_packets");
	if (rx < before || rx > after || !rx)
		fail("rpmsg0: rx_packets %ld in the interface's statistics, %lld..%lld in ethtool -S",
		     rx, before, after);
}

/*
 * Unbind under traffic both ways with the remote stalled (rpmsg0's queue
 * full), the remote resumed right after: carrier off and it stays off; the
 * interface counted the frames sent, not the ones dropped with the queue.
 * Rebind: on. Then rmmod with the interfaces up, one of them in another
 * namespace, under traffic.
 */
static void scenario_netdev_unbind_rmmod(void)
{
	long long sent, dead;
	pid_t flood_eth, flood_vx;
	long tx;
	int ns;

	load_eth("netdev=all stall_ms=200");
	load_emu(NULL);
	vx_up(0);
	nd_iface_up("rpmsg0", "10.99.0.1");
	nd_iface_up("rpmsg1", "10.99.1.1");
	nd_wait_carrier("rpmsg0", 1, 5000);
	ns = nd_new_ns();
	flood_eth = nd_flood("rpmsg0");
	flood_vx = spawn("/dev/null", "frame-xfer", "--iface", "vx0", "--flood", "100000000",
			 NULL);
	sleep_ms(300);
	set_stall(1);
	nd_wait_carrier("rpmsg0", 0, 5000);
	unbind_all_eth();
	set_stall(0);
	nd_wait_carrier("rpmsg0", 0, 5000);
	sleep_ms(200);
	if (nd_carrier("rpmsg0") != 0)
		fail("rpmsg0: carrier %d 200 ms after the unbind", nd_carrier("rpmsg0"));
	/* raw framing: one message per frame; the link is stopped */
	tx = read_num("/sys/class/net/rpmsg0/statistics/tx_packets");
	sent = nd_ethtool_stat("rpmsg0", "tx_packets");
	dead = nd_ethtool_stat("rpmsg0", "tx_drop_dead");
	if (tx != sent)
		fail("rpmsg0: tx_packets %ld in the interface's statistics, %lld messages sent (%lld tx_drop_dead)",
		     tx, sent, dead);
	say("unbound under traffic both ways, the remote stalled, then resumed: carrier off and stays off, the interfaces stay; tx_packets %ld = messages sent, %lld tx_drop_dead",
	    tx, dead);
	probe_all_rpmsg();
	nd_wait_carrier("rpmsg0", 1, 5000);
	nd_wait_carrier("rpmsg1", 1, 5000);
	nd_link_to_ns("rpmsg1", ns);
	sleep_ms(300);
	if (rmmod("rpmsg_eth"))
		fail("rmmod rpmsg_eth with its interfaces up under traffic: %s", strerror(errno));
	if (if_nametoindex("rpmsg0"))
		fail("rpmsg0 still there after rmmod");
	kill(flood_eth, SIGKILL);
	kill(flood_vx, SIGKILL);
	wait_exit(flood_eth);
	wait_exit(flood_vx);
	say("rebound: carrier on; rmmod with rpmsg0 up under traffic and rpmsg1 in another namespace");
}

/*
 * frag framing on channel 0 against the emulator's frag code: MTU 1500,
 * a 1472-byte ping with DF crosses as 4 fragments each way; 1473 with DF
 * does not fit. Then a remote that does not speak frag: no carrier until
 * the probe gives up (1.5 s), then raw frames; what does not fit one
 * message is dropped and counted. Last, rmmod right after a probe.
 */
static void scenario_netdev_frag(void)
{
	long long drops, msgs;
	long t0;
	char p[512];
	int vx_ns, err;

	load_eth("netdev=all frag=0");
	snprintf(p, sizeof(p), "channels=%s transport=%s framing=frag", EMU_CHANNELS,
		 emu_transport);
	insmod(emu_ko, p);
	vx_ns = nd_new_ns();
	nd_link_up("rpmsg0");
	/* carrier once the remote answered the probe */
	nd_wait_carrier("rpmsg0", 1, 5000);
	if (nd_mtu("rpmsg0") != ND_FRAG_MTU)
		fail("rpmsg0: MTU %d with frag framing, want %d", nd_mtu("rpmsg0"), ND_FRAG_MTU);
	nd_wire(0, vx_ns, -1);
	nd_ping_chan(0, -1, 1472, 1);
	err = nd_ping("10.99.0.2", 1473, 1);
	if (err != EMSGSIZE)
		fail("a 1473-byte ping with DF: %s, want EMSGSIZE", err ? strerror(err) : "sent");
	if (nd_ethtool_stat("rpmsg0", "frag_frames_reassembled") < 1 ||
	    nd_ethtool_stat("rpmsg0", "frag_fragments_sent") < 4 ||
	    nd_ethtool_stat("rpmsg0", "frag_lost") != 0)
		fail("ethtool -S rpmsg0: frag_frames_reassembled %lld, frag_fragments_sent %lld, frag_lost %lld",
		     nd_ethtool_stat("rpmsg0", "frag_frames_reassembled"),
		     nd_ethtool_stat("rpmsg0", "frag_fragments_sent"),
		     nd_ethtool_stat("rpmsg0", "frag_lost"));
	say("frag framing, MTU %d: a 1472-byte ping with DF both ways (%lld fragments sent, %lld frames reassembled), 1473 refused",
	    ND_FRAG_MTU, nd_ethtool_stat("rpmsg0", "frag_fragments_sent"),
	    nd_ethtool_stat("rpmsg0", "frag_frames_reassembled"));

	if (rmmod(EMU))
		fail("rmmod " EMU ": %s", strerror(errno));
	nd_wait_carrier("rpmsg0", 0, 5000);
	t0 = now_ms();
	load_emu(NULL);
	nd_wait_carrier("rpmsg0", 1, 5000);
	t0 = now_ms() - t0;
	if (t0 < 1000)
		fail("carrier on %ld ms after a raw remote came, before the probe gave up", t0);
	nd_wire(0, vx_ns, -1);
	nd_ping_chan(0, -1, 56, 0);
	drops = nd_ethtool_stat("rpmsg0", "tx_drop_oversize");
	nd_send_frame("rpmsg0", 600);
	if (nd_ethtool_stat("rpmsg0", "tx_drop_oversize") != drops + 1)
		fail("a 600-byte frame to a raw remote: tx_drop_oversize %lld, want %lld",
		     nd_ethtool_stat("rpmsg0", "tx_drop_oversize"), drops + 1);
	say("a raw remote: carrier after %ld ms (probe given up), ping, a 600-byte frame dropped as tx_drop_oversize",
	    t0);

	/* rmmod while the probe's resend is pending (KASAN, kmemleak watch) */
	if (rmmod(EMU))
		fail("rmmod " EMU ": %s", strerror(errno));
	nd_wait_carrier("rpmsg0", 0, 5000);
	msgs = nd_ethtool_stat("rpmsg0", "tx_packets");
	t0 = now_ms();
	load_emu(NULL);
	while (nd_ethtool_stat("rpmsg0", "tx_packets") == msgs) {
		if (now_ms() - t0 > 5000)
			fail("rpmsg0: no probe sent within 5 s of the remote coming");
		sleep_ms(5);
	}
	if (rmmod("rpmsg_eth"))
		fail("rmmod rpmsg_eth right after a frag probe: %s", strerror(errno));
	say("rmmod right after a frag probe");
}
