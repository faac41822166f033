// withNetns(netns, fn): runs fn synchronously with the calling thread inside network namespace `netns`
// and returns its result. Sockets created by fn (e.g. raw-socket's ICMP socket) belong to that
// namespace; the thread is back in its own namespace when withNetns returns or throws.
#include <napi.h>

#include <string>

#include "exports.h"
#include "netns_guard.h"

namespace rpmsg_eth {

static Napi::Value WithNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string netns = StringArg(info, 0, "withNetns");
  if (info.Length() < 2 || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "withNetns: argument 2 must be a function");
  Napi::Function fn = info[1].As<Napi::Function>();
  // A JS exception in fn surfaces here as a C++ Napi::Error: the guard's destructor returns the thread
  // before it propagates back to JS.
  NetnsGuard guard(env, netns, "entering netns " + netns);
  return fn.Call({});
}

void InitNetnsCall(Napi::Env env, Napi::Object exports) {
  exports.Set("withNetns", Napi::Function::New(env, WithNetns, "withNetns"));
}

}  // namespace rpmsg_eth
