/*
 * relay — the benchmark baseline: the plainest C bridge between two TAP interfaces over an
 * AF_UNIX SOCK_SEQPACKET pair, one frame per read()/write() syscall, two processes.
 *
 *   TAP_A (in NETNS_A) <-> process A <-> socketpair(SOCK_SEQPACKET) <-> process B <-> TAP_B (in NETNS_B)
 *
 * Build:  cc -O2 -Wall -o relay bench/relay.c
 * Usage:  relay TAP_A NETNS_A TAP_B NETNS_B MTU
 *   NETNS_*: a name under /run/netns, a path to a namespace file, or "-" for the current namespace.
 *   Creates both TAPs (IFF_TAP | IFF_NO_PI) inside their namespaces, sets MTU and brings them up,
 *   then prints "ready" on stdout. The caller assigns addresses (ip -n NS addr add ...).
 *   Runs until SIGTERM or SIGINT, then removes both TAPs (by closing them), prints per-direction
 *   counters on stderr and exits 0. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root).
 *
 * Back-pressure like the daemon's: while the socket cannot take a frame, the TAP is not read (the
 * kernel queue holds or drops); frames the TAP refuses are counted and dropped.
 *
 * Ring mode, the second baseline: the daemon's side of the simulated ring, written as plainly:
 *   relay --ring VX_PEER TAP_A NETNS_A TAP_B NETNS_B MTU MAX_PAYLOAD NUM_BUFS
 *   TAP_A (in NETNS_A) <-> this process <-> ring (sim/RING.md) <-> VX_PEER <-> TAP_B (in NETNS_B)
 * One frame per read()/send() (a batch of one ring buffer, sim_ring.h), one write() per frame of a
 * batch received; at most NUM_BUFS/2 frames in flight, kicks only when asked. What it costs next to
 * the plain relay is the ring model; what the daemon costs next to it is the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sim/sim_ring.h"

#define MAX_FRAME 65536

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void die(const char *what, const char *name) {
  fprintf(stderr, "relay: %s %s: %s\n", what, name, strerror(errno));
  exit(1);
}

/* Enters namespace `netns` for this thread; returns the fd of the namespace to come back to. */
static int enter_netns(const char *netns) {
  char path[256];
  int original, target;
  if (strcmp(netns, "-") == 0) return -1;
  snprintf(path, sizeof path, strchr(netns, '/') ? "%s" : "/run/netns/%s", netns);
  original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) die("open", "/proc/thread-self/ns/net");
  target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) die("open", path);
  if (setns(target, CLONE_NEWNET) < 0) die("setns", path);
  close(target);
  return original;
}

static void leave_netns(int original) {
  if (original < 0) return;
  if (setns(original, CLONE_NEWNET) < 0) die("setns", "back to the original namespace");
  close(original);
}

/* Creates TAP `name` in `netns` with `mtu`, up; returns its non-blocking fd. */
static int tap_create(const char *name, const char *netns, int mtu) {
  struct ifreq ifr;
  int original = enter_netns(netns);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  int sock;
  if (fd < 0) die("open /dev/net/tun for", name);
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF", name);
  sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) die("socket for", name);
  ifr.ifr_mtu = mtu;
  if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) die("SIOCSIFMTU", name);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) die("SIOCGIFFLAGS", name);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) die("SIOCSIFFLAGS", name);
  close(sock);
  leave_netns(original);
  return fd;
}

struct counters {
  unsigned long long to_sock, to_tap, tap_drops;
};

/* Moves frames between `tap` and `sock` until stopped or the other side goes away. */
static void relay(const char *side, int tap, int sock, const sigset_t *run_mask) {
  static unsigned char frame[MAX_FRAME], pending[MAX_FRAME];
  size_t pending_len = 0; /* a TAP frame the socket could not take yet */
  struct counters c = {0, 0, 0};
  struct pollfd fds[2];
  ssize_t n;

  while (!stopping) {
    fds[0].fd = tap;
    fds[0].events = pending_len ? 0 : POLLIN;
    fds[1].fd = sock;
    fds[1].events = POLLIN | (pending_len ? POLLOUT : 0);
    /* SIGTERM/SIGINT are blocked except inside ppoll: a signal cannot slip in before the wait. */
    if (ppoll(fds, 2, NULL, run_mask) < 0) {
      if (errno == EINTR) continue;
      die("ppoll on side", side);
    }
    if (fds[1].revents & (POLLHUP | POLLERR)) break; /* the other process is gone */
    if (fds[0].revents & (POLLHUP | POLLERR)) break; /* the TAP was deleted */
    if (pending_len && (fds[1].revents & POLLOUT)) {
      if (send(sock, pending, pending_len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
        pending_len = 0;
        c.to_sock++;
      } else if (errno != EAGAIN && errno != EINTR) {
        break;
      }
    }
    if (fds[0].revents & POLLIN) {
      n = read(tap, pending, sizeof pending);
      if (n > 0) {
        if (send(sock, pending, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
          c.to_sock++;
        else if (errno == EAGAIN)
          pending_len = (size_t)n;
        else if (errno != EINTR)
          break;
      }
    }
    if (fds[1].revents & POLLIN) {
      n = recv(sock, frame, sizeof frame, MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) {
        if (write(tap, frame, (size_t)n) == n)
          c.to_tap++;
        else
          c.tap_drops++;
      }
    }
  }
  fprintf(stderr, "relay %s: tap->socket %llu, socket->tap %llu, tap refused %llu\n", side, c.to_sock,
          c.to_tap, c.tap_drops);
}

/* SIGTERM/SIGINT end the relay; they are blocked except inside ppoll (run_mask). */
static void stop_on_signals(sigset_t *run_mask) {
  struct sigaction sa;
  sigset_t stop_signals;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR and the loop ends */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, run_mask);
  signal(SIGPIPE, SIG_IGN);
}

/* Ring mode: TAP <-> the simulated ring to a vx-peer child. */
static int ring_relay(char **argv, const sigset_t *run_mask) {
  static unsigned char frame[MAX_FRAME], batch[4 * (1 + SIM_RING_BATCH) + MAX_FRAME];
  const char *peer_bin = argv[2], *tap_name = argv[3], *netns_a = argv[4], *tap_b = argv[5], *netns_b = argv[6];
  int mtu = atoi(argv[7]), max_payload = atoi(argv[8]), num_bufs = atoi(argv[9]);
  uint32_t window = (uint32_t)num_bufs / 2, sent = 0;
  int tap, data[2], bell[2], ring_fd, waiting = 0;
  struct sim_ring_shared *ring;
  struct counters c = {0, 0, 0};
  pid_t child;

  if (mtu < 68 || max_payload < 64 || window < 1) {
    fprintf(stderr, "relay --ring: bad MTU, MAX_PAYLOAD or NUM_BUFS\n");
    return 2;
  }
  tap = tap_create(tap_name, netns_a, mtu);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, data) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, bell) < 0)
    die("socketpair", "SOCK_SEQPACKET");
  ring_fd = memfd_create("relay-ring", 0);
  if (ring_fd < 0 || ftruncate(ring_fd, SIM_RING_SHARED_SIZE) < 0) die("memfd", "ring");
  ring = mmap(NULL, SIM_RING_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
  if (ring == MAP_FAILED) die("mmap", "ring");
  child = fork();
  if (child < 0) die("fork", "");
  if (child == 0) {
    char mtu_s[16], payload_s[16], bufs_s[16];
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigprocmask(SIG_SETMASK, run_mask, NULL);
    if (dup2(data[1], 3) < 0 || dup2(bell[1], 4) < 0 || dup2(ring_fd, 5) < 0) die("dup2", "");
    snprintf(mtu_s, sizeof mtu_s, "%d", mtu);
    snprintf(payload_s, sizeof payload_s, "%d", max_payload);
    snprintf(bufs_s, sizeof bufs_s, "%d", num_bufs);
    execl(peer_bin, peer_bin, "--netns", netns_b, "--ifname", tap_b, "--mtu", mtu_s, "--max-payload", payload_s,
          "--num-bufs", bufs_s, (char *)NULL);
    die("exec", peer_bin);
  }
  close(data[1]);
  close(bell[1]);
  close(ring_fd);
  {
    int room = (int)(window * (uint32_t)(max_payload + 1024));
    setsockopt(data[0], SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room);
  }
  while (!stopping) {
    struct pollfd fds[3];
    uint32_t in_flight = sim_ring_in_flight(&ring->to_peer, sent, window);
    ssize_t n;

    if (in_flight >= window && !waiting) {
      if (sim_ring_arm(&ring->to_peer, sent, window) >= window) waiting = 1;
      in_flight = sim_ring_in_flight(&ring->to_peer, sent, window);
    }
    fds[0].fd = tap;
    fds[0].events = in_flight < window ? POLLIN : 0;
    fds[1].fd = data[0];
    fds[1].events = POLLIN;
    fds[2].fd = bell[0];
    fds[2].events = POLLIN;
    if (ppoll(fds, 3, NULL, run_mask) < 0) {
      if (errno == EINTR) continue;
      die("ppoll", "ring");
    }
    if ((fds[1].revents | fds[2].revents) & (POLLHUP | POLLERR)) break; /* the peer is gone */
    if (fds[0].revents & (POLLHUP | POLLERR)) break;
    if (fds[2].revents & POLLIN) {
      uint32_t v;
      while (recv(bell[0], &v, sizeof v, MSG_DONTWAIT) == sizeof v) waiting = 0;
    }
    if (fds[0].revents & POLLIN) {
      n = read(tap, frame, sizeof frame);
      if (n > 0 && n <= max_payload) {
        uint32_t table[2] = {1, (uint32_t)n};
        struct iovec iov[2] = {{table, sizeof table}, {frame, (size_t)n}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
        if (sendmsg(data[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
          sent++;
          c.to_sock++;
        } else if (errno != EAGAIN && errno != EINTR) {
          break;
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      n = recv(data[0], batch, sizeof batch, MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) {
        uint32_t count = sim_ring_batch_parse(batch, (size_t)n), k;
        const unsigned char *m = batch + 4 * (1 + count);
        if (!count) {
          fprintf(stderr, "relay ring: a %zd-byte datagram from the peer is not a batch of ring buffers\n", n);
          break;
        }
        for (k = 0; k < count; k++) {
          uint32_t len = sim_ring_u32(batch + 4 + 4 * k);
          if (write(tap, m, len) == (ssize_t)len)
            c.to_tap++;
          else
            c.tap_drops++;
          m += len;
        }
        if (sim_ring_consume(&ring->to_daemon, count)) {
          uint32_t v = htonl(ring->to_daemon.used);
          send(bell[0], &v, sizeof v, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
      }
    }
  }
  fprintf(stderr, "relay ring: tap->ring %llu, ring->tap %llu, tap refused %llu\n", c.to_sock, c.to_tap, c.tap_drops);
  kill(child, SIGTERM);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
  }
  close(tap);
  return 0;
}

int main(int argc, char **argv) {
  sigset_t run_mask;
  int tap_a, tap_b, pair[2], mtu;
  pid_t child;

  if (argc == 10 && strcmp(argv[1], "--ring") == 0) {
    stop_on_signals(&run_mask);
    return ring_relay(argv, &run_mask);
  }
  if (argc != 6) {
    fprintf(stderr, "usage: relay TAP_A NETNS_A TAP_B NETNS_B MTU   (NETNS \"-\" = current)\n"
                    "       relay --ring VX_PEER TAP_A NETNS_A TAP_B NETNS_B MTU MAX_PAYLOAD NUM_BUFS\n");
    return 2;
  }
  mtu = atoi(argv[5]);
  if (mtu < 68 || mtu > 65521) {
    fprintf(stderr, "relay: MTU must be 68..65521, not %s\n", argv[5]);
    return 2;
  }
  stop_on_signals(&run_mask);

  tap_a = tap_create(argv[1], argv[2], mtu);
  tap_b = tap_create(argv[3], argv[4], mtu);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0)
    die("socketpair", "SOCK_SEQPACKET");
  printf("ready\n");
  fflush(stdout);

  child = fork();
  if (child < 0) die("fork", "");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the parent */
    if (getppid() == 1) return 0;
    close(tap_a);
    close(pair[0]);
    relay("B", tap_b, pair[1], &run_mask);
    return 0;
  }
  close(tap_b);
  close(pair[1]);
  relay("A", tap_a, pair[0], &run_mask);
  kill(child, SIGTERM);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
  }
  close(tap_a);
  close(pair[0]);
  return 0;
}
