// AF_UNIX SOCK_SEQPACKET socket pairs: the sim ring's data and doorbell sockets. Both fds are
// non-blocking and close-on-exec.
#include <errno.h>
#include <sys/socket.h>

#include "errno_error.h"
#include "exports.h"
#include "unique_fd.h"

namespace rpmsg_eth {

static constexpr int kSocketFlags = SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC;

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

void InitSeqpacket(Napi::Env env, Napi::Object exports) {
  exports.Set("seqpacketPair", Napi::Function::New(env, SeqpacketPair, "seqpacketPair"));
}

}  // namespace rpmsg_eth
