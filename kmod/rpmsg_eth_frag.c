// SPDX-License-Identifier: GPL-2.0
/*
 * The frag framing of netdev mode: the one implementation of
 * frag/wire-spec.md that the daemon and the simulated peer run too,
 * compiled into the module (Kbuild puts frag/ on the include path; no
 * copy of it lives here), and what the front end asks of its state.
 */

#include "rpmsg_frag.c"

#include "rpmsg_eth.h"

/* A frame is in progress: the reassembly timeout must be watched. */
bool rpmsg_eth_frag_rx_assembling(const struct rpmsg_frag_rx *rx)
{
	return rx->state == ST_ASSEMBLING;
}
