// JS errors built from errno: `Error` with code ('EPERM'), errno (negative, as Node does) and syscall,
// and a message that says what was being done to which object.
#pragma once

#include <napi.h>
#include <string>

namespace rpmsg_eth {

// Throws (as a C++ Napi::Error) "<what>: <syscall>: <strerror> (<CODE>)[; <hint>]".
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what,
                             const std::string& hint = "");

// The symbolic name of an errno value ("EAGAIN"), or "E<number>" if unknown.
std::string ErrnoName(int err);

}  // namespace rpmsg_eth
