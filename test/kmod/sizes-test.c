// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit check of rpmsg_eth's frame size bound (kmod/rpmsg_eth_sizes.h): the
 * largest frame never exceeds what the bus carries nor what a message
 * header can describe, whatever the device tree or buf_size say.
 */
#include <stdint.h>
#include <stdio.h>

typedef uint32_t u32;
#include "rpmsg_eth_sizes.h"

static int failed;

static void check(u32 bus_mtu, u32 buf_size, u32 want)
{
	u32 got = rpmsg_eth_max_payload(bus_mtu, buf_size);

	if (got != want) {
		printf("sizes-test: FAIL: bus %u, buffer %u: max payload %u, want %u\n",
		       bus_mtu, buf_size, got, want);
		failed = 1;
	}
}

int main(void)
{
	check(496, 512, 496);		/* upstream virtio, DT agrees */
	check(496, 8192, 496);		/* DT promises more than the bus carries */
	check(496, 256, 240);		/* DT smaller than the bus: the DT's */
	check(0, 8192, 8176);		/* bus cannot tell: the DT's */
	check(0, 0xffffffff, 0xffff);	/* absurd DT, no bus limit: the header's */
	check(0x100000, 0, 0xffff);	/* a bus beyond the header's reach */
	check(0, 16, 0);		/* no room for a frame */
	check(0, 0, 0);
	check(496, 0, 496);
	if (!failed)
		printf("sizes-test: ok: 9 cases\n");
	return failed;
}
