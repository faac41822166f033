// Runs a scope of code with the calling thread inside another network namespace.
// Sockets and TAP devices belong to the namespace that was current when they were created, so
// creating them inside the guard's scope puts them in `netns`; the thread returns on destruction.
#pragma once

#include <napi.h>
#include <string>

namespace rpmsg_eth {

class NetnsGuard {
 public:
  // `netns`: "" (stay), a name under /run/netns, or a path (contains '/'). Throws on failure;
  // `what` names the operation for the error message.
  NetnsGuard(Napi::Env env, const std::string& netns, const std::string& what);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

  // "" or " in netns NAME", for error messages.
  static std::string Describe(const std::string& netns);

 private:
  int original_ = -1;
};

}  // namespace rpmsg_eth
