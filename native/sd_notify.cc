// systemd's readiness protocol (sd_notify(3)): one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket
// systemd names in $NOTIFY_SOCKET. Sent from the daemon's own process, so the unit can say
// NotifyAccess=main; no libsystemd needed, the protocol is a stable interface.
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "errno_error.h"
#include "exports.h"
#include "unique_fd.h"

namespace rpmsg_eth {

// sdNotify(socketPath, state): "/path" or "@abstract". Throws on a bad address or a failed send.
static Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "sdNotify");
  std::string state = StringArg(info, 1, "sdNotify");
  std::string what = "notifying systemd on " + path;

  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@') || path.size() > sizeof(addr.sun_path) - 1)
    throw Napi::Error::New(env, what + ": NOTIFY_SOCKET must be an absolute path or @abstract name of at most " +
                                    std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counted
  socklen_t addrlen = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() +
                                             (path[0] == '/' ? 1 : 0));

  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) ThrowErrno(env, errno, "socket(AF_UNIX, SOCK_DGRAM)", what);
  ssize_t n;
  do n = sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), addrlen);
  while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, errno, "sendto", what);
  return env.Undefined();
}

void InitSdNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
}

}  // namespace rpmsg_eth
