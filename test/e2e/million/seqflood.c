/*
 * seqflood: numbered Ethernet frames through an interface, as fast as it takes them, or their count
 * and order on arrival. For the million-frame test (test/e2e/million-frames.test.ts).
 *
 *   seqflood send IFNAME COUNT ETHERTYPE   frames 0..COUNT-1 (60 bytes, broadcast, seq in bytes 14..17);
 *                                          a frame the interface's queue refuses (ENOBUFS) is sent again,
 *                                          so every one leaves exactly once
 *   seqflood recv IFNAME COUNT ETHERTYPE   counts frames of ETHERTYPE arriving on IFNAME until COUNT or
 *                                          10 s of silence; prints {"received","inOrder","firstBad","expected","socketDrops"}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_socket(const char *ifname, int ethertype)
{
	struct sockaddr_ll sll = { 0 };
	int fd = socket(AF_PACKET, SOCK_RAW, htons((uint16_t)ethertype));

	if (fd < 0) {
		perror("socket(AF_PACKET)");
		exit(1);
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons((uint16_t)ethertype);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror(ifname);
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long count, i;
	int ethertype, fd, one = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: seqflood send|recv IFNAME COUNT ETHERTYPE\n");
		return 2;
	}
	count = strtoul(argv[3], NULL, 0);
	ethertype = (int)strtol(argv[4], NULL, 0);
	fd = open_socket(argv[2], ethertype);
	if (strcmp(argv[1], "send") == 0) {
		unsigned char f[60];
		unsigned long retries = 0;

		/* Straight to the driver: a full TAP queue says ENOBUFS instead of dropping silently. */
		if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
			perror("PACKET_QDISC_BYPASS");
			return 1;
		}
		memset(f, 0, sizeof(f));
		memset(f, 0xff, 6);
		f[6] = 0x02;
		f[11] = 0x01;
		f[12] = (unsigned char)(ethertype >> 8);
		f[13] = (unsigned char)ethertype;
		for (i = 0; i < count;) {
			uint32_t seq = htonl((uint32_t)i);

			memcpy(f + 14, &seq, 4);
			if (send(fd, f, sizeof(f), 0) == (ssize_t)sizeof(f)) {
				i++;
				continue;
			}
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				perror("send");
				return 1;
			}
			retries++;
			sched_yield();
		}
		printf("{\"sent\":%lu,\"retries\":%lu}\n", count, retries);
		return 0;
	}
	{
		static unsigned char buf[64][128];
		struct mmsghdr msgs[64];
		struct iovec iov[64];
		struct tpacket_stats st;
		socklen_t len = sizeof(st);
		unsigned long received = 0, first_bad = 0, expected_at_bad = 0;
		int in_order = 1, rcvbuf = 64 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
		setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
		printf("listening\n");
		fflush(stdout);
		while (received < count) {
			struct pollfd p = { fd, POLLIN, 0 };
			int n, k;

			if (poll(&p, 1, 10000) <= 0)
				break;
			for (k = 0; k < 64; k++) {
				iov[k].iov_base = buf[k];
				iov[k].iov_len = sizeof(buf[k]);
				memset(&msgs[k], 0, sizeof(msgs[k]));
				msgs[k].msg_hdr.msg_iov = &iov[k];
				msgs[k].msg_hdr.msg_iovlen = 1;
			}
			n = recvmmsg(fd, msgs, 64, MSG_DONTWAIT, NULL);
			for (k = 0; k < n; k++) {
				uint32_t seq;

				memcpy(&seq, buf[k] + 14, 4);
				if (ntohl(seq) != received && in_order) {
					in_order = 0;
					first_bad = ntohl(seq);
					expected_at_bad = received;
				}
				received++;
			}
		}
		getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
		printf("{\"received\":%lu,\"inOrder\":%s,\"firstBad\":%lu,\"expected\":%lu,\"socketDrops\":%u}\n", received,
		       in_order ? "true" : "false", first_bad, expected_at_bad, st.tp_drops);
		return 0;
	}
}
