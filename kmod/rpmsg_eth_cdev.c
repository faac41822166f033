// SPDX-License-Identifier: GPL-2.0
/*
 * The character device front end of rpmsg_eth: /dev/rpmsg-eth<N> per bound
 * channel, one read() or write() per frame, batch ioctls, counters.
 *
 * Lifetime: one struct cdev serves every minor and lives as long as the
 * module (an open file pins the module), so closing a file never touches
 * memory of a binding that is gone. A struct rpmsg_eth_cdev per binding
 * embeds its struct device (the /dev node) and the channel's link; open
 * files hold a device reference, so after the channel is removed they see
 * "dead" (EPIPE, POLLHUP) and the memory goes with the last close.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/compat.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "rpmsg_eth.h"
#include "rpmsg_eth_api.h"
#include "rpmsg_eth_compat.h"

struct rpmsg_eth_cdev {
	struct device dev;
	struct rpmsg_eth_link link;
	atomic_t open;			/* one open file at a time */
	bool link_event;		/* link state changed since INFO */

	struct sk_buff_head rxq;
	wait_queue_head_t rx_wait;	/* frames, hangup, link events */
	struct mutex read_lock;		/* serializes readers of rxq's head */
	wait_queue_head_t tx_wait;	/* room in the transmit queue */
};

#define to_edev(d) container_of(d, struct rpmsg_eth_cdev, dev)
#define link_to_edev(l) container_of(l, struct rpmsg_eth_cdev, link)

static dev_t rpmsg_eth_devt;
static struct cdev rpmsg_eth_cdev;
static struct class *rpmsg_eth_class;

static bool rpmsg_eth_dead(struct rpmsg_eth_cdev *edev)
{
	return rpmsg_eth_link_dead(&edev->link);
}

/* link ops: may run in hard-IRQ context */
static void rpmsg_eth_cdev_rx(struct rpmsg_eth_link *link, void *data,
			      int len)
{
	struct rpmsg_eth_cdev *edev = link_to_edev(link);
	struct rpmsg_eth_chan *chan = link->chan;
	struct sk_buff *skb;

	if (!atomic_read(&edev->open)) {
		rpmsg_eth_count(chan, RX_DROP_CLOSED, 1);
		return;
	}
	if (skb_queue_len(&edev->rxq) >= rpmsg_eth_rx_queue_len) {
		rpmsg_eth_count(chan, RX_DROP_OVERFLOW, 1);
		return;
	}
	skb = alloc_skb(len, GFP_ATOMIC);
	if (!skb) {
		rpmsg_eth_count(chan, RX_DROP_NOMEM, 1);
		return;
	}
	skb_put_data(skb, data, len);
	skb_queue_tail(&edev->rxq, skb);
	rpmsg_eth_count(chan, RX_PACKETS, 1);
	rpmsg_eth_count(chan, RX_BYTES, len);
	wake_up_interruptible(&edev->rx_wait);
}

static void rpmsg_eth_cdev_tx_room(struct rpmsg_eth_link *link)
{
	wake_up_interruptible(&link_to_edev(link)->tx_wait);
}

static void rpmsg_eth_cdev_state_changed(struct rpmsg_eth_link *link)
{
	struct rpmsg_eth_cdev *edev = link_to_edev(link);

	WRITE_ONCE(edev->link_event, true);
	wake_up_interruptible(&edev->rx_wait);
}

static const struct rpmsg_eth_link_ops rpmsg_eth_cdev_link_ops = {
	.rx = rpmsg_eth_cdev_rx,
	.tx_room = rpmsg_eth_cdev_tx_room,
	.state_changed = rpmsg_eth_cdev_state_changed,
};

/* Copy a frame from user space and send or queue it. */
static int rpmsg_eth_write_frame(struct rpmsg_eth_cdev *edev,
				 const void __user *buf, size_t len,
				 bool nonblock)
{
	struct rpmsg_eth_link *link = &edev->link;
	struct sk_buff *skb;
	int ret;

	if (rpmsg_eth_dead(edev))
		return -EPIPE;
	if (len > link->max_payload)
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
	while ((ret = rpmsg_eth_link_xmit(link, skb)) == -EAGAIN && !nonblock) {
		ret = wait_event_interruptible(edev->tx_wait,
					       rpmsg_eth_link_tx_room(link) ||
					       rpmsg_eth_dead(edev));
		if (ret)
			break;
	}
	if (ret)
		kfree_skb(skb);
	return ret;
}

/* Wait until a frame is queued; called and returns with read_lock held. */
static int rpmsg_eth_wait_rx(struct rpmsg_eth_cdev *edev, bool nonblock)
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
 * length is stored in *@flen and, if @ulen is set, in user space there.
 * The frame is dequeued only once everything is copied: a short buffer or
 * a fault leaves it queued.
 */
static int rpmsg_eth_read_frame(struct rpmsg_eth_cdev *edev, void __user *buf,
				size_t len, u32 __user *ulen, u32 *flen)
{
	struct sk_buff *skb = skb_peek(&edev->rxq);

	*flen = skb->len;
	if (skb->len > len)
		return -EMSGSIZE;
	if (copy_to_user(buf, skb->data, skb->len))
		return -EFAULT;
	if (ulen && put_user(skb->len, ulen))
		return -EFAULT;
	skb_unlink(skb, &edev->rxq);
	consume_skb(skb);
	return 0;
}

static int rpmsg_eth_open(struct inode *inode, struct file *filp)
{
	unsigned int minor = iminor(inode);
	struct rpmsg_eth_cdev *edev = NULL;

	mutex_lock(&rpmsg_eth_lock);
	if (minor < rpmsg_eth_nr_chans)
		edev = rpmsg_eth_chans[minor].binding;
	if (edev && !rpmsg_eth_dead(edev))
		get_device(&edev->dev);
	else
		edev = NULL;
	mutex_unlock(&rpmsg_eth_lock);
	if (!edev)
		return -ENODEV;
	if (atomic_cmpxchg(&edev->open, 0, 1)) {
		put_device(&edev->dev);
		return -EBUSY;
	}
	/* a frame that raced with the previous close is stale */
	rpmsg_eth_purge(edev->link.chan, &edev->rxq, RX_DROP_FLUSHED);
	WRITE_ONCE(edev->link_event, false);
	filp->private_data = edev;
	stream_open(inode, filp);
	return 0;
}

static int rpmsg_eth_release(struct inode *inode, struct file *filp)
{
	struct rpmsg_eth_cdev *edev = filp->private_data;

	atomic_set(&edev->open, 0);
	rpmsg_eth_purge(edev->link.chan, &edev->rxq, RX_DROP_FLUSHED);
	put_device(&edev->dev);
	return 0;
}

static ssize_t rpmsg_eth_read(struct file *filp, char __user *buf,
			      size_t len, loff_t *ppos)
{
	struct rpmsg_eth_cdev *edev = filp->private_data;
	u32 flen;
	int ret;

	ret = mutex_lock_interruptible(&edev->read_lock);
	if (ret)
		return ret;
	ret = rpmsg_eth_wait_rx(edev, filp->f_flags & O_NONBLOCK);
	if (!ret)
		ret = rpmsg_eth_read_frame(edev, buf, len, NULL, &flen);
	mutex_unlock(&edev->read_lock);
	if (ret)
		return ret;
	return flen;
}

static ssize_t rpmsg_eth_write(struct file *filp, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct rpmsg_eth_cdev *edev = filp->private_data;
	int ret;

	ret = rpmsg_eth_write_frame(edev, buf, len,
				    filp->f_flags & O_NONBLOCK);
	if (ret)
		return ret;
	return len;
}

static __poll_t rpmsg_eth_poll(struct file *filp, poll_table *wait)
{
	struct rpmsg_eth_cdev *edev = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &edev->rx_wait, wait);
	poll_wait(filp, &edev->tx_wait, wait);
	if (rpmsg_eth_dead(edev))
		return EPOLLHUP;
	if (!skb_queue_empty(&edev->rxq))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (rpmsg_eth_link_tx_room(&edev->link))
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (READ_ONCE(edev->link_event))
		mask |= EPOLLPRI;
	return mask;
}

/* Entry @i of a batch's frame array; its flags must be zero. */
static int rpmsg_eth_batch_entry(struct rpmsg_eth_frame __user *uf, u32 i,
				 struct rpmsg_eth_frame *f)
{
	if (copy_from_user(f, &uf[i], sizeof(*f)))
		return -EFAULT;
	return f->flags ? -EINVAL : 0;
}

static int rpmsg_eth_read_batch(struct rpmsg_eth_cdev *edev,
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
		ret = rpmsg_eth_batch_entry(uf, done, &f);
		if (ret)
			break;
		ret = rpmsg_eth_read_frame(edev, u64_to_user_ptr(f.data),
					   f.len, &uf[done].len, &flen);
		if (ret == -EMSGSIZE && put_user(flen, &uf[done].len))
			ret = -EFAULT;
		if (ret)
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

static int rpmsg_eth_write_batch(struct rpmsg_eth_cdev *edev,
				 struct rpmsg_eth_frame __user *uf,
				 u32 count, bool nonblock)
{
	struct rpmsg_eth_frame f;
	u32 done;
	int ret = 0;

	for (done = 0; done < count; done++) {
		ret = rpmsg_eth_batch_entry(uf, done, &f);
		if (ret)
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

static int rpmsg_eth_info(struct rpmsg_eth_cdev *edev, void __user *uarg)
{
	struct rpmsg_eth_link *link = &edev->link;
	struct rpmsg_eth_chan *chan = link->chan;
	struct rpmsg_eth_info info;

	memset(&info, 0, sizeof(info));
	/* reading the state consumes the POLLPRI event */
	WRITE_ONCE(edev->link_event, false);
	info.api_version = RPMSG_ETH_API_VERSION;
	info.channel = chan->num;
	strscpy(info.name, chan->name, sizeof(info.name));
	info.local_addr = chan->addr;
	info.remote_addr = chan->remote;
	info.max_payload = link->max_payload;
	info.buf_size = link->buf_size;
	info.num_bufs = chan->num_bufs;
	info.rx_queue_len = rpmsg_eth_rx_queue_len;
	info.tx_queue_len = rpmsg_eth_tx_queue_len;
	info.link = rpmsg_eth_link_stalled(link) ? RPMSG_ETH_LINK_STALLED :
		RPMSG_ETH_LINK_UP;
	info.stall_ms = READ_ONCE(rpmsg_eth_stall_ms);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long rpmsg_eth_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct rpmsg_eth_cdev *edev = filp->private_data;
	struct rpmsg_eth_chan *chan = edev->link.chan;
	void __user *uarg = (void __user *)arg;
	bool nonblock = filp->f_flags & O_NONBLOCK;
	struct rpmsg_eth_counters counters;
	struct rpmsg_eth_batch batch;
	u64 *c = (u64 *)&counters;
	int i;

	switch (cmd) {
	case RPMSG_ETH_IOC_INFO:
		return rpmsg_eth_info(edev, uarg);
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

#ifdef CONFIG_COMPAT
/*
 * 32-bit user space on a 64-bit kernel: the structs have the same layout
 * in both ABIs (only __u64 and __u32 fields, 8-byte multiples), so only
 * the argument pointer needs converting. Not compat_ptr_ioctl(): kernels
 * before 5.4 lack it, and a NULL compat_ioctl means ENOTTY.
 */
static long rpmsg_eth_compat_ioctl(struct file *filp, unsigned int cmd,
				   unsigned long arg)
{
	return rpmsg_eth_ioctl(filp, cmd, (unsigned long)compat_ptr(arg));
}
#endif

static const struct file_operations rpmsg_eth_fops = {
	.owner = THIS_MODULE,
	.open = rpmsg_eth_open,
	.release = rpmsg_eth_release,
	.read = rpmsg_eth_read,
	.write = rpmsg_eth_write,
	.poll = rpmsg_eth_poll,
	.unlocked_ioctl = rpmsg_eth_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl = rpmsg_eth_compat_ioctl,
#endif
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
	struct rpmsg_eth_chan *chan = to_edev(dev)->link.chan;
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
	return sysfs_emit(buf, "%u\n", to_edev(dev)->link.chan->loglevel);
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
	WRITE_ONCE(to_edev(dev)->link.chan->loglevel, level);
	return count;
}
static DEVICE_ATTR_RW(loglevel);

static ssize_t mtu_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", to_edev(dev)->link.max_payload);
}
static DEVICE_ATTR_RO(mtu);

static ssize_t link_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct rpmsg_eth_link *link = &to_edev(dev)->link;

	return sysfs_emit(buf, "%s\n", rpmsg_eth_link_dead(link) ? "gone" :
			  rpmsg_eth_link_stalled(link) ? "stalled" : "up");
}
static DEVICE_ATTR_RO(link);

static struct attribute *rpmsg_eth_attrs[] = {
	&dev_attr_version.attr,
	&dev_attr_counters.attr,
	&dev_attr_loglevel.attr,
	&dev_attr_mtu.attr,
	&dev_attr_link.attr,
	NULL,
};
ATTRIBUTE_GROUPS(rpmsg_eth);

static void rpmsg_eth_dev_release(struct device *dev)
{
	struct rpmsg_eth_cdev *edev = to_edev(dev);

	rpmsg_eth_purge(edev->link.chan, &edev->rxq, RX_DROP_FLUSHED);
	kfree(edev);
}

/* Bind @chan to @rpdev: the link, then /dev/rpmsg-eth<N>. */
int rpmsg_eth_cdev_probe(struct rpmsg_eth_chan *chan,
			 struct rpmsg_device *rpdev)
{
	struct rpmsg_eth_cdev *edev;
	int ret;

	lockdep_assert_held(&rpmsg_eth_lock);
	edev = kzalloc(sizeof(*edev), GFP_KERNEL);
	if (!edev)
		return -ENOMEM;
	skb_queue_head_init(&edev->rxq);
	init_waitqueue_head(&edev->rx_wait);
	init_waitqueue_head(&edev->tx_wait);
	mutex_init(&edev->read_lock);

	device_initialize(&edev->dev);
	edev->dev.parent = &rpdev->dev;
	edev->dev.class = rpmsg_eth_class;
	edev->dev.devt = MKDEV(MAJOR(rpmsg_eth_devt), chan->index);
	edev->dev.groups = rpmsg_eth_groups;
	edev->dev.release = rpmsg_eth_dev_release;
	/* the release callback needs the channel even if the link fails */
	edev->link.chan = chan;
	ret = dev_set_name(&edev->dev, "rpmsg-eth%u", chan->num);
	if (ret)
		goto put;
	ret = rpmsg_eth_link_start(&edev->link, chan, rpdev,
				   &rpmsg_eth_cdev_link_ops);
	if (ret)
		goto put;
	ret = device_add(&edev->dev);
	if (ret) {
		dev_err(&rpdev->dev, "cannot add %s: %d\n",
			dev_name(&edev->dev), ret);
		goto stop;
	}
	chan->binding = edev;
	dev_set_drvdata(&rpdev->dev, edev);
	if (chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		dev_info(&edev->dev, "%s: 0x%x -> 0x%x, max payload %u\n",
			 chan->name, chan->addr, chan->remote,
			 edev->link.max_payload);
	return 0;

stop:
	rpmsg_eth_link_stop(&edev->link);
put:
	put_device(&edev->dev);
	return ret;
}

void rpmsg_eth_cdev_remove(struct rpmsg_device *rpdev)
{
	struct rpmsg_eth_cdev *edev = dev_get_drvdata(&rpdev->dev);
	struct rpmsg_eth_chan *chan = edev->link.chan;

	rpmsg_eth_link_stop(&edev->link);
	wake_up_interruptible_all(&edev->rx_wait);
	wake_up_interruptible_all(&edev->tx_wait);
	if (chan->loglevel >= RPMSG_ETH_LOG_EVENT)
		dev_info(&edev->dev, "%s went away\n", chan->name);
	device_del(&edev->dev);
	/* only now may another binding register the same device name */
	rpmsg_eth_unbound(chan);
	put_device(&edev->dev);
}

int rpmsg_eth_cdev_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&rpmsg_eth_devt, 0, rpmsg_eth_nr_chans,
				  "rpmsg-eth");
	if (ret)
		return ret;
	rpmsg_eth_class = rpmsg_eth_class_create("rpmsg-eth");
	if (IS_ERR(rpmsg_eth_class)) {
		ret = PTR_ERR(rpmsg_eth_class);
		goto free_region;
	}
	cdev_init(&rpmsg_eth_cdev, &rpmsg_eth_fops);
	rpmsg_eth_cdev.owner = THIS_MODULE;
	ret = cdev_add(&rpmsg_eth_cdev, rpmsg_eth_devt, rpmsg_eth_nr_chans);
	if (ret)
		goto destroy_class;
	return 0;

destroy_class:
	class_destroy(rpmsg_eth_class);
free_region:
	unregister_chrdev_region(rpmsg_eth_devt, rpmsg_eth_nr_chans);
	return ret;
}

void rpmsg_eth_cdev_exit(void)
{
	cdev_del(&rpmsg_eth_cdev);
	class_destroy(rpmsg_eth_class);
	unregister_chrdev_region(rpmsg_eth_devt, rpmsg_eth_nr_chans);
}
