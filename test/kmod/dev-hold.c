// SPDX-License-Identifier: GPL-2.0-only
/*
 * dev-hold: open a message device and block reading it until a read fails,
 * then print how it failed. Used to check what a reader sees when the
 * device's channel or driver goes away underneath it.
 *
 *   dev-hold PATH
 * prints "dev-hold: open" once the device is open, then for every frame
 * read "dev-hold: frame N bytes", and finally "dev-hold: read: ERRNAME" (or
 * "dev-hold: read: EOF") and exits 0; exits 1 if the device cannot be opened
 * or a read returns more bytes than were asked for (a driver bug).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[65536];
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: dev-hold PATH\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		printf("dev-hold: open %s: %s\n", argv[1], strerrorname_np(errno));
		return 1;
	}
	printf("dev-hold: open\n");
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if ((size_t)n > sizeof(buf)) {
			printf("dev-hold: read: returned %zd for a %zu-byte buffer\n",
			       n, sizeof(buf));
			return 1;
		}
		printf("dev-hold: frame %zd bytes\n", n);
		fflush(stdout);
	}
	if (n == 0)
		printf("dev-hold: read: EOF\n");
	else
		printf("dev-hold: read: %s\n", strerrorname_np(errno));
	close(fd);
	return 0;
}
