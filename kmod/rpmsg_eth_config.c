// SPDX-License-Identifier: GPL-2.0
/*
 * The channel table of rpmsg_eth: from the channels parameter when it is
 * set, else from the board's rpmsg node in the device tree (README.md,
 * "Channel table from the device tree"). Printed once at load, one line
 * per channel, so the log says what the module serves.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/of.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "rpmsg_eth.h"
#include "rpmsg_eth_sizes.h"

struct rpmsg_eth_chan *rpmsg_eth_chans;
unsigned int rpmsg_eth_nr_chans;

/* Device tree nodes of the board's rpmsg platform driver. */
static const char * const rpmsg_eth_dt_compat[] = {
	"fsl,nokia-rpmsg", "nokia-rpmsg",
};

struct rpmsg_eth_chan *rpmsg_eth_find_chan(const char *name)
{
	unsigned int i;

	for (i = 0; i < rpmsg_eth_nr_chans; i++)
		if (!strncmp(rpmsg_eth_chans[i].name, name, RPMSG_NAME_SIZE))
			return &rpmsg_eth_chans[i];
	return NULL;
}

static int rpmsg_eth_add_chan(const char *name, u32 num, u32 addr,
			      u32 buf_size, u32 num_bufs, const char *from)
{
	struct rpmsg_eth_chan *chan;
	unsigned int i;

	if (!*name || strlen(name) >= RPMSG_NAME_SIZE) {
		pr_err("%s: channel name \"%s\" must have 1 to %d characters\n",
		       from, name, RPMSG_NAME_SIZE - 1);
		return -EINVAL;
	}
	if (rpmsg_eth_nr_chans >= RPMSG_ETH_MAX_CHANNELS) {
		pr_err("%s: more than %d channels\n", from,
		       RPMSG_ETH_MAX_CHANNELS);
		return -EINVAL;
	}
	for (i = 0; i < rpmsg_eth_nr_chans; i++) {
		chan = &rpmsg_eth_chans[i];
		if (!strcmp(chan->name, name) || chan->num == num) {
			pr_err("%s: channel %s (number %u) is listed twice\n",
			       from, name, num);
			return -EINVAL;
		}
	}
	chan = &rpmsg_eth_chans[rpmsg_eth_nr_chans];
	strscpy(chan->name, name, sizeof(chan->name));
	chan->index = rpmsg_eth_nr_chans++;
	chan->num = num;
	chan->addr = addr;
	chan->remote = addr;
	chan->buf_size = buf_size;
	chan->num_bufs = num_bufs;
	chan->loglevel = min_t(unsigned int, rpmsg_eth_loglevel,
			       RPMSG_ETH_LOG_FRAME);
	return 0;
}

/* A buffer size the module can use: 0 (unknown) or header + 1..64 KiB. */
static bool rpmsg_eth_buf_size_ok(u32 size)
{
	return !size || (size >= RPMSG_ETH_MIN_BUF_SIZE &&
			 size <= RPMSG_ETH_MAX_BUF_SIZE);
}

/* The channel table of the board's rpmsg node (see README.md). */
static int rpmsg_eth_config_dt(struct device_node *np)
{
	const char *name;
	u32 num, addr, bsize, nbufs;
	int i, n, ret;

	n = of_property_count_u32_elems(np, "channel-num");
	if (n <= 0) {
		pr_err("device tree node %pOF: no channel-num property\n", np);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		of_property_read_u32_index(np, "channel-num", i, &num);
		if (of_property_read_u32_index(np, "eth-dev-endpoints", i,
					       &addr) ||
		    of_property_read_string_index(np, "channel-name", i,
						  &name)) {
			pr_err("device tree node %pOF: channel %u (entry %d) has no eth-dev-endpoints or channel-name entry\n",
			       np, num, i);
			return -EINVAL;
		}
		if (of_property_read_u32_index(np, "rpmsg-buf-size", i, &bsize))
			bsize = 0;
		if (of_property_read_u32_index(np, "rpmsg-num-bufs", i, &nbufs))
			nbufs = 0;
		if (!rpmsg_eth_buf_size_ok(bsize)) {
			pr_err("device tree node %pOF: rpmsg-buf-size of channel %u (%s) is %u, outside %u..%u\n",
			       np, num, name, bsize, RPMSG_ETH_MIN_BUF_SIZE,
			       RPMSG_ETH_MAX_BUF_SIZE);
			return -EINVAL;
		}
		ret = rpmsg_eth_add_chan(name, num, addr, bsize, nbufs,
					 "device tree");
		if (ret)
			return ret;
	}
	return 0;
}

/* One "[NUM=]NAME:ADDR[:REMOTE]" entry of the channels parameter. */
static int rpmsg_eth_config_entry(char *entry, u32 pos)
{
	char *name, *addr, *remote;
	u32 num = pos, a, r;
	int ret;

	name = strchr(entry, '=');
	if (name) {
		*name++ = '\0';
		if (kstrtou32(strim(entry), 0, &num))
			goto bad;
	} else {
		name = entry;
	}
	addr = strchr(name, ':');
	if (!addr)
		goto bad;
	*addr++ = '\0';
	remote = strchr(addr, ':');
	if (remote)
		*remote++ = '\0';
	if (kstrtou32(strim(addr), 0, &a) ||
	    (remote && kstrtou32(strim(remote), 0, &r)))
		goto bad;
	ret = rpmsg_eth_add_chan(strim(name), num, a, 0, 0, "channels");
	if (!ret && remote)
		rpmsg_eth_chans[rpmsg_eth_nr_chans - 1].remote = r;
	return ret;
bad:
	pr_err("channels: entry %u is not [NUM=]NAME:ADDR[:REMOTE]\n", pos);
	return -EINVAL;
}

/* Apply one "NAME:ADDR" entry of the remote_addrs parameter. */
static int rpmsg_eth_config_remote(char *entry, u32 pos)
{
	struct rpmsg_eth_chan *chan;
	char *addr = strchr(entry, ':');
	u32 r;

	if (!addr)
		goto bad;
	*addr++ = '\0';
	if (kstrtou32(strim(addr), 0, &r))
		goto bad;
	chan = rpmsg_eth_find_chan(strim(entry));
	if (!chan) {
		pr_err("remote_addrs: channel %s is not configured\n", entry);
		return -EINVAL;
	}
	chan->remote = r;
	return 0;
bad:
	pr_err("remote_addrs: entry %u is not NAME:ADDR\n", pos);
	return -EINVAL;
}

/* Parse the comma-separated entries of @list (channels or remote_addrs). */
static int rpmsg_eth_config_list(const char *list, bool remote)
{
	char *copy, *rest, *entry;
	u32 pos = 0;
	int ret = 0;

	copy = kstrdup(list, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	while (!ret && (entry = strsep(&rest, ","))) {
		entry = strim(entry);
		if (!*entry)
			continue;
		if (remote)
			ret = rpmsg_eth_config_remote(entry, pos++);
		else
			ret = rpmsg_eth_config_entry(entry, pos++);
	}
	kfree(copy);
	return ret;
}

static int rpmsg_eth_config_from_dt(void)
{
	struct device_node *np = NULL;
	unsigned int i;
	int ret;

	for (i = 0; !np && i < ARRAY_SIZE(rpmsg_eth_dt_compat); i++)
		np = of_find_compatible_node(NULL, NULL, rpmsg_eth_dt_compat[i]);
	if (!np) {
		pr_err("no channels: the device tree has no rpmsg node and the channels parameter is empty\n");
		return -ENODEV;
	}
	ret = rpmsg_eth_config_dt(np);
	if (!ret)
		pr_info("%u channels from device tree node %pOF (%s)\n",
			rpmsg_eth_nr_chans, np, rpmsg_eth_dt_compat[i - 1]);
	of_node_put(np);
	return ret;
}

static void rpmsg_eth_config_print(void)
{
	struct rpmsg_eth_chan *chan;
	unsigned int i;

	for (i = 0; i < rpmsg_eth_nr_chans; i++) {
		chan = &rpmsg_eth_chans[i];
		pr_info("channel %u %s: eth-dev 0x%x -> 0x%x, rpmsg-buf-size %u, rpmsg-num-bufs %u\n",
			chan->num, chan->name, chan->addr, chan->remote,
			chan->buf_size, chan->num_bufs);
	}
}

/* Build the channel table: parameter first, else the device tree. */
int rpmsg_eth_config(void)
{
	int ret;

	if (!rpmsg_eth_buf_size_ok(rpmsg_eth_buf_size) || !rpmsg_eth_buf_size) {
		pr_err("buf_size %u is outside %u..%u\n", rpmsg_eth_buf_size,
		       RPMSG_ETH_MIN_BUF_SIZE, RPMSG_ETH_MAX_BUF_SIZE);
		return -EINVAL;
	}
	rpmsg_eth_chans = kcalloc(RPMSG_ETH_MAX_CHANNELS,
				  sizeof(*rpmsg_eth_chans), GFP_KERNEL);
	if (!rpmsg_eth_chans)
		return -ENOMEM;

	if (rpmsg_eth_channels_param && *rpmsg_eth_channels_param)
		ret = rpmsg_eth_config_list(rpmsg_eth_channels_param, false);
	else
		ret = rpmsg_eth_config_from_dt();
	if (!ret && !rpmsg_eth_nr_chans) {
		pr_err("no channels configured\n");
		ret = -EINVAL;
	}
	if (!ret && rpmsg_eth_remote_addrs_param)
		ret = rpmsg_eth_config_list(rpmsg_eth_remote_addrs_param, true);
	if (ret) {
		rpmsg_eth_config_free();
		return ret;
	}
	rpmsg_eth_config_print();
	return 0;
}

void rpmsg_eth_config_free(void)
{
	kfree(rpmsg_eth_chans);
	rpmsg_eth_chans = NULL;
	rpmsg_eth_nr_chans = 0;
}
