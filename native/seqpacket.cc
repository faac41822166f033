// AF_UNIX SOCK_SEQPACKET sockets (the sim link): pairs, and a listen/connect rendezvous.
// Every fd is non-blocking and close-on-exec. A path starting with '@' names an abstract socket
// (scoped to the network namespace, no file to clean up).
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "errno_error.h"
#include "exports.h"
#include "unique_fd.h"

namespace rpmsg_eth {

static constexpr int kSocketFlags = SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC;

static socklen_t UnixAddress(Napi::Env env, const std::string& path, const char* what,
                             struct sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path) || path.find('\0') != std::string::npos)
    throw Napi::TypeError::New(env, std::string(what) + ": socket path must be 1-" +
                                        std::to_string(sizeof(addr->sun_path) - 1) +
                                        " characters: '" + path + "'");
  memcpy(addr->sun_path, path.data(), path.size());
  if (path[0] == '@') addr->sun_path[0] = '\0';
  return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() +
                                (path[0] == '@' ? 0 : 1));
}

static Napi::Value SeqpacketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, kSocketFlags, 0, fds) < 0)
    ThrowErrno(env, errno, "socketpair(AF_UNIX, SOCK_SEQPACKET)", "creating a seqpacket pair");
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::Number::New(env, fds[0]));
  pair.Set(1u, Napi::Number::New(env, fds[1]));
  return pair;
}

static Napi::Value SeqpacketListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "seqpacketListen");
  std::string what = "listening on " + path;
  struct sockaddr_un addr;
  socklen_t len = UnixAddress(env, path, "seqpacketListen", &addr);
  UniqueFd fd(socket(AF_UNIX, kSocketFlags, 0));
  if (fd.get() < 0) ThrowErrno(env, errno, "socket(AF_UNIX, SOCK_SEQPACKET)", what);
  if (bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), len) < 0)
    ThrowErrno(env, errno, "bind", what);
  if (listen(fd.get(), 64) < 0) ThrowErrno(env, errno, "listen", what);
  return Napi::Number::New(env, fd.release());
}

// seqpacketAccept(fd) -> new fd, or null when no connection is waiting.
static Napi::Value SeqpacketAccept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "seqpacketAccept");
  for (;;) {
    int conn = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) return Napi::Number::New(env, conn);
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, errno, "accept4", "accepting on fd " + std::to_string(fd));
  }
}

// seqpacketConnect(path) -> fd. AF_UNIX connects complete at once (or fail with EAGAIN when the
// listener's backlog is full).
static Napi::Value SeqpacketConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "seqpacketConnect");
  std::string what = "connecting to " + path;
  struct sockaddr_un addr;
  socklen_t len = UnixAddress(env, path, "seqpacketConnect", &addr);
  UniqueFd fd(socket(AF_UNIX, kSocketFlags, 0));
  if (fd.get() < 0) ThrowErrno(env, errno, "socket(AF_UNIX, SOCK_SEQPACKET)", what);
  int rc;
  do rc = connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, errno, "connect", what);
  return Napi::Number::New(env, fd.release());
}

void InitSeqpacket(Napi::Env env, Napi::Object exports) {
  exports.Set("seqpacketPair", Napi::Function::New(env, SeqpacketPair, "seqpacketPair"));
  exports.Set("seqpacketListen", Napi::Function::New(env, SeqpacketListen, "seqpacketListen"));
  exports.Set("seqpacketAccept", Napi::Function::New(env, SeqpacketAccept, "seqpacketAccept"));
  exports.Set("seqpacketConnect", Napi::Function::New(env, SeqpacketConnect, "seqpacketConnect"));
}

}  // namespace rpmsg_eth
