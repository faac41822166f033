// An interface over rtnetlink, inside its network namespace: its state as the kernel reports it (what
// `ip -s link` and /sys/class/net/IF/{operstate,mtu,carrier_changes,statistics/} show: one RTM_GETLINK)
// and its IPv4 addresses (RTM_NEWADDR, RTM_DELADDR — what `ip addr add/del` sends, without forking `ip`
// per interface).
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>

#include "errno_error.h"
#include "exports.h"
#include "netns_guard.h"
#include "unique_fd.h"

namespace rpmsg_eth {

// RFC 2863 operational states, in IF_OPER_* order (the names /sys/class/net/IF/operstate uses).
static const char* const kOperStates[] = {"unknown", "notpresent", "down",  "lowerlayerdown",
                                           "testing", "dormant",    "up"};

struct LinkState {
  int index = 0;
  unsigned char operstate = IF_OPER_UNKNOWN;
  bool carrier = false;
  bool admin_up = false;
  unsigned mtu = 0;
  unsigned carrier_changes = 0;
  bool has_stats = false;
  struct rtnl_link_stats64 stats = {};
};

static std::string InterfaceArg(const Napi::CallbackInfo& info, const char* what) {
  std::string name = StringArg(info, 0, what);
  if (name.empty() || name.size() >= IFNAMSIZ)
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": invalid interface name '" + name + "'");
  return name;
}

// A netlink socket of `netns` (it answers for the namespace it was created in), owned by the caller.
static int NetlinkSocket(Napi::Env env, const std::string& netns, const std::string& what) {
  NetnsGuard inside(env, netns, what);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) ThrowErrno(env, errno, "socket(AF_NETLINK)", what);
  return fd;
}

static void AddAttr(struct nlmsghdr* nh, unsigned short type, const void* data, size_t len) {
  struct rtattr* rta = reinterpret_cast<struct rtattr*>(reinterpret_cast<char*>(nh) + NLMSG_ALIGN(nh->nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  memcpy(RTA_DATA(rta), data, len);
  nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

// Sends `nh` and reads the answer: for a RTM_GETLINK, the link (into *out); else the acknowledgement.
// Returns 0 or an errno (ENODEV: no such interface; EEXIST: the address is there already).
static int Transact(int fd, struct nlmsghdr* nh, LinkState* out) {
  struct sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, nh, nh->nlmsg_len, 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof(kernel)) < 0) return errno;
  // A link message with its stats and attributes is a few KiB; 32 KiB leaves room for VF lists.
  alignas(struct nlmsghdr) char buf[32768];
  ssize_t len;
  do len = recv(fd, buf, sizeof(buf), 0);
  while (len < 0 && errno == EINTR);
  if (len < 0) return errno;
  for (struct nlmsghdr* m = reinterpret_cast<struct nlmsghdr*>(buf); NLMSG_OK(m, static_cast<unsigned>(len));
       m = NLMSG_NEXT(m, len)) {
    if (m->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr* err = static_cast<const struct nlmsgerr*>(NLMSG_DATA(m));
      return out != nullptr && err->error == 0 ? EPROTO : -err->error;
    }
    if (m->nlmsg_type != RTM_NEWLINK || out == nullptr) continue;
    const struct ifinfomsg* ifi = static_cast<const struct ifinfomsg*>(NLMSG_DATA(m));
    out->index = ifi->ifi_index;
    out->admin_up = (ifi->ifi_flags & IFF_UP) != 0;
    int attrlen = static_cast<int>(m->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(*ifi)));
    for (struct rtattr* a = IFLA_RTA(ifi); RTA_OK(a, attrlen); a = RTA_NEXT(a, attrlen)) {
      if (a->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(a) >= 1)
        out->operstate = *static_cast<unsigned char*>(RTA_DATA(a));
      else if (a->rta_type == IFLA_CARRIER && RTA_PAYLOAD(a) >= 1)
        out->carrier = *static_cast<unsigned char*>(RTA_DATA(a)) != 0;
      else if (a->rta_type == IFLA_MTU && RTA_PAYLOAD(a) >= sizeof(unsigned))
        memcpy(&out->mtu, RTA_DATA(a), sizeof(unsigned));
      else if (a->rta_type == IFLA_CARRIER_CHANGES && RTA_PAYLOAD(a) >= sizeof(unsigned))
        memcpy(&out->carrier_changes, RTA_DATA(a), sizeof(unsigned));
      else if (a->rta_type == IFLA_STATS64) {
        // Older kernels send a shorter struct: take what is there, the rest stays 0.
        memcpy(&out->stats, RTA_DATA(a), std::min<size_t>(RTA_PAYLOAD(a), sizeof(out->stats)));
        out->has_stats = true;
      }
    }
    return 0;
  }
  return EPROTO;
}

static int QueryLink(int fd, const std::string& name, LinkState* out) {
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
    char attrs[RTA_SPACE(IFNAMSIZ)];
  } req = {};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  AddAttr(&req.nh, IFLA_IFNAME, name.c_str(), name.size() + 1);
  return Transact(fd, &req.nh, out);
}

// linkState(name, netns) -> { index, operstate, carrier, adminUp, mtu, carrierChanges, stats };
// netns "" = the current namespace. stats: the kernel's IFLA_STATS64 (the numbers of
// /sys/class/net/IF/statistics), or null if it sent none. Throws ENODEV (code 'ENODEV') when there is
// no such interface.
static Napi::Value LinkStateGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = InterfaceArg(info, "linkState");
  std::string netns = StringArg(info, 1, "linkState");
  std::string what = "reading the state of " + name + NetnsGuard::Describe(netns);
  UniqueFd fd(NetlinkSocket(env, netns, what));
  LinkState state;
  int err = QueryLink(fd.get(), name, &state);
  if (err != 0) ThrowErrno(env, err, "RTM_GETLINK", what);

  Napi::Object result = Napi::Object::New(env);
  result.Set("operstate", state.operstate < sizeof(kOperStates) / sizeof(kOperStates[0])
                              ? kOperStates[state.operstate]
                              : "unknown");
  result.Set("carrier", state.carrier);
  result.Set("adminUp", state.admin_up);
  result.Set("index", state.index);
  result.Set("mtu", state.mtu);
  result.Set("carrierChanges", state.carrier_changes);
  if (!state.has_stats) {
    result.Set("stats", env.Null());
    return result;
  }
  // u64 counters as doubles: exact up to 2^53, decades of traffic on these links.
  const struct rtnl_link_stats64& s = state.stats;
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("rxPackets", static_cast<double>(s.rx_packets));
  stats.Set("txPackets", static_cast<double>(s.tx_packets));
  stats.Set("rxBytes", static_cast<double>(s.rx_bytes));
  stats.Set("txBytes", static_cast<double>(s.tx_bytes));
  stats.Set("rxErrors", static_cast<double>(s.rx_errors));
  stats.Set("txErrors", static_cast<double>(s.tx_errors));
  stats.Set("rxDropped", static_cast<double>(s.rx_dropped));
  stats.Set("txDropped", static_cast<double>(s.tx_dropped));
  result.Set("stats", stats);
  return result;
}

// addressChange(name, netns, add, "a.b.c.d", prefix): adds (true) or removes (false) an IPv4 address,
// as `ip addr add/del a.b.c.d/prefix dev name` does. Throws with the kernel's errno (EEXIST: already
// there; EADDRNOTAVAIL: not there; ENODEV: no such interface).
static Napi::Value AddressChange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = InterfaceArg(info, "addressChange");
  std::string netns = StringArg(info, 1, "addressChange");
  if (info.Length() < 5 || !info[2].IsBoolean() || !info[4].IsNumber())
    throw Napi::TypeError::New(env, "addressChange: expected (name, netns, add, address, prefix)");
  bool add = info[2].As<Napi::Boolean>().Value();
  std::string address = StringArg(info, 3, "addressChange");
  int prefix = info[4].As<Napi::Number>().Int32Value();
  struct in_addr addr;
  if (inet_pton(AF_INET, address.c_str(), &addr) != 1 || prefix < 0 || prefix > 32)
    throw Napi::TypeError::New(env, "addressChange: invalid IPv4 address " + address + "/" + std::to_string(prefix));
  std::string what = std::string(add ? "adding " : "removing ") + address + "/" + std::to_string(prefix) +
                     (add ? " to " : " from ") + name + NetnsGuard::Describe(netns);

  UniqueFd fd(NetlinkSocket(env, netns, what));
  LinkState link;
  int err = QueryLink(fd.get(), name, &link);
  if (err != 0) ThrowErrno(env, err, "RTM_GETLINK", what);

  struct {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    char attrs[2 * RTA_SPACE(sizeof(struct in_addr))];
  } req = {};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
  req.nh.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  req.nh.nlmsg_seq = 2;
  req.ifa.ifa_family = AF_INET;
  req.ifa.ifa_prefixlen = static_cast<unsigned char>(prefix);
  req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  req.ifa.ifa_index = static_cast<unsigned>(link.index);
  AddAttr(&req.nh, IFA_LOCAL, &addr, sizeof(addr));
  AddAttr(&req.nh, IFA_ADDRESS, &addr, sizeof(addr));
  err = Transact(fd.get(), &req.nh, nullptr);
  if (err != 0) ThrowErrno(env, err, add ? "RTM_NEWADDR" : "RTM_DELADDR", what);
  return env.Undefined();
}

void InitRtnetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("linkState", Napi::Function::New(env, LinkStateGet, "linkState"));
  exports.Set("addressChange", Napi::Function::New(env, AddressChange, "addressChange"));
}

}  // namespace rpmsg_eth
