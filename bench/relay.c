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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
  struct sigaction sa;
  sigset_t stop_signals, run_mask;
  int tap_a, tap_b, pair[2], mtu;
  pid_t child;

  if (argc != 6) {
    fprintf(stderr, "usage: relay TAP_A NETNS_A TAP_B NETNS_B MTU   (NETNS \"-\" = current)\n");
    return 2;
  }
  mtu = atoi(argv[5]);
  if (mtu < 68 || mtu > 65521) {
    fprintf(stderr, "relay: MTU must be 68..65521, not %s\n", argv[5]);
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR and the loop ends */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, &run_mask);
  signal(SIGPIPE, SIG_IGN);

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
