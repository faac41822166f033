// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod-scenarios: the rpmsg_eth scenarios that need no shell, so that the
 * same code runs in the x86-64 guest (called from the guest scenario scripts)
 * and in the big-endian PowerPC guest (where it is /init: no shell, no
 * Node.js there).
 *
 *   kmod-scenarios [OPTIONS] SCENARIO...    run them, in order
 *   kmod-scenarios --init                   PID 1 of the ppc initramfs:
 *       mount, load the rpmsg core, run every scenario, kmemleak scan,
 *       print the kernel log, power off; options from /kmod-test.conf
 * options:
 *   --rpmsg-eth KO --emu KO   the modules (and --core DIR: load the rpmsg
 *                             core from DIR first)
 *   --eth-params P            rpmsg_eth's parameters (empty: device tree)
 *   --expect-table FILE       the channel table rpmsg_eth must print
 *   --bin DIR                 where frame-xfer and dev-hold are
 * Output protocol as guest/run.sh: "kmod-test: RESULT <name> PASS|FAIL|SKIP"
 * per scenario, "kmod-test: FAIL: why" lines. Exit 0 when none failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

#include "../../kmod/rpmsg_eth_api.h"

#define EMU "rpmsg_vx_emu"
/* The board's first channels, as config/lanta.dts has them. */
#define EMU_CHANNELS "nokia-fsproxy-channel:0x10,nokia-eqpthwa-channel:0x20,nokia-redundancy-channel:0x30"
#define EMU_NR 3
#define FRAME_LEN 100
#define LOG_SIZE (4 << 20)

static const char *eth_ko, *emu_ko, *core_dir, *bin_dir = ".", *expect_table;
static const char *eth_params = "channels=" EMU_CHANNELS;
static const char *emu_transport = "virtio";
static int init_mode, want_kasan;
/* the channel the DT serves as a netdev (ppc: run.sh adds it), its MTU */
static int dt_netdev_chan = -1, dt_netdev_mtu;

/* ---- reporting ---- */

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("kmod-test: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static void power_off(void);

/* End the scenario (a child process) as failed; as PID 1, the whole run. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("kmod-test: FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	if (getpid() == 1) {
		say("RESULT FAIL (setting up the guest)");
		power_off();
	}
	exit(1);
}

static void skip(const char *why)
{
	say("SKIP: %s", why);
	exit(77);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- files, modules, devices ---- */

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static long read_num(const char *fmt, ...)
{
	char path[512], buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (read_text(path, buf, sizeof(buf)))
		fail("cannot read %s: %s", path, strerror(errno));
	return strtol(buf, NULL, 0);
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static void insmod(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	if (syscall(SYS_finit_module, fd, params, 0))
		fail("insmod %s %s: %s", path, params, strerror(errno));
	close(fd);
}

static int rmmod(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

static int module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return exists(path);
}

static void load_emu(const char *params)
{
	char p[512];

	snprintf(p, sizeof(p), "channels=%s transport=%s %s", EMU_CHANNELS,
		 emu_transport, params ? params : "");
	insmod(emu_ko, p);
}

static void load_eth(const char *extra)
{
	char p[512];

	snprintf(p, sizeof(p), "%s %s", eth_params, extra ? extra : "");
	insmod(eth_ko, p);
}

/* rpmsg_eth's counter NAME of /dev/rpmsg-eth<N>. */
static long eth_counter(int n, const char *name)
{
	char path[128], buf[2048], *p;
	size_t len = strlen(name);

	snprintf(path, sizeof(path), "/sys/class/rpmsg-eth/rpmsg-eth%d/counters", n);
	if (read_text(path, buf, sizeof(buf)))
		fail("cannot read %s: %s", path, strerror(errno));
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtol(p + len + 1, NULL, 10);
	fail("no counter %s in %s", name, path);
	return -1;
}

static long vx_stat(int n, const char *name)
{
	return read_num("/sys/class/net/vx%d/statistics/%s", n, name);
}

static int eth_dev_present(int n)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/rpmsg-eth%d", n);
	return exists(path);
}

static void wait_devices(int count, long ms)
{
	long end = now_ms() + ms;
	int i;

	for (i = 0; i < count; i++)
		while (!eth_dev_present(i)) {
			if (now_ms() > end)
				fail("/dev/rpmsg-eth%d did not appear within %ld ms", i, ms);
			sleep_ms(50);
		}
}

/* vx<N> up, MTU 1500, no IPv6 (its chatter would disturb exact counts). */
static void vx_up(int n)
{
	struct ifreq ifr;
	char path[128];
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "vx%d", n);
	ifr.ifr_mtu = 1500;
	if (s < 0 || ioctl(s, SIOCSIFMTU, &ifr))
		fail("mtu of vx%d: %s", n, strerror(errno));
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/vx%d/disable_ipv6", n);
	if (exists(path) && write_text(path, "1"))
		fail("disabling IPv6 on vx%d", n);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		fail("flags of vx%d: %s", n, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		fail("vx%d up: %s", n, strerror(errno));
	close(s);
}

/* ---- helper processes (frame-xfer, dev-hold) ---- */

/* Run BIN/tool with args; stdout+stderr to @out (or inherited if NULL). */
static pid_t spawn(const char *out, const char *tool, ...)
{
	char path[512], *argv[16];
	va_list ap;
	int argc = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", bin_dir, tool);
	argv[argc++] = path;
	va_start(ap, tool);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run a tool to completion; fail the scenario if it fails. */
static void run_tool(const char *what, const char *tool, const char *a1,
		     const char *a2, const char *a3, const char *a4,
		     const char *a5, const char *a6)
{
	pid_t pid = spawn(NULL, tool, a1, a2, a3, a4, a5, a6, NULL);

	if (wait_exit(pid))
		fail("%s failed", what);
}

/* Whether the last 64 KiB of @path (a helper's growing output) hold @needle. */
static int file_has(const char *path, const char *needle)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void wait_file_has(const char *path, const char *needle, long ms)
{
	long end = now_ms() + ms;

	while (!file_has(path, needle)) {
		if (now_ms() > end) {
			char buf[512] = "";

			read_text(path, buf, sizeof(buf));
			fail("%s: no \"%s\" within %ld ms; it says: %s", path, needle, ms, buf);
		}
		sleep_ms(50);
	}
}

/* ---- the device, from C ---- */

static int open_dev(int n, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/rpmsg-eth%d", n);
	fd = open(path, O_RDWR | flags);
	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	return fd;
}

static void make_frame(unsigned char *f, size_t len, unsigned int seq)
{
	size_t i;

	memset(f, 0xff, 6);		/* broadcast: vx<N> takes it */
	memcpy(f + 6, "\x02\x00\x5e\x10\x00\x02", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (i = 14; i < len; i++)
		f[i] = (unsigned char)(seq + i);
}

static struct rpmsg_eth_info dev_info(int fd)
{
	struct rpmsg_eth_info info;

	if (ioctl(fd, RPMSG_ETH_IOC_INFO, &info))
		fail("RPMSG_ETH_IOC_INFO: %s", strerror(errno));
	return info;
}

static void set_stall(int on)
{
	if (write_text("/sys/module/" EMU "/parameters/stall", on ? "1" : "0"))
		fail("setting the emulator's stall to %d", on);
}

static short poll_dev(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, ms) < 0)
		fail("poll: %s", strerror(errno));
	return p.revents;
}

static void wait_vx_rx(int n, long want, long ms)
{
	long end = now_ms() + ms;

	while (vx_stat(n, "rx_packets") < want) {
		if (now_ms() > end)
			fail("vx%d received %ld frames, want %ld", n,
			     vx_stat(n, "rx_packets"), want);
		sleep_ms(20);
	}
	if (vx_stat(n, "rx_packets") != want)
		fail("vx%d received %ld frames, want exactly %ld", n,
		     vx_stat(n, "rx_packets"), want);
}

/* ---- scenarios ---- */

/*
 * The channel table rpmsg_eth reads from the device tree (ppc): the lines
 * it prints must be exactly those of --expect-table, then the emulated
 * remote's channels bind with the bus's payload limit.
 */
static void scenario_dt_table(void)
{
	static char log[LOG_SIZE], want[16384], got[16384];
	char *line, *save;
	size_t n = 0;
	int len, fd;

	if (!exists("/proc/device-tree") || !expect_table)
		skip("no device tree or no expected table (x86-64 runs without one)");
	if (read_text(expect_table, want, sizeof(want)))
		fail("cannot read %s", expect_table);
	load_eth(NULL);
	len = klogctl(3, log, sizeof(log) - 1);
	if (len < 0)
		fail("klogctl: %s", strerror(errno));
	log[len] = '\0';
	/* the last load's table: lines "rpmsg_eth: channel ..." */
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "rpmsg_eth: channel ");

		if (strstr(line, "rpmsg_eth: ") && strstr(line, "channels from device tree node"))
			n = 0, got[0] = '\0';
		if (p && n + strlen(p) + 2 < sizeof(got))
			n += sprintf(got + n, "%s\n", p + strlen("rpmsg_eth: "));
	}
	if (strcmp(got, want))
		fail("rpmsg_eth printed the table\n%s\nbut the device tree has\n%s", got, want);
	say("channel table from the device tree, as printed by rpmsg_eth:");
	for (line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		say("  %s", line);
	if (dt_netdev_chan >= 0) {
		char iface[IFNAMSIZ], path[64];

		/* eth-dev-mode of the DT: that channel only, as an interface */
		snprintf(iface, sizeof(iface), "rpmsg%d", dt_netdev_chan);
		snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", iface);
		if (!exists(path) || read_num("%s", path) != dt_netdev_mtu)
			fail("the DT's netdev channel: %s %s, want MTU %d", iface,
			     exists(path) ? "has another MTU" : "is missing", dt_netdev_mtu);
		if (exists("/sys/class/net/rpmsg0"))
			fail("rpmsg0 exists: the DT has channel 0 as a character device");
		say("DT eth-dev-mode/-framing/-frag-mtu: %s, frag framing, MTU %d; the others character devices",
		    iface, dt_netdev_mtu);
	}
	load_emu(NULL);
	wait_devices(EMU_NR, 5000);
	fd = open_dev(0, 0);
	{
		struct rpmsg_eth_info info = dev_info(fd);

		/* fsproxy: 8192-byte buffers in the DT, 512 on the emulated bus */
		if (info.buf_size != 8192 || info.num_bufs != 256 || info.max_payload != 496 ||
		    info.local_addr != 0x10 || info.channel != 0 ||
		    strcmp(info.name, "nokia-fsproxy-channel"))
			fail("rpmsg-eth0 info: %s ch %u addr 0x%x buf %u x %u payload %u",
			     info.name, info.channel, info.local_addr, info.buf_size,
			     info.num_bufs, info.max_payload);
		say("rpmsg-eth0: %s, rpmsg-buf-size %u from the DT, bus payload 496: max_payload %u",
		    info.name, info.buf_size, info.max_payload);
	}
	close(fd);
}

/*
 * Frames both ways on every channel with exact counters, with the
 * emulator on either transport (irq: delivered in hard-IRQ context).
 */
static void datapath(void)
{
	char iface[16], dev[32];
	long tx0, rx0, vrx0, vtx0;
	int i;

	load_eth(NULL);
	load_emu(NULL);
	wait_devices(EMU_NR, 5000);
	for (i = 0; i < EMU_NR; i++) {
		vx_up(i);
		tx0 = eth_counter(i, "tx_packets");
		rx0 = eth_counter(i, "rx_packets");
		vrx0 = vx_stat(i, "rx_packets");
		vtx0 = vx_stat(i, "tx_packets");
		snprintf(iface, sizeof(iface), "vx%d", i);
		snprintf(dev, sizeof(dev), "/dev/rpmsg-eth%d", i);
		/* 2 frames each way (100 bytes and the 496-byte maximum) */
		run_tool("frame-xfer", "frame-xfer", "--iface", iface, "--dev", dev,
			 NULL, NULL);
		if (eth_counter(i, "tx_packets") - tx0 != 2 ||
		    eth_counter(i, "rx_packets") - rx0 != 2 ||
		    vx_stat(i, "rx_packets") - vrx0 != 2 ||
		    vx_stat(i, "tx_packets") - vtx0 != 2)
			fail("channel %d: rpmsg_eth tx/rx %ld/%ld, vx%d rx/tx %ld/%ld; want 2 each", i,
			     eth_counter(i, "tx_packets") - tx0, eth_counter(i, "rx_packets") - rx0,
			     i, vx_stat(i, "rx_packets") - vrx0, vx_stat(i, "tx_packets") - vtx0);
	}
	if (!strcmp(emu_transport, "irq")) {
		char buf[64];
		long all = -1, hard = -1;

		if (!read_text("/sys/module/" EMU "/parameters/irq_deliveries", buf, sizeof(buf)))
			sscanf(buf, "%ld %ld", &all, &hard);
		if (all < 2 * EMU_NR || hard != all)
			fail("the emulator delivered %ld messages, %ld of them in hard-IRQ context", all,
			     hard);
		say("irq transport: all %ld messages delivered in hard-IRQ context", all);
	}
	say("%s transport: frames both ways on %d channels, counters exact", emu_transport, EMU_NR);
}

/*
 * rpmsg_eth and the emulator loaded, channels 0 and 1 up, then readers, a
 * writer and the remote's flood on both.
 */
static void start_traffic(pid_t *pids)
{
	load_eth(NULL);
	load_emu(NULL);
	wait_devices(EMU_NR, 5000);
	vx_up(0);
	vx_up(1);
	pids[0] = spawn("/tmp/hold0.out", "dev-hold", "/dev/rpmsg-eth0", NULL);
	pids[1] = spawn("/tmp/flood1.out", "frame-xfer", "--iface", "vx1", "--dev",
			"/dev/rpmsg-eth1", "--flood", "100000000", NULL);
	pids[2] = spawn("/dev/null", "frame-xfer", "--iface", "vx0", "--flood", "100000000",
			NULL);
	long end = now_ms() + 20000;

	wait_file_has("/tmp/hold0.out", "dev-hold: frame", 10000);
	while (vx_stat(1, "rx_packets") < 50) {
		if (now_ms() > end)
			fail("the writer's frames do not reach vx1");
		sleep_ms(20);
	}
}

static void check_traffic_ended(pid_t *pids, const char *why)
{
	wait_file_has("/tmp/hold0.out", "dev-hold: read:", 5000);
	if (!file_has("/tmp/hold0.out", "dev-hold: read: EPIPE"))
		fail("%s: the reader did not end with EPIPE", why);
	wait_file_has("/tmp/flood1.out", "frame-xfer: ok:", 20000);
	if (!file_has("/tmp/flood1.out", "(EPIPE)"))
		fail("%s: the writer did not end with EPIPE", why);
	/* both closed their files after the binding went: no use-after-free */
	if (wait_exit(pids[0]) || wait_exit(pids[1]))
		fail("%s: reader or writer exited with an error", why);
	kill(pids[2], SIGTERM);
	wait_exit(pids[2]);
}

/* The remote goes away under traffic both ways, and comes back. */
static void remote_gone(void)
{
	pid_t pids[3];

	start_traffic(pids);
	if (rmmod(EMU))
		fail("rmmod " EMU ": %s", strerror(errno));
	check_traffic_ended(pids, "remote gone");
	if (eth_dev_present(0))
		fail("/dev/rpmsg-eth0 still there after the remote went away");
	say("%s transport: remote gone under traffic: reader and writer got EPIPE, files closed",
	    emu_transport);
	load_emu(NULL);
	wait_devices(EMU_NR, 5000);
	vx_up(0);
	run_tool("frame-xfer after the remote came back", "frame-xfer", "--iface", "vx0",
		 "--dev", "/dev/rpmsg-eth0", NULL, NULL);
	say("remote back: /dev/rpmsg-eth0..%d again, frames flow", EMU_NR - 1);
}

/* Unbind every rpmsg device rpmsg_eth is bound to. */
static void unbind_all_eth(void)
{
	char name[256];
	struct dirent *d;
	DIR *dir;

	dir = opendir("/sys/bus/rpmsg/drivers/rpmsg_eth");
	if (!dir)
		fail("no /sys/bus/rpmsg/drivers/rpmsg_eth");
	while ((d = readdir(dir)))
		if (strchr(d->d_name, '.') && d->d_name[0] != '.') {
			snprintf(name, sizeof(name), "%s", d->d_name);
			if (write_text("/sys/bus/rpmsg/drivers/rpmsg_eth/unbind", name))
				fail("unbinding %s: %s", name, strerror(errno));
		}
	closedir(dir);
}

/* Probe every rpmsg device again: drivers bind to what matches them. */
static void probe_all_rpmsg(void)
{
	struct dirent *d;
	DIR *dir;

	dir = opendir("/sys/bus/rpmsg/devices");
	while (dir && (d = readdir(dir)))
		if (d->d_name[0] != '.')
			write_text("/sys/bus/rpmsg/drivers_probe", d->d_name);
	if (dir)
		closedir(dir);
}

/* Unbind rpmsg_eth's devices under traffic; rmmod with a file open. */
static void scenario_unbind_under_traffic(void)
{
	pid_t pids[3];
	int fd;

	start_traffic(pids);
	unbind_all_eth();
	check_traffic_ended(pids, "unbind");
	say("unbound under traffic: reader and writer got EPIPE");
	/* bind again: the same devices come back */
	probe_all_rpmsg();
	wait_devices(EMU_NR, 5000);
	fd = open_dev(0, 0);
	if (!rmmod("rpmsg_eth") || errno != EWOULDBLOCK)
		fail("rmmod rpmsg_eth with /dev/rpmsg-eth0 open: %s, want EWOULDBLOCK (in use)",
		     strerror(errno));
	close(fd);
	if (rmmod("rpmsg_eth"))
		fail("rmmod rpmsg_eth after close: %s", strerror(errno));
	say("rebound; rmmod refused while a file is open, done after close");
}

/*
 * The remote stops taking frames: a non-blocking writer fills the ring and
 * the queue, gets EAGAIN, poll says no POLLOUT; after stall_ms POLLPRI and
 * INFO say "stalled". The remote resumes: POLLOUT, POLLPRI, "up", and every
 * accepted frame arrives.
 */
static void nonblock_stall(void)
{
	unsigned char f[FRAME_LEN];
	struct rpmsg_eth_info info;
	long rx0, accepted = 0, t0;
	int fd;

	load_eth("stall_ms=300");
	load_emu("num_bufs=16");
	wait_devices(EMU_NR, 5000);
	vx_up(0);
	fd = open_dev(0, O_NONBLOCK);
	info = dev_info(fd);
	rx0 = vx_stat(0, "rx_packets");
	set_stall(1);
	make_frame(f, sizeof(f), 1);
	for (;;) {
		if (write(fd, f, sizeof(f)) == sizeof(f)) {
			accepted++;
			continue;
		}
		if (errno != EAGAIN)
			fail("non-blocking write: %s, want EAGAIN", strerror(errno));
		break;
	}
	/* 8 ring buffers + tx_queue_len 64 */
	if (accepted != 8 + (long)info.tx_queue_len)
		fail("accepted %ld frames before EAGAIN, want %u", accepted, 8 + info.tx_queue_len);
	if (poll_dev(fd, POLLOUT, 0) & POLLOUT)
		fail("POLLOUT with a full transmit queue");
	t0 = now_ms();
	if (!(poll_dev(fd, POLLPRI, 5000) & POLLPRI))
		fail("no POLLPRI within 5 s of a stalled remote");
	info = dev_info(fd);
	if (info.link != RPMSG_ETH_LINK_STALLED || info.stall_ms != 300)
		fail("POLLPRI but INFO says link %u, stall_ms %u", info.link, info.stall_ms);
	/* the module was loaded for this scenario: the first stall */
	if (eth_counter(0, "tx_stalls") != 1)
		fail("tx_stalls %ld, want 1", eth_counter(0, "tx_stalls"));
	if (poll_dev(fd, POLLPRI, 0) & POLLPRI)
		fail("POLLPRI still set after INFO");
	say("%s transport: %ld frames accepted, then EAGAIN; stalled after %ld ms (POLLPRI, INFO, tx_stalls)",
	    emu_transport, accepted, now_ms() - t0);
	set_stall(0);
	if (!(poll_dev(fd, POLLOUT, 5000) & POLLOUT))
		fail("no POLLOUT within 5 s after the remote resumed");
	if (!(poll_dev(fd, POLLPRI, 5000) & POLLPRI))
		fail("no POLLPRI when the remote resumed");
	info = dev_info(fd);
	if (info.link != RPMSG_ETH_LINK_UP)
		fail("the remote resumed but INFO says link %u", info.link);
	wait_vx_rx(0, rx0 + accepted, 5000);
	say("remote resumed: POLLOUT, POLLPRI, link up, all %ld frames arrived", accepted);
	close(fd);
}

static int batch_call(int fd, unsigned long cmd, struct rpmsg_eth_frame *fr, unsigned int n)
{
	struct rpmsg_eth_batch b = { .frames = (uintptr_t)fr, .count = n };

	return ioctl(fd, cmd, &b);
}

/*
 * Batch writes and reads: full, partial (queue full), a bad entry
 * mid-batch, a short buffer, and a frame array whose length fields cannot
 * be written (the frame must stay queued, not vanish).
 */
static void scenario_batch(void)
{
	static unsigned char bufs[8][512];
	struct rpmsg_eth_frame *fr;
	long rx0, got;
	int fd, ret, i;
	size_t page = sysconf(_SC_PAGESIZE);

	load_eth("tx_queue_len=4");
	load_emu("num_bufs=16");
	wait_devices(EMU_NR, 5000);
	vx_up(0);
	fd = open_dev(0, O_NONBLOCK);
	fr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fr == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	for (i = 0; i < 8; i++) {
		make_frame(bufs[i], FRAME_LEN, i);
		fr[i].data = (uintptr_t)bufs[i];
		fr[i].len = FRAME_LEN;
		fr[i].flags = 0;
	}
	/* write: 5 frames at once */
	rx0 = vx_stat(0, "rx_packets");
	ret = batch_call(fd, RPMSG_ETH_IOC_WRITE_BATCH, fr, 5);
	if (ret != 5)
		fail("WRITE_BATCH of 5: %d (%s)", ret, strerror(errno));
	wait_vx_rx(0, rx0 + 5, 3000);
	/* a bad entry mid-batch: the first two go, the third fails next call */
	fr[2].flags = 1;
	ret = batch_call(fd, RPMSG_ETH_IOC_WRITE_BATCH, fr, 5);
	if (ret != 2)
		fail("WRITE_BATCH with a bad 3rd entry: %d, want 2", ret);
	ret = batch_call(fd, RPMSG_ETH_IOC_WRITE_BATCH, fr + 2, 3);
	if (ret != -1 || errno != EINVAL)
		fail("WRITE_BATCH starting at the bad entry: %d (%s), want EINVAL", ret, strerror(errno));
	fr[2].flags = 0;
	wait_vx_rx(0, rx0 + 7, 3000);
	/* partial: a stalled remote takes 8 into the ring, 4 queue, then full */
	set_stall(1);
	ret = batch_call(fd, RPMSG_ETH_IOC_WRITE_BATCH, fr, 8);
	if (ret != 8)
		fail("WRITE_BATCH of 8 into an empty ring: %d", ret);
	ret = batch_call(fd, RPMSG_ETH_IOC_WRITE_BATCH, fr, 8);
	if (ret != 4)
		fail("WRITE_BATCH of 8 with room for 4: %d, want 4 (partial)", ret);
	ret = batch_call(fd, RPMSG_ETH_IOC_WRITE_BATCH, fr, 8);
	if (ret != -1 || errno != EAGAIN)
		fail("WRITE_BATCH into a full queue: %d (%s), want EAGAIN", ret, strerror(errno));
	set_stall(0);
	wait_vx_rx(0, rx0 + 19, 3000);
	say("WRITE_BATCH: 5 of 5; 2 then EINVAL at a bad entry; 8, 4 of 8 (partial), EAGAIN");

	/* read: 5 frames from vx0, a batch of 8 takes them all */
	run_tool("flooding vx0", "frame-xfer", "--iface", "vx0", "--flood", "5", NULL, NULL);
	while (eth_counter(0, "rx_packets") < 5)
		sleep_ms(20);
	for (i = 0; i < 8; i++)
		fr[i].len = sizeof(bufs[i]);
	ret = batch_call(fd, RPMSG_ETH_IOC_READ_BATCH, fr, 8);
	if (ret != 5)
		fail("READ_BATCH of 8 with 5 queued: %d (%s)", ret, strerror(errno));
	for (i = 0; i < 5; i++)
		if (fr[i].len != FRAME_LEN)
			fail("READ_BATCH entry %d: len %u, want %d", i, fr[i].len, FRAME_LEN);
	/* a short buffer mid-batch: 1 frame, then EMSGSIZE with the length */
	run_tool("flooding vx0", "frame-xfer", "--iface", "vx0", "--flood", "3", NULL, NULL);
	while (eth_counter(0, "rx_packets") < 8)
		sleep_ms(20);
	fr[0].len = sizeof(bufs[0]);
	fr[1].len = 10;
	ret = batch_call(fd, RPMSG_ETH_IOC_READ_BATCH, fr, 3);
	if (ret != 1 || fr[1].len != FRAME_LEN)
		fail("READ_BATCH with a short 2nd buffer: %d, len %u; want 1 and the length %d",
		     ret, fr[1].len, FRAME_LEN);
	fr[1].len = 10;
	ret = batch_call(fd, RPMSG_ETH_IOC_READ_BATCH, fr + 1, 2);
	if (ret != -1 || errno != EMSGSIZE || fr[1].len != FRAME_LEN)
		fail("READ_BATCH at the short buffer: %d (%s) len %u, want EMSGSIZE and %d",
		     ret, strerror(errno), fr[1].len, FRAME_LEN);
	fr[1].len = sizeof(bufs[1]);
	got = 0;
	while ((ret = batch_call(fd, RPMSG_ETH_IOC_READ_BATCH, fr + 1, 2)) > 0)
		got += ret;
	if (got != 2)
		fail("after EMSGSIZE %ld frames were left to read, want 2", got);
	say("READ_BATCH: 5 of 8; 1 then EMSGSIZE (len %d), the frame stays queued", FRAME_LEN);
	close(fd);
	munmap(fr, page);
}

/*
 * READ_BATCH into a frame array whose length fields cannot be written: the
 * call fails with EFAULT and the frame stays queued (not lost uncounted).
 */
static void scenario_batch_fault(void)
{
	static unsigned char buf[2][512];
	struct rpmsg_eth_frame *fr;
	size_t page = sysconf(_SC_PAGESIZE);
	long got = 0, flushed0;
	int fd, ret;

	load_eth(NULL);
	load_emu(NULL);
	wait_devices(EMU_NR, 5000);
	vx_up(0);
	fd = open_dev(0, O_NONBLOCK);
	fr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fr == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	run_tool("flooding vx0", "frame-xfer", "--iface", "vx0", "--flood", "2", NULL, NULL);
	while (eth_counter(0, "rx_packets") < 2)
		sleep_ms(20);
	fr[0] = (struct rpmsg_eth_frame){ .data = (uintptr_t)buf[0], .len = sizeof(buf[0]) };
	fr[1] = (struct rpmsg_eth_frame){ .data = (uintptr_t)buf[1], .len = sizeof(buf[1]) };
	if (mprotect(fr, page, PROT_READ))
		fail("mprotect: %s", strerror(errno));
	ret = batch_call(fd, RPMSG_ETH_IOC_READ_BATCH, fr, 1);
	if (ret != -1 || errno != EFAULT)
		fail("READ_BATCH into read-only lengths: %d (%s), want EFAULT", ret, strerror(errno));
	if (mprotect(fr, page, PROT_READ | PROT_WRITE))
		fail("mprotect: %s", strerror(errno));
	while ((ret = batch_call(fd, RPMSG_ETH_IOC_READ_BATCH, fr, 2)) > 0)
		got += ret;
	flushed0 = eth_counter(0, "rx_drop_flushed");
	if (got != 2)
		fail("after EFAULT %ld frame(s) were left to read, want 2 (%s)", got,
		     "the frame whose length could not be stored was lost, uncounted");
	close(fd);
	if (eth_counter(0, "rx_drop_flushed") != flushed0)
		fail("frames flushed at close: all were read");
	say("READ_BATCH into read-only lengths: EFAULT, and both frames are read afterwards");
	munmap(fr, page);
}

/*
 * A new device for a channel that is still bound (a remote restarting
 * faster than the old device goes): bound as soon as the old one is gone.
 * Two emulated virtio devices announce the same channel; the one bound
 * goes away when virtio_rpmsg_bus lets go of its virtio device.
 */
static void scenario_late_device(void)
{
	char link[512], old[256], vdev[64], p[256];
	ssize_t n;

	load_eth(NULL);
	snprintf(p, sizeof(p), "channels=nokia-fsproxy-channel:0x10,nokia-fsproxy-channel:0x10 transport=virtio");
	insmod(emu_ko, p);
	wait_devices(1, 5000);
	n = readlink("/sys/class/rpmsg-eth/rpmsg-eth0/device", link, sizeof(link) - 1);
	if (n < 0)
		fail("readlink rpmsg-eth0/device: %s", strerror(errno));
	link[n] = '\0';
	snprintf(old, sizeof(old), "%s", strrchr(link, '/') + 1);
	snprintf(vdev, sizeof(vdev), "%.*s", (int)strcspn(old, "."), old);
	say("rpmsg-eth0 is bound to %s; the other device waits", old);
	if (write_text("/sys/bus/virtio/drivers/virtio_rpmsg_bus/unbind", vdev))
		fail("unbinding %s from virtio_rpmsg_bus: %s", vdev, strerror(errno));
	wait_devices(1, 5000);
	n = readlink("/sys/class/rpmsg-eth/rpmsg-eth0/device", link, sizeof(link) - 1);
	if (n < 0)
		fail("no rpmsg-eth0 after %s went: the waiting device was not bound", old);
	link[n] = '\0';
	if (!strcmp(strrchr(link, '/') + 1, old))
		fail("rpmsg-eth0 is still %s", old);
	say("%s gone, the waiting device %s is bound now", old, strrchr(link, '/') + 1);
}

/* Ring-full throughput: frames/s through 8 ring buffers. */
static void ring_full_rate(void)
{
	static char out[4096];
	long t0, ms, rx0, n = 20000;
	char count[16];

	load_eth(NULL);
	load_emu("num_bufs=16");
	wait_devices(EMU_NR, 5000);
	vx_up(0);
	rx0 = vx_stat(0, "rx_packets");
	snprintf(count, sizeof(count), "%ld", n);
	t0 = now_ms();
	run_tool("writing through a small ring", "frame-xfer", "--iface", "vx0", "--dev",
		 "/dev/rpmsg-eth0", "--flood", count);
	wait_vx_rx(0, rx0 + n, 60000);
	ms = now_ms() - t0;
	snprintf(out, sizeof(out), "%s transport: %ld frames of 100 bytes through 8 ring buffers in %ld ms: %ld frames/s, ring full %ld times",
		 emu_transport, n, ms, ms ? n * 1000 / ms : 0, eth_counter(0, "tx_ring_full"));
	say("%s", out);
}

/* A full kmemleak scan; any suspected leak fails. */
static void scenario_kmemleak(void)
{
	static char buf[65536];
	const char *km = "/sys/kernel/debug/kmemleak";
	int i;

	if (!exists(km))
		fail("%s is missing: kmemleak is not active", km);
	/* objects must be older than 5 s to be reported; scan twice */
	for (i = 0; i < 2; i++) {
		if (write_text(km, "scan"))
			fail("kmemleak scan: %s (kmemleak disabled itself?)", strerror(errno));
		if (!i)
			sleep_ms(6000);
	}
	if (read_text(km, buf, sizeof(buf)))
		fail("reading %s: %s", km, strerror(errno));
	if (buf[0])
		fail("kmemleak reports leaks:\n%s", buf);
	say("kmemleak: full scan, no leaks");
}

/* The checkers are on: a run where one turned itself off proves nothing. */
static void scenario_debug_active(void)
{
	static char buf[65536], log[LOG_SIZE];
	char *p;
	int len;

	if (read_text("/proc/lockdep_stats", buf, sizeof(buf)))
		fail("no /proc/lockdep_stats: lockdep is not built in");
	p = strstr(buf, "debug_locks:");
	if (!p || strtol(p + strlen("debug_locks:"), NULL, 10) != 1)
		fail("lockdep turned itself off (%.60s)", p ? p : "no debug_locks line");
	say("lockdep active (debug_locks 1)");
	if (want_kasan) {
		len = klogctl(3, log, sizeof(log) - 1);
		log[len > 0 ? len : 0] = '\0';
		/* x86: "KernelAddressSanitizer initialized", powerpc: "KASAN init done" */
		p = strstr(log, "KernelAddressSanitizer initialized");
		if (!p)
			p = strstr(log, "KASAN init done");
		if (!p)
			fail("the kernel has KASAN but did not log its initialization");
		say("KASAN active (\"%.*s\")", (int)strcspn(p, "\n"), p);
	}
}

#include "netdev-scenarios.c"

struct scenario {
	const char *name;
	void (*fn)(void);
	const char *transport;	/* the emulator's */
};

static const struct scenario scenarios[] = {
	{ "dt_table", scenario_dt_table, "virtio" },
	{ "datapath_virtio", datapath, "virtio" },
	/* the emulator delivers from hard-IRQ context */
	{ "datapath_irq", datapath, "irq" },
	{ "remote_gone_virtio", remote_gone, "virtio" },
	{ "remote_gone_irq", remote_gone, "irq" },
	{ "unbind_under_traffic", scenario_unbind_under_traffic, "virtio" },
	/* virtio: the link retries a full ring with backoff (no poll there) */
	{ "nonblock_stall_virtio", nonblock_stall, "virtio" },
	/* irq: the link waits on the bus's poll */
	{ "nonblock_stall_irq", nonblock_stall, "irq" },
	{ "batch", scenario_batch, "virtio" },
	{ "batch_fault", scenario_batch_fault, "virtio" },
	{ "late_device", scenario_late_device, "virtio" },
	{ "ring_full_rate_virtio", ring_full_rate, "virtio" },
	{ "ring_full_rate_irq", ring_full_rate, "irq" },
	/* netdev mode: the module's own interfaces rpmsg<N> */
	{ "netdev_ifaces", scenario_netdev_ifaces, "virtio" },
	{ "netdev_ping_irq", scenario_netdev_ping, "irq" },
	{ "netdev_unbind_rmmod", scenario_netdev_unbind_rmmod, "virtio" },
	{ "netdev_frag", scenario_netdev_frag, "virtio" },
	{ "kmemleak", scenario_kmemleak, "virtio" },
	{ "debug_active", scenario_debug_active, "virtio" },
};

static const char * const bad_kernel[] = {
	"BUG:", "WARNING:", "Oops", "general protection", "Kernel panic",
	"suspected memory leak", "kmemleak: Kernel memory leak detector disabled",
	"INFO: task", "Unable to handle kernel",
};

/* Kernel log lines since "kmod-test: start NAME" that fail the scenario. */
static int kernel_trouble(const char *name)
{
	static char log[LOG_SIZE];
	char mark[128], *start, *line, *save;
	unsigned int i;
	int len, bad = 0;

	len = klogctl(3, log, sizeof(log) - 1);
	if (len < 0)
		return 0;
	log[len] = '\0';
	snprintf(mark, sizeof(mark), "kmod-test: start %s\n", name);
	start = strstr(log, mark);
	if (!start)
		return 0;
	for (line = strtok_r(start, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (i = 0; i < sizeof(bad_kernel) / sizeof(bad_kernel[0]); i++)
			if (strstr(line, bad_kernel[i])) {
				if (!bad++)
					say("kernel log during %s:", name);
				printf("    %s\n", line);
				break;
			}
	fflush(stdout);
	return bad;
}

static void cleanup(void)
{
	long end = now_ms() + 10000;

	write_text("/sys/module/" EMU "/parameters/stall", "0");
	while (module_loaded("rpmsg_eth") && rmmod("rpmsg_eth") && now_ms() < end)
		sleep_ms(100);
	while (module_loaded(EMU) && rmmod(EMU) && now_ms() < end)
		sleep_ms(100);
}

static int run_scenario(const struct scenario *s)
{
	long t0 = now_ms();
	const char *status;
	char mark[128];
	pid_t pid;
	int rc;

	/* under guest/run.sh, which reports each scenario itself */
	if (init_mode)
		say("=== %s: start", s->name);
	snprintf(mark, sizeof(mark), "kmod-test: start %s\n", s->name);
	write_text("/dev/kmsg", mark);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		setpgid(0, 0);
		emu_transport = s->transport;
		s->fn();
		exit(0);
	}
	rc = wait_exit(pid);
	kill(-pid, SIGKILL);	/* helpers it left behind */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	cleanup();
	if (kernel_trouble(s->name))
		rc = 1;
	status = rc == 0 ? "PASS" : rc == 77 ? "SKIP" : "FAIL";
	say("%s %s %s (%ld s)", init_mode ? "RESULT" : "--", s->name, status,
	    (now_ms() - t0) / 1000);
	return rc != 0 && rc != 77;
}

/* ---- PID 1 of the ppc guest ---- */

static void init_guest(void)
{
	static char conf[4096];
	struct utsname u;
	char *line, *save;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	uname(&u);
	say("guest up: %s %s %s, uname -m: %s", u.sysname, u.release, u.version, u.machine);
	if (read_text("/kmod-test.conf", conf, sizeof(conf)))
		fail("no /kmod-test.conf");
	for (line = strtok_r(conf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "rpmsg_eth"))
			eth_ko = strdup(v);
		else if (!strcmp(line, "emu"))
			emu_ko = strdup(v);
		else if (!strcmp(line, "core"))
			core_dir = strdup(v);
		else if (!strcmp(line, "bin"))
			bin_dir = strdup(v);
		else if (!strcmp(line, "eth_params"))
			eth_params = strdup(v);
		else if (!strcmp(line, "expect_table"))
			expect_table = strdup(v);
		else if (!strcmp(line, "kasan"))
			want_kasan = atoi(v);
		else if (!strcmp(line, "dt_netdev"))
			sscanf(v, "%d:%d", &dt_netdev_chan, &dt_netdev_mtu);
	}
}

static void power_off(void)
{
	static char log[LOG_SIZE];
	int len;

	printf("----- kernel log -----\n");
	len = klogctl(3, log, sizeof(log) - 1);
	if (len > 0)
		fwrite(log, 1, len, stdout);
	printf("----- end of kernel log -----\n");
	fflush(stdout);
	sync();
	/* QEMU runs with -no-reboot: a reset ends it (ppce500 only halts on power-off) */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static void load_core(void)
{
	/* virtio is a module where only rpmsg selects it (the ppc kernel) */
	static const char * const mods[] = {
		"virtio_ring", "virtio", "rpmsg_core", "rpmsg_ns", "virtio_rpmsg_bus",
		"rpmsg_char", "rpmsg_ctrl",
	};
	char path[512];
	unsigned int i;

	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.ko", core_dir, mods[i]);
		if (!module_loaded(mods[i]) && (i > 1 || exists(path)))
			insmod(path, "");
	}
}

int main(int argc, char **argv)
{
	const char *want[64];
	int nwant = 0, failed = 0, i, j;
	unsigned int k;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(opt, "--init")) {
			init_mode = 1;
			continue;
		}
		if (!strcmp(opt, "--kasan")) {
			want_kasan = 1;
			continue;
		}
		if (opt[0] != '-') {
			if (nwant < 64)
				want[nwant++] = opt;
			continue;
		}
		i++;
		if (!strcmp(opt, "--rpmsg-eth"))
			eth_ko = val;
		else if (!strcmp(opt, "--emu"))
			emu_ko = val;
		else if (!strcmp(opt, "--core"))
			core_dir = val;
		else if (!strcmp(opt, "--bin"))
			bin_dir = val;
		else if (!strcmp(opt, "--eth-params"))
			eth_params = val;
		else if (!strcmp(opt, "--expect-table"))
			expect_table = val;
		else
			fail("unknown option %s", opt);
	}
	if (init_mode || getpid() == 1) {
		init_mode = 1;
		init_guest();
	}
	if (!eth_ko || !emu_ko)
		fail("usage: kmod-scenarios --rpmsg-eth KO --emu KO [--core DIR] [--bin DIR] SCENARIO...");
	if (core_dir)
		load_core();
	for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
		for (j = 0; j < nwant && strcmp(want[j], scenarios[k].name); j++)
			;
		if (nwant && j == nwant)
			continue;
		/* the rate is a measurement, not a check: only when asked for */
		if (!nwant && !strncmp(scenarios[k].name, "ring_full_rate", 14))
			continue;
		failed += run_scenario(&scenarios[k]);
	}
	if (init_mode) {
		say(failed ? "RESULT FAIL (%d scenarios)" : "RESULT PASS", failed);
		power_off();
	}
	return failed ? 1 : 0;
}
