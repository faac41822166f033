// LD_PRELOAD shim: answers rpmsg-eth's INFO and batch ioctls (kmod/rpmsg_eth_api.h) on AF_UNIX
// SOCK_SEQPACKET fds with the semantics the header documents, so that the native binding's
// batch-ioctl path runs against a socket pair standing in for /dev/rpmsg-ethN. Every other ioctl
// goes to libc. Environment: RPMSG_SHIM_MAX_PAYLOAD (default 496); RPMSG_SHIM_TRACE names a file
// that gets one line per batch ioctl: "R|W <count asked> <result>"; RPMSG_SHIM_REFUSE_INFO makes INFO
// fail as on a device that is not ours.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "rpmsg_eth_api.h"

static unsigned max_payload(void) {
  const char* v = getenv("RPMSG_SHIM_MAX_PAYLOAD");
  return v ? (unsigned)atoi(v) : 496;
}

static void trace(char what, unsigned count, int rc) {
  const char* path = getenv("RPMSG_SHIM_TRACE");
  if (!path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  fprintf(f, "%c %u %d\n", what, count, rc);
  fclose(f);
}

static int is_seqpacket(int fd) {
  int type;
  socklen_t len = sizeof type;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

// A batch stops at the first frame that cannot move; an error on frame 0 is the call's error.
static int finish(unsigned done, int err) {
  if (done) return (int)done;
  errno = err;
  return -1;
}

static int read_batch(int fd, struct rpmsg_eth_batch* b) {
  struct rpmsg_eth_frame* f = (struct rpmsg_eth_frame*)(uintptr_t)b->frames;
  unsigned done = 0;
  int err = 0;
  for (; done < b->count; done++) {
    ssize_t len = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (len == 0) err = EPIPE;  // the peer closed: the channel went away
    if (len <= 0) {
      if (len < 0) err = errno;
      break;
    }
    if ((size_t)len > f[done].len) {  // the frame stays queued
      f[done].len = (__u32)len;
      err = EMSGSIZE;
      break;
    }
    f[done].len = (__u32)recv(fd, (void*)(uintptr_t)f[done].data, f[done].len, MSG_DONTWAIT);
  }
  return finish(done, err);
}

static int write_batch(int fd, struct rpmsg_eth_batch* b) {
  struct rpmsg_eth_frame* f = (struct rpmsg_eth_frame*)(uintptr_t)b->frames;
  unsigned done = 0;
  int err = 0;
  for (; done < b->count; done++) {
    if (f[done].len > max_payload()) {
      err = EMSGSIZE;
      break;
    }
    if (send(fd, (void*)(uintptr_t)f[done].data, f[done].len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      err = errno == ECONNRESET || errno == ENOTCONN ? EPIPE : errno;
      break;
    }
  }
  return finish(done, err);
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (is_seqpacket(fd)) {
    int rc;
    switch (request) {
      case RPMSG_ETH_IOC_INFO: {
        struct rpmsg_eth_info* info = arg;
        if (getenv("RPMSG_SHIM_REFUSE_INFO")) {
          errno = ENOTTY;
          return -1;
        }
        memset(info, 0, sizeof *info);
        info->api_version = RPMSG_ETH_API_VERSION;
        info->max_payload = max_payload();
        strcpy(info->name, "shim");
        return 0;
      }
      case RPMSG_ETH_IOC_READ_BATCH:
        rc = read_batch(fd, arg);
        trace('R', ((struct rpmsg_eth_batch*)arg)->count, rc);
        return rc;
      case RPMSG_ETH_IOC_WRITE_BATCH: {
        struct rpmsg_eth_batch* b = arg;
        if (b->count > RPMSG_ETH_BATCH_MAX) {
          errno = EINVAL;
          return -1;
        }
        rc = write_batch(fd, b);
        trace('W', b->count, rc);
        return rc;
      }
      default:
        break;
    }
  }
  static int (*real)(int, unsigned long, ...);
  if (!real) real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
  return real(fd, request, arg);
}
