// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_eth: the eth-dev endpoint of each configured rpmsg channel as a
 * character device /dev/rpmsg-eth<channel-num>, one message per frame, or
 * (netdev mode) as a network interface rpmsg<channel-num>.
 * The user-space API is described in rpmsg_eth_api.h, the configuration
 * and the coexistence with the board's own rpmsg drivers in README.md,
 * how the parts fit in rpmsg_eth.h.
 *
 * This file: the module parameters, the rpmsg driver that binds the
 * configured channels, and load/unload. A channel is served by one rpmsg
 * device at a time; a device that arrives while another still holds its
 * channel (a remote core restarting faster than the old device is torn
 * down) is bound as soon as the old binding is gone.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rpmsg.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "rpmsg_eth.h"

char *rpmsg_eth_channels_param;
module_param_named(channels, rpmsg_eth_channels_param, charp, 0444);
MODULE_PARM_DESC(channels,
		 "[NUM=]NAME:ADDR[:REMOTE],... channels to serve when the device tree has no rpmsg node (or to override it); NUM defaults to the position");
char *rpmsg_eth_remote_addrs_param;
module_param_named(remote_addrs, rpmsg_eth_remote_addrs_param, charp, 0444);
MODULE_PARM_DESC(remote_addrs,
		 "NAME:ADDR,... remote eth-dev addresses differing from the local one");
static bool match_names = true;
module_param(match_names, bool, 0444);
MODULE_PARM_DESC(match_names,
		 "match the channel names (default); 0: bind only through driver_override");
unsigned int rpmsg_eth_buf_size = 512;
module_param_named(buf_size, rpmsg_eth_buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size,
		 "rpmsg buffer size when neither the device tree nor the bus tells (default 512, 17..65551)");
unsigned int rpmsg_eth_rx_queue_len = 256;
module_param_named(rx_queue_len, rpmsg_eth_rx_queue_len, uint, 0444);
MODULE_PARM_DESC(rx_queue_len, "received frames queued per device before dropping (default 256)");
unsigned int rpmsg_eth_tx_queue_len = 64;
module_param_named(tx_queue_len, rpmsg_eth_tx_queue_len, uint, 0444);
MODULE_PARM_DESC(tx_queue_len, "frames queued for sending per device (default 64)");
unsigned int rpmsg_eth_stall_ms = 1000;
module_param_named(stall_ms, rpmsg_eth_stall_ms, uint, 0644);
MODULE_PARM_DESC(stall_ms,
		 "a full ring that takes no frame for this long is a stalled remote (default 1000)");
unsigned int rpmsg_eth_loglevel;
module_param_named(loglevel, rpmsg_eth_loglevel, uint, 0444);
MODULE_PARM_DESC(loglevel, "initial loglevel of every device: 0 errors, 1 events, 2 frames");

char *rpmsg_eth_netdev_param;
module_param_named(netdev, rpmsg_eth_netdev_param, charp, 0444);
MODULE_PARM_DESC(netdev,
		 "channels served as network interfaces rpmsg<N>: all, or channel-nums 0,3,5 (default: the device tree's eth-dev-mode, else character devices)");
char *rpmsg_eth_frag_param;
module_param_named(frag, rpmsg_eth_frag_param, charp, 0444);
MODULE_PARM_DESC(frag,
		 "netdev channels with frag framing: all, or channel-nums (default: the device tree's eth-dev-framing, else raw)");
unsigned int rpmsg_eth_frag_mtu = RPMSG_ETH_FRAG_MTU_DEFAULT;
module_param_named(frag_mtu, rpmsg_eth_frag_mtu, uint, 0444);
MODULE_PARM_DESC(frag_mtu,
		 "MTU of frag framing (default 1500, at most 9000; 1500 leaves the device tree's eth-dev-frag-mtu in force)");

const char * const rpmsg_eth_counter_names[RPMSG_ETH_NR_COUNTERS] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
	"rx_drop_overflow", "rx_drop_nomem", "rx_drop_closed", "rx_drop_empty",
	"rx_drop_flushed", "tx_drop_error", "tx_drop_dead", "tx_ring_full",
	"rx_drop_oversize", "tx_stalls",
};

/* guards every channel's binding and waiting, and rpmsg_eth_exiting */
DEFINE_MUTEX(rpmsg_eth_lock);
/* the driver is being unregistered: bind nothing any more */
static bool rpmsg_eth_exiting;

static struct rpmsg_driver rpmsg_eth_driver;

/* Bind the devices refused while their channel was still bound. */
static void rpmsg_eth_rebind(struct work_struct *work)
{
	if (driver_attach(&rpmsg_eth_driver.drv))
		pr_err("binding waiting channels failed\n");
}

static DECLARE_WORK(rpmsg_eth_rebind_work, rpmsg_eth_rebind);

/* A front end's binding of @chan is gone: serve a device that waits. */
void rpmsg_eth_unbound(struct rpmsg_eth_chan *chan)
{
	bool waiting;

	mutex_lock(&rpmsg_eth_lock);
	chan->binding = NULL;
	waiting = chan->waiting && !rpmsg_eth_exiting;
	chan->waiting = false;
	mutex_unlock(&rpmsg_eth_lock);
	/* not from here: the bus holds the leaving device's lock */
	if (waiting)
		schedule_work(&rpmsg_eth_rebind_work);
}

static int rpmsg_eth_probe(struct rpmsg_device *rpdev)
{
	struct rpmsg_eth_chan *chan;
	int ret;

	chan = rpmsg_eth_find_chan(rpdev->id.name);
	if (!chan) {
		dev_err(&rpdev->dev, "channel %s is not configured for rpmsg_eth (see its channels parameter)\n",
			rpdev->id.name);
		return -ENODEV;
	}
	mutex_lock(&rpmsg_eth_lock);
	if (chan->binding) {
		chan->waiting = true;
		mutex_unlock(&rpmsg_eth_lock);
		dev_info(&rpdev->dev, "channel %s is still bound to another device: binding this one when it goes\n",
			 chan->name);
		return -EPROBE_DEFER;
	}
	if (chan->netdev)
		ret = rpmsg_eth_netdev_probe(chan, rpdev);
	else
		ret = rpmsg_eth_cdev_probe(chan, rpdev);
	mutex_unlock(&rpmsg_eth_lock);
	return ret;
}

static void rpmsg_eth_remove(struct rpmsg_device *rpdev)
{
	/* probe found it by this name: the table does not change */
	struct rpmsg_eth_chan *chan = rpmsg_eth_find_chan(rpdev->id.name);

	if (chan->netdev)
		rpmsg_eth_netdev_remove(chan);
	else
		rpmsg_eth_cdev_remove(rpdev);
}

static struct rpmsg_driver rpmsg_eth_driver = {
	.drv.name = KBUILD_MODNAME,
	.probe = rpmsg_eth_probe,
	.remove = rpmsg_eth_remove,
};

static int __init rpmsg_eth_init(void)
{
	struct rpmsg_device_id *ids;
	unsigned int i;
	int ret;

	if (!rpmsg_eth_rx_queue_len || !rpmsg_eth_tx_queue_len) {
		pr_err("rx_queue_len and tx_queue_len must be at least 1\n");
		return -EINVAL;
	}
	ret = rpmsg_eth_config();
	if (ret)
		return ret;

	ids = kcalloc(rpmsg_eth_nr_chans + 1, sizeof(*ids), GFP_KERNEL);
	if (!ids) {
		ret = -ENOMEM;
		goto free_chans;
	}
	for (i = 0; match_names && i < rpmsg_eth_nr_chans; i++)
		strscpy(ids[i].name, rpmsg_eth_chans[i].name,
			sizeof(ids[i].name));
	rpmsg_eth_driver.id_table = ids;

	ret = rpmsg_eth_cdev_init();
	if (ret)
		goto free_ids;
	/* the interfaces exist, carrier off, before their channels bind */
	ret = rpmsg_eth_netdev_init();
	if (ret)
		goto cdev_exit;
	ret = register_rpmsg_driver(&rpmsg_eth_driver);
	if (ret)
		goto netdev_exit;
	return 0;

netdev_exit:
	rpmsg_eth_netdev_exit();
cdev_exit:
	rpmsg_eth_cdev_exit();
free_ids:
	kfree(ids);
free_chans:
	rpmsg_eth_config_free();
	return ret;
}
module_init(rpmsg_eth_init);

static void __exit rpmsg_eth_exit(void)
{
	mutex_lock(&rpmsg_eth_lock);
	rpmsg_eth_exiting = true;
	mutex_unlock(&rpmsg_eth_lock);
	/* a rebind queued before must not run while the driver goes */
	cancel_work_sync(&rpmsg_eth_rebind_work);
	unregister_rpmsg_driver(&rpmsg_eth_driver);
	rpmsg_eth_netdev_exit();
	rpmsg_eth_cdev_exit();
	kfree(rpmsg_eth_driver.id_table);
	rpmsg_eth_config_free();
}
module_exit(rpmsg_eth_exit);

MODULE_DESCRIPTION("rpmsg eth-dev endpoints as frame character devices or network interfaces");
MODULE_LICENSE("GPL");
MODULE_VERSION(RPMSG_ETH_VERSION);
