// SPDX-License-Identifier: GPL-2.0
/*
 * The channel table of rpmsg_eth: from the channels parameter when it is
 * set, else from the board's rpmsg node in the device tree (README.md,
 * "Channel table from the device tree"). Printed once at load, one line
 * per channel, so the log says what the module serves. Then how each
 * channel is served: character device (default) or network interface,
 * raw or frag framing (README.md, "Netdev mode"), from the netdev, frag
 * and frag_mtu parameters, else from the node's eth-dev-mode,
 * eth-dev-framing and eth-dev-frag-mtu properties.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if_ether.h>
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

/*
 * Entry @i of string list @prop of @np: one entry per channel, or a single
 * entry for every channel. NULL when the property is absent.
 */
static const char *rpmsg_eth_dt_string(struct device_node *np,
				       const char *prop, int i)
{
	const char *val;
	int n = of_property_count_strings(np, prop);

	if (n <= 0 || of_property_read_string_index(np, prop, n == 1 ? 0 : i,
						    &val))
		return NULL;
	return val;
}

/* How channel @i of @np is served (eth-dev-mode, eth-dev-framing, ...). */
static int rpmsg_eth_config_dt_mode(struct device_node *np, int i,
				    struct rpmsg_eth_chan *chan)
{
	const char *mode = rpmsg_eth_dt_string(np, "eth-dev-mode", i);
	const char *framing = rpmsg_eth_dt_string(np, "eth-dev-framing", i);
	int n = of_property_count_u32_elems(np, "eth-dev-frag-mtu");
	u32 mtu;

	if (mode && strcmp(mode, "netdev") && strcmp(mode, "cdev"))
		goto bad;
	if (framing && strcmp(framing, "frag") && strcmp(framing, "raw"))
		goto bad;
	chan->netdev = mode && !strcmp(mode, "netdev");
	/* kept for a channel the netdev parameter makes a netdev */
	chan->frag = framing && !strcmp(framing, "frag");
	if (n > 0 && !of_property_read_u32_index(np, "eth-dev-frag-mtu",
						 n == 1 ? 0 : i, &mtu))
		chan->frag_mtu = mtu;
	return 0;
bad:
	pr_err("device tree node %pOF: channel %u: eth-dev-mode \"%s\" (netdev or cdev) or eth-dev-framing \"%s\" (frag or raw) unknown\n",
	       np, chan->num, mode ? mode : "", framing ? framing : "");
	return -EINVAL;
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
		if (!ret)
			ret = rpmsg_eth_config_dt_mode(np, i,
						       &rpmsg_eth_chans[rpmsg_eth_nr_chans - 1]);
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

/*
 * Call @fn on each non-empty entry of the comma-separated @list with its
 * position, until one fails.
 */
static int rpmsg_eth_config_each(const char *list, void *arg,
				 int (*fn)(char *entry, u32 pos, void *arg))
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
		if (*entry)
			ret = fn(entry, pos++, arg);
	}
	kfree(copy);
	return ret;
}

static int rpmsg_eth_config_channel_entry(char *entry, u32 pos, void *arg)
{
	return rpmsg_eth_config_entry(entry, pos);
}

static int rpmsg_eth_config_remote_entry(char *entry, u32 pos, void *arg)
{
	return rpmsg_eth_config_remote(entry, pos);
}

/* The device tree's rpmsg node, or NULL. */
static struct device_node *rpmsg_eth_dt_node(unsigned int *which)
{
	struct device_node *np = NULL;
	unsigned int i;

	for (i = 0; !np && i < ARRAY_SIZE(rpmsg_eth_dt_compat); i++)
		np = of_find_compatible_node(NULL, NULL, rpmsg_eth_dt_compat[i]);
	*which = i - 1;
	return np;
}

static int rpmsg_eth_config_from_dt(void)
{
	struct device_node *np;
	unsigned int i;
	int ret;

	np = rpmsg_eth_dt_node(&i);
	if (!np) {
		pr_err("no channels: the device tree has no rpmsg node and the channels parameter is empty\n");
		return -ENODEV;
	}
	ret = rpmsg_eth_config_dt(np);
	if (!ret)
		pr_info("%u channels from device tree node %pOF (%s)\n",
			rpmsg_eth_nr_chans, np, rpmsg_eth_dt_compat[i]);
	of_node_put(np);
	return ret;
}

static bool *rpmsg_eth_chan_flag(struct rpmsg_eth_chan *chan, size_t field)
{
	return (bool *)((char *)chan + field);
}

struct rpmsg_eth_select {
	const char *what;	/* the parameter's name, for errors */
	size_t field;		/* byte offset of the channel's flag */
	bool netdev_only;	/* only channels in netdev mode may be named */
};

/* Set the flag of the channel one entry of a select list names. */
static int rpmsg_eth_config_select_entry(char *entry, u32 pos, void *arg)
{
	const struct rpmsg_eth_select *sel = arg;
	struct rpmsg_eth_chan *chan;
	unsigned int i;
	u32 num;

	if (kstrtou32(entry, 0, &num)) {
		pr_err("%s: \"%s\" is not a channel-num (want all or NUM,NUM,...)\n",
		       sel->what, entry);
		return -EINVAL;
	}
	for (i = 0; i < rpmsg_eth_nr_chans; i++) {
		chan = &rpmsg_eth_chans[i];
		if (chan->num != num)
			continue;
		if (sel->netdev_only && !chan->netdev) {
			pr_err("%s: channel %u is not in netdev mode\n",
			       sel->what, num);
			return -EINVAL;
		}
		*rpmsg_eth_chan_flag(chan, sel->field) = true;
		return 0;
	}
	pr_err("%s: no channel %u is configured\n", sel->what, num);
	return -EINVAL;
}

/*
 * The netdev or frag parameter @list ("all" or channel-nums "0,3,5") into
 * each channel's flag at byte offset @field; set @field only where the
 * channel is a netdev if @netdev_only.
 */
static int rpmsg_eth_config_select(const char *what, const char *list,
				   size_t field, bool netdev_only)
{
	struct rpmsg_eth_select sel = { what, field, netdev_only };
	struct rpmsg_eth_chan *chan;
	unsigned int i;
	bool all;

	all = !strcmp(list, "all");
	for (i = 0; i < rpmsg_eth_nr_chans; i++) {
		chan = &rpmsg_eth_chans[i];
		*rpmsg_eth_chan_flag(chan, field) = all && (!netdev_only || chan->netdev);
	}
	if (all)
		return 0;
	return rpmsg_eth_config_each(list, &sel, rpmsg_eth_config_select_entry);
}

/* netdev, frag, frag_mtu: the parameters, where set, win over the DT. */
static int rpmsg_eth_config_modes(void)
{
	struct rpmsg_eth_chan *chan;
	unsigned int i;
	int ret;

	if (rpmsg_eth_netdev_param && *rpmsg_eth_netdev_param) {
		ret = rpmsg_eth_config_select("netdev", rpmsg_eth_netdev_param,
					      offsetof(struct rpmsg_eth_chan, netdev),
					      false);
		if (ret)
			return ret;
	}
	if (rpmsg_eth_frag_param && *rpmsg_eth_frag_param) {
		ret = rpmsg_eth_config_select("frag", rpmsg_eth_frag_param,
					      offsetof(struct rpmsg_eth_chan, frag),
					      true);
		if (ret)
			return ret;
	}
	for (i = 0; i < rpmsg_eth_nr_chans; i++) {
		chan = &rpmsg_eth_chans[i];
		chan->frag = chan->frag && chan->netdev;
		if (!chan->frag_mtu || rpmsg_eth_frag_mtu != RPMSG_ETH_FRAG_MTU_DEFAULT)
			chan->frag_mtu = rpmsg_eth_frag_mtu;
		if (chan->frag && (chan->frag_mtu < ETH_MIN_MTU ||
				   chan->frag_mtu > RPMSG_ETH_FRAG_MTU_MAX)) {
			pr_err("channel %u: frag MTU %u is outside %u..%u\n",
			       chan->num, chan->frag_mtu, ETH_MIN_MTU,
			       RPMSG_ETH_FRAG_MTU_MAX);
			return -EINVAL;
		}
	}
	return 0;
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
		ret = rpmsg_eth_config_each(rpmsg_eth_channels_param, NULL,
					    rpmsg_eth_config_channel_entry);
	else
		ret = rpmsg_eth_config_from_dt();
	if (!ret && !rpmsg_eth_nr_chans) {
		pr_err("no channels configured\n");
		ret = -EINVAL;
	}
	if (!ret && rpmsg_eth_remote_addrs_param)
		ret = rpmsg_eth_config_each(rpmsg_eth_remote_addrs_param, NULL,
					    rpmsg_eth_config_remote_entry);
	if (!ret)
		ret = rpmsg_eth_config_modes();
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
