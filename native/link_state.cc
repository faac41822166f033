// An interface's state as the kernel reports it (what `ip link` and /sys/class/net/IF/operstate show):
// one RTM_GETLINK request on a netlink socket opened inside the interface's network namespace.
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "errno_error.h"
#include "exports.h"
#include "netns_guard.h"
#include "unique_fd.h"

namespace rpmsg_eth {

// RFC 2863 operational states, in IF_OPER_* order (the names /sys/class/net/IF/operstate uses).
static const char* const kOperStates[] = {"unknown", "notpresent", "down",  "lowerlayerdown",
                                           "testing", "dormant",    "up"};

struct LinkState {
  unsigned char operstate = IF_OPER_UNKNOWN;
  bool carrier = false;
  bool admin_up = false;
};

// Sends the request and reads the one answer. Returns 0 or an errno (ENODEV: no such interface).
static int QueryLink(int fd, const std::string& name, LinkState* out) {
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
    char attrs[RTA_SPACE(IFNAMSIZ)];
  } req = {};
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  struct rtattr* rta = reinterpret_cast<struct rtattr*>(req.attrs);
  rta->rta_type = IFLA_IFNAME;
  rta->rta_len = RTA_LENGTH(name.size() + 1);
  memcpy(RTA_DATA(rta), name.c_str(), name.size() + 1);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi)) + RTA_ALIGN(rta->rta_len);
  struct sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, &req, req.nh.nlmsg_len, 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof(kernel)) < 0)
    return errno;

  // A link message with its stats and attributes is a few KiB; 32 KiB leaves room for VF lists.
  alignas(struct nlmsghdr) char buf[32768];
  ssize_t len;
  do len = recv(fd, buf, sizeof(buf), 0);
  while (len < 0 && errno == EINTR);
  if (len < 0) return errno;
  for (struct nlmsghdr* nh = reinterpret_cast<struct nlmsghdr*>(buf); NLMSG_OK(nh, static_cast<unsigned>(len));
       nh = NLMSG_NEXT(nh, len)) {
    if (nh->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr* err = static_cast<const struct nlmsgerr*>(NLMSG_DATA(nh));
      return err->error == 0 ? EPROTO : -err->error;
    }
    if (nh->nlmsg_type != RTM_NEWLINK) continue;
    const struct ifinfomsg* ifi = static_cast<const struct ifinfomsg*>(NLMSG_DATA(nh));
    out->admin_up = (ifi->ifi_flags & IFF_UP) != 0;
    int attrlen = static_cast<int>(nh->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(*ifi)));
    for (struct rtattr* a = IFLA_RTA(ifi); RTA_OK(a, attrlen); a = RTA_NEXT(a, attrlen)) {
      if (a->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(a) >= 1)
        out->operstate = *static_cast<unsigned char*>(RTA_DATA(a));
      else if (a->rta_type == IFLA_CARRIER && RTA_PAYLOAD(a) >= 1)
        out->carrier = *static_cast<unsigned char*>(RTA_DATA(a)) != 0;
    }
    return 0;
  }
  return EPROTO;
}

// linkState(name, netns) -> { operstate, carrier, adminUp }; netns "" = the current namespace.
// Throws ENODEV (code 'ENODEV') when there is no such interface.
static Napi::Value LinkStateGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "linkState");
  std::string netns = StringArg(info, 1, "linkState");
  if (name.empty() || name.size() >= IFNAMSIZ)
    throw Napi::TypeError::New(env, "linkState: invalid interface name '" + name + "'");
  std::string what = "reading the state of " + name + NetnsGuard::Describe(netns);

  UniqueFd fd;
  {
    // The socket answers for the namespace it was created in.
    NetnsGuard inside(env, netns, what);
    fd.reset(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (fd.get() < 0) ThrowErrno(env, errno, "socket(AF_NETLINK)", what);
  }
  LinkState state;
  int err = QueryLink(fd.get(), name, &state);
  if (err != 0) ThrowErrno(env, err, "RTM_GETLINK", what);

  Napi::Object result = Napi::Object::New(env);
  result.Set("operstate", state.operstate < sizeof(kOperStates) / sizeof(kOperStates[0])
                              ? kOperStates[state.operstate]
                              : "unknown");
  result.Set("carrier", state.carrier);
  result.Set("adminUp", state.admin_up);
  return result;
}

void InitLinkState(Napi::Env env, Napi::Object exports) {
  exports.Set("linkState", Napi::Function::New(env, LinkStateGet, "linkState"));
}

}  // namespace rpmsg_eth
