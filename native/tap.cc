// TAP interfaces: creation (optionally inside a network namespace), link settings, carrier.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "errno_error.h"
#include "exports.h"
#include "netns_guard.h"
#include "unique_fd.h"

namespace rpmsg_eth {

static std::string InterfaceName(const Napi::CallbackInfo& info, const char* what) {
  std::string name = StringArg(info, 0, what);
  if (name.empty() || name.size() >= IFNAMSIZ || name.find_first_of("/ :%") != std::string::npos)
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": invalid interface name '" + name +
                                               "' (1-15 characters, no '/', ' ', ':' or '%')");
  return name;
}

static std::string OptionalNetns(const Napi::Value& value, Napi::Env env, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return "";
  if (!value.IsString() || value.As<Napi::String>().Utf8Value().empty())
    throw Napi::TypeError::New(env, std::string(what) + ": netns must be a non-empty string");
  return value.As<Napi::String>().Utf8Value();
}

// tapCreate(name, netns?) -> fd (non-blocking, close-on-exec). The TAP disappears when the fd closes.
static Napi::Value TapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = InterfaceName(info, "tapCreate");
  std::string netns = OptionalNetns(info[1], env, "tapCreate");
  std::string what = "creating TAP " + name + NetnsGuard::Describe(netns);

  NetnsGuard inside(env, netns, what);
  // The TAP joins the namespace of the thread that opens /dev/net/tun, so open it inside.
  UniqueFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) ThrowErrno(env, errno, "open(/dev/net/tun)", what);
  struct ifreq ifr = {};
  memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ThrowErrno(env, err, "ioctl(TUNSETIFF)", what,
               err == EBUSY ? "the name is taken by another device or another open TAP" : "");
  }
  return Napi::Number::New(env, fd.release());
}

static bool ParseMac(const std::string& text, unsigned char mac[6]) {
  unsigned int b[6];
  char tail;
  if (text.size() != 17 ||
      sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
             &tail) != 6)
    return false;
  for (int i = 0; i < 6; i++) mac[i] = static_cast<unsigned char>(b[i]);
  return true;
}

// linkSet(name, { netns?, mtu?, mac?, up? }): applied in that order (the MAC before bringing it up).
static Napi::Value LinkSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = InterfaceName(info, "linkSet");
  if (info.Length() < 2 || !info[1].IsObject())
    throw Napi::TypeError::New(env, "linkSet: options must be an object");
  Napi::Object opts = info[1].As<Napi::Object>();
  std::string netns = OptionalNetns(opts.Get("netns"), env, "linkSet");
  Napi::Value mtu = opts.Get("mtu"), mac = opts.Get("mac"), up = opts.Get("up");
  std::string what = "configuring " + name + NetnsGuard::Describe(netns);

  unsigned char hwaddr[6];
  if (!mtu.IsUndefined() && (!mtu.IsNumber() || mtu.As<Napi::Number>().Int32Value() < 68 ||
                             mtu.As<Napi::Number>().DoubleValue() != mtu.As<Napi::Number>().Int32Value()))
    throw Napi::TypeError::New(env, what + ": mtu must be an integer >= 68");
  if (!mac.IsUndefined() && (!mac.IsString() || !ParseMac(mac.As<Napi::String>(), hwaddr)))
    throw Napi::TypeError::New(env, what + ": mac must look like 02:00:00:00:00:01");
  if (!up.IsUndefined() && !up.IsBoolean())
    throw Napi::TypeError::New(env, what + ": up must be a boolean");

  UniqueFd sock;
  {
    NetnsGuard inside(env, netns, what);
    // Interface ioctls act on the namespace the socket was created in.
    sock.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0) ThrowErrno(env, errno, "socket(AF_INET)", what);
  }
  struct ifreq ifr = {};
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (!mtu.IsUndefined()) {
    ifr.ifr_mtu = mtu.As<Napi::Number>().Int32Value();
    if (ioctl(sock.get(), SIOCSIFMTU, &ifr) < 0)
      ThrowErrno(env, errno, "ioctl(SIOCSIFMTU)", what + " (mtu " + std::to_string(ifr.ifr_mtu) + ")");
  }
  if (!mac.IsUndefined()) {
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, hwaddr, 6);
    if (ioctl(sock.get(), SIOCSIFHWADDR, &ifr) < 0)
      ThrowErrno(env, errno, "ioctl(SIOCSIFHWADDR)",
                 what + " (mac " + mac.As<Napi::String>().Utf8Value() + ")");
  }
  if (!up.IsUndefined()) {
    if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) ThrowErrno(env, errno, "ioctl(SIOCGIFFLAGS)", what);
    if (up.As<Napi::Boolean>().Value())
      ifr.ifr_flags |= IFF_UP;
    else
      ifr.ifr_flags &= ~IFF_UP;
    if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) ThrowErrno(env, errno, "ioctl(SIOCSIFFLAGS)", what);
  }
  return env.Undefined();
}

// tapSetCarrier(fd, on): the interface shows NO-CARRIER while off (mirrors the endpoint's presence).
static Napi::Value TapSetCarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "tapSetCarrier");
  if (info.Length() < 2 || !info[1].IsBoolean())
    throw Napi::TypeError::New(env, "tapSetCarrier: on must be a boolean");
  int on = info[1].As<Napi::Boolean>().Value() ? 1 : 0;
  if (ioctl(fd, TUNSETCARRIER, &on) < 0)
    ThrowErrno(env, errno, "ioctl(TUNSETCARRIER)", "setting carrier on TAP fd " + std::to_string(fd));
  return env.Undefined();
}

void InitTap(Napi::Env env, Napi::Object exports) {
  exports.Set("tapCreate", Napi::Function::New(env, TapCreate, "tapCreate"));
  exports.Set("linkSet", Napi::Function::New(env, LinkSet, "linkSet"));
  exports.Set("tapSetCarrier", Napi::Function::New(env, TapSetCarrier, "tapSetCarrier"));
}

}  // namespace rpmsg_eth
