// A driver's own counters, what `ethtool -S IF` prints: names (ETHTOOL_GSTRINGS of the ETH_SS_STATS
// set) and values (ETHTOOL_GSTATS), read through SIOCETHTOOL inside the interface's namespace. The
// rpmsg_eth module's interfaces report their drops by reason this way (kmod/rpmsg_eth.h); others report
// whatever their driver counts, or nothing.
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "errno_error.h"
#include "exports.h"
#include "netns_guard.h"
#include "unique_fd.h"

namespace rpmsg_eth {

// More than any driver has; a count above it is not believed.
static const uint32_t kMaxStats = 4096;
// ETHTOOL_GSTRINGS and ETHTOOL_GSTATS ignore the length passed in: the kernel writes as many entries as
// the driver has at that moment. A set that grew since ETHTOOL_GSSET_INFO would overrun buffers sized
// for the count read there; this many entries of room beyond it take such growth, and an answer longer
// than the count asked for is refused (the set changed: EAGAIN, read again next time).
static const uint32_t kStatsMargin = 256;

static int Ethtool(int fd, const std::string& name, void* cmd) {
  struct ifreq ifr = {};
  memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_data = static_cast<char*>(cmd);
  return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? errno : 0;
}

// How many counters the driver has: ETHTOOL_GSSET_INFO, or GDRVINFO's n_stats on old kernels.
static int StatsCount(int fd, const std::string& name, uint32_t* count) {
  // struct ethtool_sset_info ends in a flexible array: one u32 follows it for the one set asked.
  alignas(struct ethtool_sset_info) unsigned char raw[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)] = {};
  auto* sset = reinterpret_cast<struct ethtool_sset_info*>(raw);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_STATS;
  int err = Ethtool(fd, name, sset);
  if (err == 0) {
    *count = (sset->sset_mask & (1ULL << ETH_SS_STATS)) ? sset->data[0] : 0;
    return 0;
  }
  if (err != EOPNOTSUPP) return err;
  struct ethtool_drvinfo drv = {};
  drv.cmd = ETHTOOL_GDRVINFO;
  err = Ethtool(fd, name, &drv);
  if (err == 0) *count = drv.n_stats;
  return err;
}

// ethtoolStats(name, netns) -> { NAME: value, ... } in the driver's order, or null when the driver has
// no counters (EOPNOTSUPP, or none). Throws ENODEV when there is no such interface.
static Napi::Value EthtoolStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "ethtoolStats");
  std::string netns = StringArg(info, 1, "ethtoolStats");
  if (name.empty() || name.size() >= IFNAMSIZ)
    throw Napi::TypeError::New(env, "ethtoolStats: invalid interface name '" + name + "'");
  std::string what = "reading the driver counters of " + name + NetnsGuard::Describe(netns);

  UniqueFd fd;
  {
    NetnsGuard inside(env, netns, what);
    fd.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) ThrowErrno(env, errno, "socket(AF_INET)", what);
  }
  uint32_t count = 0;
  int err = StatsCount(fd.get(), name, &count);
  if (err == EOPNOTSUPP || (err == 0 && count == 0)) return env.Null();
  if (err != 0) ThrowErrno(env, err, "ioctl(SIOCETHTOOL)", what);
  if (count > kMaxStats) ThrowErrno(env, EPROTO, "ETHTOOL_GSSET_INFO", what, std::to_string(count) + " counters");

  const uint32_t room = count + kStatsMargin;
  std::vector<uint64_t> strings_buf((sizeof(struct ethtool_gstrings) + room * ETH_GSTRING_LEN + 7) / 8);
  auto* strings = reinterpret_cast<struct ethtool_gstrings*>(strings_buf.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_STATS;
  strings->len = count;
  err = Ethtool(fd.get(), name, strings);
  if (err != 0) ThrowErrno(env, err, "ioctl(ETHTOOL_GSTRINGS)", what);
  if (strings->len > count)
    ThrowErrno(env, EAGAIN, "ioctl(ETHTOOL_GSTRINGS)", what, std::to_string(strings->len) + " names where " + std::to_string(count) + " were counted");

  std::vector<uint64_t> stats_buf((sizeof(struct ethtool_stats) + room * sizeof(uint64_t) + 7) / 8);
  auto* stats = reinterpret_cast<struct ethtool_stats*>(stats_buf.data());
  stats->cmd = ETHTOOL_GSTATS;
  stats->n_stats = count;
  err = Ethtool(fd.get(), name, stats);
  if (err != 0) ThrowErrno(env, err, "ioctl(ETHTOOL_GSTATS)", what);
  if (stats->n_stats > count)
    ThrowErrno(env, EAGAIN, "ioctl(ETHTOOL_GSTATS)", what, std::to_string(stats->n_stats) + " values where " + std::to_string(count) + " were counted");

  // The kernel may answer with fewer than asked if the set shrank in between.
  uint32_t n = std::min(strings->len, stats->n_stats);
  n = std::min(n, count);
  Napi::Object result = Napi::Object::New(env);
  for (uint32_t i = 0; i < n; i++) {
    const char* s = reinterpret_cast<const char*>(strings->data) + i * ETH_GSTRING_LEN;
    result.Set(std::string(s, strnlen(s, ETH_GSTRING_LEN)), static_cast<double>(stats->data[i]));
  }
  return result;
}

void InitEthtoolStats(Napi::Env env, Napi::Object exports) {
  exports.Set("ethtoolStats", Napi::Function::New(env, EthtoolStats, "ethtoolStats"));
}

}  // namespace rpmsg_eth
