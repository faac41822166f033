// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_eth: the eth-dev endpoint of each configured rpmsg channel as a
 * character device /dev/rpmsg-eth<channel-num>, one message per frame.
 * The user-space API is described in rpmsg_eth_api.h, the configuration
 * and the coexistence with the board's own rpmsg drivers in README.md.
 *
 * Lifetime (as in drivers/rpmsg/rpmsg_char.c): a struct rpmsg_eth_chan
 * per configured channel lives from module load to unload and keeps the
 * counters and the minor number; a struct rpmsg_eth_dev per binding owns
 * the endpoint, the queues and the char device, and is refcounted through
 * its struct device: open files hold a reference, so after the channel is
 * removed they see "dead" (EPIPE, POLLHUP) and the memory goes away with
 * the last close.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/poll.h>
#include <linux/rpmsg.h>
#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "rpmsg_eth_api.h"
#include "rpmsg_eth_compat.h"

#define RPMSG_ETH_VERSION	"1.0.0"
#define RPMSG_ETH_HDR_SIZE	16	/* struct rpmsg_hdr */
#define RPMSG_ETH_DEF_BUF_SIZE	512	/* upstream virtio rpmsg buffers */
#define RPMSG_ETH_MAX_CHANNELS	64

static char *channels;
module_param(channels, charp, 0444);
MODULE_PARM_DESC(channels,
		 "[NUM=]NAME:ADDR[:REMOTE],... channels to serve when the device tree has no rpmsg node (or to override it); NUM defaults to the position");
static char *remote_addrs;
module_param(remote_addrs, charp, 0444);
MODULE_PARM_DESC(remote_addrs,
		 "NAME:ADDR,... remote eth-dev addresses differing from the local one");
static bool match_names = true;
module_param(match_names, bool, 0444);
MODULE_PARM_DESC(match_names,
		 "match the channel names (default); 0: bind only through driver_override");
static unsigned int buf_size = RPMSG_ETH_DEF_BUF_SIZE;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size,
		 "rpmsg buffer size when neither the kernel nor the device tree tells (default 512)");
static unsigned int rx_queue_len = 256;
module_param(rx_queue_len, uint, 0444);
MODULE_PARM_DESC(rx_queue_len, "received frames queued per device before dropping (default 256)");
static unsigned int tx_queue_len = 64;
module_param(tx_queue_len, uint, 0444);
MODULE_PARM_DESC(tx_queue_len, "frames queued for sending per device (default 64)");
static unsigned int tx_retry_ms = 1;
module_param(tx_retry_ms, uint, 0644);
MODULE_PARM_DESC(tx_retry_ms, "delay before sending again when the rpmsg ring is full (default 1)");
static unsigned int loglevel;
module_param(loglevel, uint, 0444);
MODULE_PARM_DESC(loglevel, "initial loglevel of every device: 0 errors, 1 events, 2 frames");

enum rpmsg_eth_loglevel {
	RPMSG_ETH_LOG_ERR,
	RPMSG_ETH_LOG_EVENT,
	RPMSG_ETH_LOG_FRAME,
};

/* The counters in the order of struct rpmsg_eth_counters. */
enum rpmsg_eth_counter {
	RX_PACKETS, RX_BYTES, TX_PACKETS, TX_BYTES,
	RX_DROP_OVERFLOW, RX_DROP_NOMEM, RX_DROP_CLOSED, RX_DROP_EMPTY,
	RX_DROP_FLUSHED, TX_DROP_ERROR, TX_DROP_DEAD, TX_RING_FULL,
	RPMSG_ETH_NR_COUNTERS,
};

static const char * const rpmsg_eth_counter_names[RPMSG_ETH_NR_COUNTERS] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
	"rx_drop_overflow", "rx_drop_nomem", "rx_drop_closed", "rx_drop_empty",
	"rx_drop_flushed", "tx_drop_error", "tx_drop_dead", "tx_ring_full",
};

/* One configured channel; lives as long as the module. */
struct rpmsg_eth_chan {
	char name[RPMSG_NAME_SIZE];
	u32 num;		/* channel-num: the N of rpmsg-ethN */
	u32 addr;		/* local eth-dev endpoint address */
	u32 remote;		/* where frames are sent */
	u32 buf_size;		/* 0: unknown */
	u32 num_bufs;		/* 0: unknown */
	dev_t devt;
	unsigned int loglevel;
	atomic64_t counters[RPMSG_ETH_NR_COUNTERS];
	struct rpmsg_eth_dev *edev;	/* current binding, under rpmsg_eth_lock */
};

/* One binding of a channel; freed when the device's last reference goes. */
struct rpmsg_eth_dev {
	struct device dev;
	struct cdev cdev;
	struct rpmsg_eth_chan *chan;
	struct rpmsg_device *rpdev;	/* only while bound */
	struct rpmsg_endpoint *ept;	/* only while bound */
	u32 max_payload;
	u32 buf_size;			/* 0: unknown */
	bool dead;			/* channel gone: READ_ONCE outside tx_lock */
	atomic_t open;			/* one open file at a time */

	struct sk_buff_head rxq;
	wait_queue_head_t rx_wait;
	struct mutex read_lock;		/* serializes readers of rxq's head */

	struct sk_buff_head txq;
	wait_queue_head_t tx_wait;
	struct mutex tx_lock;		/* serializes sending, guards dead/ept */
	struct delayed_work tx_work;
};

#define to_edev(d) container_of(d, struct rpmsg_eth_dev, dev)

static struct rpmsg_eth_chan *rpmsg_eth_chans;
static unsigned int rpmsg_eth_nr_chans;
static DEFINE_MUTEX(rpmsg_eth_lock);
static dev_t rpmsg_eth_major;
static struct class *rpmsg_eth_class;

static void rpmsg_eth_count(struct rpmsg_eth_chan *chan,
			    enum rpmsg_eth_counter c, u64 n)
{
	atomic64_add(n, &chan->counters[c]);
}

static bool rpmsg_eth_dead(struct rpmsg_eth_dev *edev)
{
	return READ_ONCE(edev->dead);
}

static bool rpmsg_eth_tx_room(struct rpmsg_eth_dev *edev)
{
	return skb_queue_len(&edev->txq) < tx_queue_len;
}

/* Receive handler of the eth-dev endpoint; may run in atomic context. */
static int rpmsg_eth_rx(void *priv, void *data, int len, u32 src)
{
	struct rpmsg_eth_dev *edev = priv;
	struct rpmsg_eth_chan *chan = edev->chan;
	struct sk_buff *skb;

	if (READ_ONCE(chan->loglevel) >= RPMSG_ETH_LOG_FRAME)
		dev_info_ratelimited(&edev->dev, "rx %d bytes from 0x%x\n",
				     len, src);
	if (len <= 0) {
		rpmsg_eth_count(chan, RX_DROP_EMPTY, 1);
		return 0;
	}
	if (!atomic_read(&edev->open)) {
		rpmsg_eth_count(chan, RX_DROP_CLOSED, 1);
		return 0;
	}
	if (skb_queue_len(&edev->rxq) >= rx_queue_len) {
		rpmsg_eth_count(chan, RX_DROP_OVERFLOW, 1);
		return 0;
	}
	skb = alloc_skb(len, GFP_ATOMIC);
	if (!skb) {
		rpmsg_eth_count(chan, RX_DROP_NOMEM, 1);
		return 0;
	}
	memcpy(skb_put(skb, len), data, len);
	skb_queue_tail(&edev->rxq, skb);
	rpmsg_eth_count(chan, RX_PACKETS, 1);
	rpmsg_eth_count(chan, RX_BYTES, len);
	wake_up_interruptible(&edev->rx_wait);
	return 0;
}

/* Discard the queued frames of @q, counting them as counter @c. */
static void rpmsg_eth_purge(struct rpmsg_eth_chan *chan,
			    struct sk_buff_head *q, enum rpmsg_eth_counter c)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q))) {
		rpmsg_eth_count(chan, c, 1);
		kfree_skb(skb);
	}
}

/*
 * Send one frame now. Called with tx_lock held and the device alive.
 * Returns 0 when the frame is done with (sent or dropped and counted),
 * -ENOMEM when the ring is full and it must be retried later.
 */
static int rpmsg_eth_xmit(struct rpmsg_eth_dev *edev, struct sk_buff *skb)
{
	struct rpmsg_eth_chan *chan = edev->chan;
	int ret;

	ret = rpmsg_eth_trysend(edev->rpdev, edev->ept, skb->data, skb->len,
				chan->remote);
	/* virtio says -ENOMEM when no tx buffer is free; others -EAGAIN */
	if (ret == -ENOMEM || ret == -EAGAIN || ret == -EBUSY) {
		rpmsg_eth_count(chan, TX_RING_FULL, 1);
		return -ENOMEM;
	}
	if (ret) {
		rpmsg_eth_count(chan, TX_DROP_ERROR, 1);
		dev_err_ratelimited(&edev->dev, "sending %u bytes to 0x%x: %d\n",
				    skb->len, chan->remote, ret);
		return ret;
	}
	rpmsg_eth_count(chan, TX_PACKETS, 1);
	rpmsg_eth_count(chan, TX_BYTES, skb->len);
	if (READ_ONCE(chan->loglevel) >= RPMSG_ETH_LOG_FRAME)
		dev_info_ratelimited(&edev->dev, "tx %u bytes to 0x%x\n",
				     skb->len, chan->remote);
	return 0;
}

static void rpmsg_eth_schedule_retry(struct rpmsg_eth_dev *edev)
{
	/* virtio rpmsg has no "tx buffer free" callback: poll for one */
	schedule_delayed_work(&edev->tx_work,
			      max(1UL, msecs_to_jiffies(READ_ONCE(tx_retry_ms))));
}

/* Drains txq; runs whenever txq is not empty (see rpmsg_eth_queue_tx). */
static void rpmsg_eth_tx_work(struct work_struct *work)
{
	struct rpmsg_eth_dev *edev = container_of(to_delayed_work(work),
						  struct rpmsg_eth_dev,
						  tx_work);
	struct sk_buff *skb;

	mutex_lock(&edev->tx_lock);
	while (!edev->dead && (skb = skb_peek(&edev->txq))) {
		if (rpmsg_eth_xmit(edev, skb) == -ENOMEM) {
			rpmsg_eth_schedule_retry(edev);
			break;
		}
		skb_unlink(skb, &edev->txq);
		kfree_skb(skb);
		wake_up_interruptible(&edev->tx_wait);
	}
	mutex_unlock(&edev->tx_lock);
}

/*
 * Hand one frame to the transmit path, sending it at once when nothing is
 * queued before it. Takes ownership of @skb unless it returns an error.
 * Invariant: whenever txq is not empty, tx_work is queued or running.
 */
static int rpmsg_eth_queue_tx(struct rpmsg_eth_dev *edev, struct sk_buff *skb,
			      bool nonblock)
{
	int ret;

	for (;;) {
		mutex_lock(&edev->tx_lock);
		if (edev->dead) {
			ret = -EPIPE;
			break;
		}
		if (skb_queue_empty(&edev->txq)) {
			ret = rpmsg_eth_xmit(edev, skb);
			if (ret == -ENOMEM) {
				skb_queue_tail(&edev->txq, skb);
				rpmsg_eth_schedule_retry(edev);
				ret = 0;
			} else if (!ret) {
				kfree_skb(skb);
			}
			break;
		}
		if (rpmsg_eth_tx_room(edev)) {
			skb_queue_tail(&edev->txq, skb);
			ret = 0;
			break;
		}
		mutex_unlock(&edev->tx_lock);
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(edev->tx_wait,
					       rpmsg_eth_tx_room(edev) ||
					       rpmsg_eth_dead(edev));
		if (ret)
			return ret;
	}
	mutex_unlock(&edev->tx_lock);
	return ret;
}

/* Copy a frame from user space and queue it for sending. */
static int rpmsg_eth_write_frame(struct rpmsg_eth_dev *edev,
				 const void __user *buf, size_t len,
				 bool nonblock)
{
	struct sk_buff *skb;
	int ret;

	if (rpmsg_eth_dead(edev))
		return -EPIPE;
	if (len > edev->max_payload)
		return -EMSGSIZE;
	if (!len)
		return 0;
	skb = alloc_skb(len, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	if (copy_from_user(skb_put(skb, len), buf, len)) {
		kfree_skb(skb);
		return -EFAULT;
	}
	ret = rpmsg_eth_queue_tx(edev, skb, nonblock);
	if (ret)
		kfree_skb(skb);
	return ret;
}

/* Wait until a frame is queued; called and returns with read_lock held. */
static int rpmsg_eth_wait_rx(struct rpmsg_eth_dev *edev, bool nonblock)
{
	int ret;

	while (skb_queue_empty(&edev->rxq)) {
		if (rpmsg_eth_dead(edev))
			return -EPIPE;
		if (nonblock)
			return -EAGAIN;
		mutex_unlock(&edev->read_lock);
		ret = wait_event_interruptible(edev->rx_wait,
					       !skb_queue_empty(&edev->rxq) ||
					       rpmsg_eth_dead(edev));
		/* held only around a copy: not worth an interruptible wait */
		mutex_lock(&edev->read_lock);
		if (ret)
			return ret;
	}
	return rpmsg_eth_dead(edev) ? -EPIPE : 0;
}

/*
 * Copy the head frame to user space and dequeue it; with read_lock held,
 * so that only this reader removes it. @len is the buffer size; the frame
 * length is stored in *@flen. A short buffer leaves the frame queued.
 */
static int rpmsg_eth_read_frame(struct rpmsg_eth_dev *edev, void __user *buf,
				size_t len, u32 *flen)
{
	struct sk_buff *skb = skb_peek(&edev->rxq);

	*flen = skb->len;
	if (skb->len > len)
		return -EMSGSIZE;
	if (copy_to_user(buf, skb->data, skb->len))
		return -EFAULT;
	skb_unlink(skb, &edev->rxq);
	kfree_skb(skb);
	return 0;
}

static int rpmsg_eth_open(struct inode *inode, struct file *filp)
{
	struct rpmsg_eth_dev *edev = container_of(inode->i_cdev,
						  struct rpmsg_eth_dev, cdev);

	get_device(&edev->dev);
	if (rpmsg_eth_dead(edev)) {
		put_device(&edev->dev);
		return -ENODEV;
	}
	if (atomic_cmpxchg(&edev->open, 0, 1)) {
		put_device(&edev->dev);
		return -EBUSY;
	}
	/* a frame that raced with the previous close is stale */
	rpmsg_eth_purge(edev->chan, &edev->rxq, RX_DROP_FLUSHED);
	filp->private_data = edev;
	stream_open(inode, filp);
	return 0;
}

static int rpmsg_eth_release(struct inode *inode, struct file *filp)
{
	struct rpmsg_eth_dev *edev = filp->private_data;

	atomic_set(&edev->open, 0);
	rpmsg_eth_purge(edev->chan, &edev->rxq, RX_DROP_FLUSHED);
	put_device(&edev->dev);
	return 0;
}

static ssize_t rpmsg_eth_read(struct file *filp, char __user *buf,
			      size_t len, loff_t *ppos)
{
	struct rpmsg_eth_dev *edev = filp->private_data;
	u32 flen;
	int ret;

	ret = mutex_lock_interruptible(&edev->read_lock);
	if (ret)
		return ret;
	ret = rpmsg_eth_wait_rx(edev, filp->f_flags & O_NONBLOCK);
	if (!ret)
		ret = rpmsg_eth_read_frame(edev, buf, len, &flen);
	mutex_unlock(&edev->read_lock);
	if (ret)
		return ret;
	return flen;
}

static ssize_t rpmsg_eth_write(struct file *filp, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct rpmsg_eth_dev *edev = filp->private_data;
	int ret;

	ret = rpmsg_eth_write_frame(edev, buf, len,
				    filp->f_flags & O_NONBLOCK);
	if (ret)
		return ret;
	return len;
}

static __poll_t rpmsg_eth_poll(struct file *filp, poll_table *wait)
{
	struct rpmsg_eth_dev *edev = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &edev->rx_wait, wait);
	poll_wait(filp, &edev->tx_wait, wait);
	if (rpmsg_eth_dead(edev))
		return EPOLLHUP;
	if (!skb_queue_empty(&edev->rxq))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (rpmsg_eth_tx_room(edev))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int rpmsg_eth_read_batch(struct rpmsg_eth_dev *edev,
				struct rpmsg_eth_frame __user *uf,
				u32 count, bool nonblock)
{
	struct rpmsg_eth_frame f;
	u32 done = 0, flen;
	int ret;

	ret = mutex_lock_interruptible(&edev->read_lock);
	if (ret)
		return ret;
	ret = rpmsg_eth_wait_rx(edev, nonblock);
	while (!ret && done < count) {
		ret = -EFAULT;
		if (copy_from_user(&f, &uf[done], sizeof(f)))
			break;
		ret = -EINVAL;
		if (f.flags)
			break;
		ret = rpmsg_eth_read_frame(edev, u64_to_user_ptr(f.data),
					   f.len, &flen);
		if (ret == -EMSGSIZE && put_user(flen, &uf[done].len))
			ret = -EFAULT;
		if (ret)
			break;
		ret = -EFAULT;
		if (put_user(flen, &uf[done].len))
			break;
		done++;
		if (skb_queue_empty(&edev->rxq) || rpmsg_eth_dead(edev))
			break;
	}
	mutex_unlock(&edev->read_lock);
	if (done)
		return done;
	return ret;
}

static int rpmsg_eth_write_batch(struct rpmsg_eth_dev *edev,
				 struct rpmsg_eth_frame __user *uf,
				 u32 count, bool nonblock)
{
	struct rpmsg_eth_frame f;
	u32 done;
	int ret = 0;

	for (done = 0; done < count; done++) {
		ret = -EFAULT;
		if (copy_from_user(&f, &uf[done], sizeof(f)))
			break;
		ret = -EINVAL;
		if (f.flags)
			break;
		/* only the first frame may wait for room */
		ret = rpmsg_eth_write_frame(edev, u64_to_user_ptr(f.data),
					    f.len, nonblock || done);
		if (ret)
			break;
	}
	if (done)
		return done;
	return ret;
}

static long rpmsg_eth_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct rpmsg_eth_dev *edev = filp->private_data;
	struct rpmsg_eth_chan *chan = edev->chan;
	void __user *uarg = (void __user *)arg;
	bool nonblock = filp->f_flags & O_NONBLOCK;
	struct rpmsg_eth_counters counters;
	struct rpmsg_eth_batch batch;
	struct rpmsg_eth_info info;
	u64 *c = (u64 *)&counters;
	int i;

	switch (cmd) {
	case RPMSG_ETH_IOC_INFO:
		memset(&info, 0, sizeof(info));
		info.api_version = RPMSG_ETH_API_VERSION;
		info.channel = chan->num;
		strscpy(info.name, chan->name, sizeof(info.name));
		info.local_addr = chan->addr;
		info.remote_addr = chan->remote;
		info.max_payload = edev->max_payload;
		info.buf_size = edev->buf_size;
		info.num_bufs = chan->num_bufs;
		info.rx_queue_len = rx_queue_len;
		info.tx_queue_len = tx_queue_len;
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	case RPMSG_ETH_IOC_COUNTERS:
		BUILD_BUG_ON(sizeof(counters) != RPMSG_ETH_NR_COUNTERS * sizeof(u64));
		for (i = 0; i < RPMSG_ETH_NR_COUNTERS; i++)
			c[i] = atomic64_read(&chan->counters[i]);
		return copy_to_user(uarg, &counters, sizeof(counters)) ?
			-EFAULT : 0;
	case RPMSG_ETH_IOC_READ_BATCH:
	case RPMSG_ETH_IOC_WRITE_BATCH:
		if (copy_from_user(&batch, uarg, sizeof(batch)))
			return -EFAULT;
		if (batch.flags || batch.count > RPMSG_ETH_BATCH_MAX)
			return -EINVAL;
		if (!batch.count)
			return 0;
		if (cmd == RPMSG_ETH_IOC_READ_BATCH)
			return rpmsg_eth_read_batch(edev,
						    u64_to_user_ptr(batch.frames),
						    batch.count, nonblock);
		return rpmsg_eth_write_batch(edev, u64_to_user_ptr(batch.frames),
					     batch.count, nonblock);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations rpmsg_eth_fops = {
	.owner = THIS_MODULE,
	.open = rpmsg_eth_open,
	.release = rpmsg_eth_release,
	.read = rpmsg_eth_read,
	.write = rpmsg_eth_write,
	.poll = rpmsg_eth_poll,
	.unlocked_ioctl = rpmsg_eth_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static ssize_t version_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s api %d\n", RPMSG_ETH_VERSION,
			  RPMSG_ETH_API_VERSION);
}
static DEVICE_ATTR_RO(version);

static ssize_t counters_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct rpmsg_eth_chan *chan = to_edev(dev)->chan;
	int i, n = 0;

	for (i = 0; i < RPMSG_ETH_NR_COUNTERS; i++)
		n += sysfs_emit_at(buf, n, "%s %lld\n",
				   rpmsg_eth_counter_names[i],
				   (long long)atomic64_read(&chan->counters[i]));
	return n;
}
static DEVICE_ATTR_RO(counters);

static ssize_t loglevel_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", to_edev(dev)->chan->loglevel);
}

static ssize_t loglevel_store(struct device *dev,
			      struct device_attribute *attr,
			      const char *buf, size_t count)
{
	unsigned int level;
	int ret;

	ret = kstrtouint(buf, 0, &level);
	if (ret)
		return ret;
	if (level > RPMSG_ETH_LOG_FRAME)
		return -EINVAL;
	WRITE_ONCE(to_edev(dev)->chan->loglevel, level);
	return count;
}
static DEVICE_ATTR_RW(loglevel);

static ssize_t mtu_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", to_edev(dev)->max_payload);
}
static DEVICE_ATTR_RO(mtu);

static struct attribute *rpmsg_eth_attrs[] = {
	&dev_attr_version.attr,
	&dev_attr_counters.attr,
	&dev_attr_loglevel.attr,
	&dev_attr_mtu.attr,
	NULL,
};
ATTRIBUTE_GROUPS(rpmsg_eth);

static void rpmsg_eth_dev_release(struct device *dev)
{
	struct rpmsg_eth_dev *edev = to_edev(dev);

	rpmsg_eth_purge(edev->chan, &edev->rxq, RX_DROP_FLUSHED);
	rpmsg_eth_purge(edev->chan, &edev->txq, TX_DROP_DEAD);
	kfree(edev);
}

static struct rpmsg_eth_chan *rpmsg_eth_find_chan(const char *name)
{
	unsigned int i;

	for (i = 0; i < rpmsg_eth_nr_chans; i++)
		if (!strncmp(rpmsg_eth_chans[i].name, name, RPMSG_NAME_SIZE))
			return &rpmsg_eth_chans[i];
	return NULL;
}

/*
 * Largest frame: what the kernel says, else the device tree's or the
 * buf_size parameter's buffer size less the rpmsg header.
 */
static void rpmsg_eth_set_sizes(struct rpmsg_eth_dev *edev)
{
	size_t mtu = min_t(size_t, rpmsg_eth_get_mtu(edev->ept), SZ_1M);
	u32 size = edev->chan->buf_size;

	if (!size && mtu)
		size = mtu + RPMSG_ETH_HDR_SIZE;
	edev->buf_size = size;
	if (!size)
		size = buf_size;
	if (mtu)
		edev->max_payload = mtu;
	else if (size > RPMSG_ETH_HDR_SIZE)
		edev->max_payload = size - RPMSG_ETH_HDR_SIZE;
}

static int rpmsg_eth_probe(struct rpmsg_device *rpdev)
{
	struct rpmsg_eth_chan *chan;
	struct rpmsg_eth_dev *edev;
	int ret;

	chan = rpmsg_eth_find_chan(rpdev->id.name);
	if (!chan) {
		dev_err(&rpdev->dev, "channel %s is not configured for rpmsg_eth (see its channels parameter)\n",
			rpdev->id.name);
		return -ENODEV;
	}

	mutex_lock(&rpmsg_eth_lock);
	if (chan->edev) {
		dev_err(&rpdev->dev, "channel %s is already served by %s\n",
			chan->name, dev_name(&chan->edev->dev));
		ret = -EBUSY;
		goto unlock;
	}
	edev = kzalloc(sizeof(*edev), GFP_KERNEL);
	if (!edev) {
		ret = -ENOMEM;
		goto unlock;
	}
	edev->chan = chan;
	edev->rpdev = rpdev;
	skb_queue_head_init(&edev->rxq);
	skb_queue_head_init(&edev->txq);
	init_waitqueue_head(&edev->rx_wait);
	init_waitqueue_head(&edev->tx_wait);
	mutex_init(&edev->read_lock);
	mutex_init(&edev->tx_lock);
	INIT_DELAYED_WORK(&edev->tx_work, rpmsg_eth_tx_work);

	device_initialize(&edev->dev);
	edev->dev.parent = &rpdev->dev;
	edev->dev.class = rpmsg_eth_class;
	edev->dev.devt = chan->devt;
	edev->dev.groups = rpmsg_eth_groups;
	edev->dev.release = rpmsg_eth_dev_release;
	ret = dev_set_name(&edev->dev, "rpmsg-eth%u", chan->num);
	if (ret)
		goto put;
	cdev_init(&edev->cdev, &rpmsg_eth_fops);
	edev->cdev.owner = THIS_MODULE;
	rpmsg_eth_cdev_set_parent(&edev->cdev, &edev->dev.kobj);

	edev->ept = rpmsg_eth_create_ept(rpdev, edev, chan->name, chan->addr);
	if (!edev->ept) {
		dev_err(&rpdev->dev, "cannot create the eth-dev endpoint 0x%x of %s (address in use?)\n",
			chan->addr, chan->name);
		ret = -EBUSY;
		goto put;
	}
	rpmsg_eth_set_sizes(edev);

	ret = cdev_device_add(&edev->cdev, &edev->dev);
	if (ret) {
		dev_err(&rpdev->dev, "cannot add %s: %d\n",
			dev_name(&edev->dev), ret);
		goto destroy;
	}
	chan->edev = edev;
	dev_set_drvdata(&rpdev->dev, edev);
	mutex_unlock(&rpmsg_eth_lock);

	if (chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		dev_info(&edev->dev, "%s: 0x%x -> 0x%x, max payload %u\n",
			 chan->name, chan->addr, chan->remote,
			 edev->max_payload);
	return 0;

destroy:
	rpmsg_destroy_ept(edev->ept);
put:
	put_device(&edev->dev);
unlock:
	mutex_unlock(&rpmsg_eth_lock);
	return ret;
}

static void rpmsg_eth_remove(struct rpmsg_device *rpdev)
{
	struct rpmsg_eth_dev *edev = dev_get_drvdata(&rpdev->dev);
	struct rpmsg_eth_chan *chan = edev->chan;

	/* after this no writer or tx_work touches the endpoint */
	mutex_lock(&edev->tx_lock);
	WRITE_ONCE(edev->dead, true);
	mutex_unlock(&edev->tx_lock);
	cancel_delayed_work_sync(&edev->tx_work);
	/* after this the receive callback does not run any more */
	rpmsg_destroy_ept(edev->ept);
	edev->ept = NULL;
	edev->rpdev = NULL;
	rpmsg_eth_purge(chan, &edev->txq, TX_DROP_DEAD);
	wake_up_interruptible_all(&edev->rx_wait);
	wake_up_interruptible_all(&edev->tx_wait);

	if (chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		dev_info(&edev->dev, "%s went away\n", chan->name);
	cdev_device_del(&edev->cdev, &edev->dev);
	/* only now may another binding register the same device name */
	mutex_lock(&rpmsg_eth_lock);
	chan->edev = NULL;
	mutex_unlock(&rpmsg_eth_lock);
	put_device(&edev->dev);
}

static struct rpmsg_driver rpmsg_eth_driver = {
	.drv.name = KBUILD_MODNAME,
	.probe = rpmsg_eth_probe,
	.remove = rpmsg_eth_remove,
};

/* Device tree nodes of the board's rpmsg platform driver. */
static const char * const rpmsg_eth_dt_compat[] = {
	"fsl,nokia-rpmsg", "nokia-rpmsg",
};

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
	chan = &rpmsg_eth_chans[rpmsg_eth_nr_chans++];
	strscpy(chan->name, name, sizeof(chan->name));
	chan->num = num;
	chan->addr = addr;
	chan->remote = addr;
	chan->buf_size = buf_size;
	chan->num_bufs = num_bufs;
	chan->loglevel = min_t(unsigned int, loglevel, RPMSG_ETH_LOG_FRAME);
	return 0;
}

/* The channel table of the board's rpmsg node (see README.md). */
static int rpmsg_eth_config_dt(struct device_node *np, const char *compat)
{
	const char *name;
	u32 num, addr, bsize, nbufs;
	int i, n, ret;

	n = of_property_count_u32_elems(np, "channel-num");
	if (n <= 0) {
		pr_err("device tree node %s: no channel-num property\n", compat);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		of_property_read_u32_index(np, "channel-num", i, &num);
		if (of_property_read_u32_index(np, "eth-dev-endpoints", i,
					       &addr) ||
		    of_property_read_string_index(np, "channel-name", i,
						  &name)) {
			pr_err("device tree node %s: channel %u (entry %d) has no eth-dev-endpoints or channel-name entry\n",
			       compat, num, i);
			return -EINVAL;
		}
		if (of_property_read_u32_index(np, "rpmsg-buf-size", i, &bsize))
			bsize = 0;
		if (of_property_read_u32_index(np, "rpmsg-num-bufs", i, &nbufs))
			nbufs = 0;
		ret = rpmsg_eth_add_chan(name, num, addr, bsize, nbufs, compat);
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

/* Build the channel table: parameter first, else the device tree. */
static int rpmsg_eth_config(void)
{
	struct device_node *np = NULL;
	unsigned int i;
	int ret;

	rpmsg_eth_chans = kcalloc(RPMSG_ETH_MAX_CHANNELS,
				  sizeof(*rpmsg_eth_chans), GFP_KERNEL);
	if (!rpmsg_eth_chans)
		return -ENOMEM;

	if (channels && *channels) {
		ret = rpmsg_eth_config_list(channels, false);
	} else {
		for (i = 0; !np && i < ARRAY_SIZE(rpmsg_eth_dt_compat); i++)
			np = of_find_compatible_node(NULL, NULL,
						     rpmsg_eth_dt_compat[i]);
		if (!np) {
			pr_err("no channels: the device tree has no rpmsg node and the channels parameter is empty\n");
			ret = -ENODEV;
		} else {
			ret = rpmsg_eth_config_dt(np, rpmsg_eth_dt_compat[i - 1]);
			of_node_put(np);
		}
	}
	if (!ret && !rpmsg_eth_nr_chans) {
		pr_err("no channels configured\n");
		ret = -EINVAL;
	}
	if (!ret && remote_addrs)
		ret = rpmsg_eth_config_list(remote_addrs, true);
	if (ret) {
		kfree(rpmsg_eth_chans);
		rpmsg_eth_chans = NULL;
		rpmsg_eth_nr_chans = 0;
	}
	return ret;
}

static int __init rpmsg_eth_init(void)
{
	struct rpmsg_device_id *ids;
	unsigned int i;
	int ret;

	if (!rx_queue_len || !tx_queue_len) {
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

	ret = alloc_chrdev_region(&rpmsg_eth_major, 0, rpmsg_eth_nr_chans,
				  "rpmsg-eth");
	if (ret)
		goto free_ids;
	for (i = 0; i < rpmsg_eth_nr_chans; i++)
		rpmsg_eth_chans[i].devt = MKDEV(MAJOR(rpmsg_eth_major), i);

	rpmsg_eth_class = rpmsg_eth_class_create("rpmsg-eth");
	if (IS_ERR(rpmsg_eth_class)) {
		ret = PTR_ERR(rpmsg_eth_class);
		goto free_region;
	}
	ret = register_rpmsg_driver(&rpmsg_eth_driver);
	if (ret)
		goto free_class;
	return 0;

free_class:
	class_destroy(rpmsg_eth_class);
free_region:
	unregister_chrdev_region(rpmsg_eth_major, rpmsg_eth_nr_chans);
free_ids:
	kfree(ids);
free_chans:
	kfree(rpmsg_eth_chans);
	rpmsg_eth_nr_chans = 0;
	return ret;
}
module_init(rpmsg_eth_init);

static void __exit rpmsg_eth_exit(void)
{
	unregister_rpmsg_driver(&rpmsg_eth_driver);
	class_destroy(rpmsg_eth_class);
	unregister_chrdev_region(rpmsg_eth_major, rpmsg_eth_nr_chans);
	kfree(rpmsg_eth_driver.id_table);
	kfree(rpmsg_eth_chans);
}
module_exit(rpmsg_eth_exit);

MODULE_DESCRIPTION("rpmsg eth-dev endpoints as frame character devices");
MODULE_LICENSE("GPL");
MODULE_VERSION(RPMSG_ETH_VERSION);
