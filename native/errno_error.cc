#include "errno_error.h"

#include <string.h>

namespace rpmsg_eth {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? std::string(name) : "E" + std::to_string(err);
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what,
                const std::string& hint) {
  std::string code = ErrnoName(err);
  Napi::Error error =
      Napi::Error::New(env, what + ": " + syscall + ": " + strerror(err) + " (" + code + ")" +
                          (hint.empty() ? "" : "; " + hint));
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

}  // namespace rpmsg_eth
