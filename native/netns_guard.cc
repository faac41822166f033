#include "netns_guard.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errno_error.h"

namespace rpmsg_eth {

std::string NetnsGuard::Describe(const std::string& netns) {
  return netns.empty() ? "" : " in netns " + netns;
}

NetnsGuard::NetnsGuard(Napi::Env env, const std::string& netns, const std::string& what) {
  if (netns.empty()) return;
  std::string path = netns.find('/') == std::string::npos ? "/run/netns/" + netns : netns;
  // thread-self: setns() moves only this thread, so remember this thread's namespace.
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) ThrowErrno(env, errno, "open(/proc/thread-self/ns/net)", what);
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(original);
    ThrowErrno(env, err, ("open(" + path + ")").c_str(), what);
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    close(target);
    close(original);
    ThrowErrno(env, err, ("setns(" + path + ")").c_str(), what);
  }
  close(target);
  original_ = original;
}

NetnsGuard::~NetnsGuard() {
  if (original_ < 0) return;
  if (setns(original_, CLONE_NEWNET) < 0) {
    // Carrying on would create every later socket and TAP in the wrong namespace.
    fprintf(stderr, "rpmsg-eth native: cannot return to the original network namespace: %s\n",
            strerror(errno));
    abort();
  }
  close(original_);
}

}  // namespace rpmsg_eth
