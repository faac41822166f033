// The rpmsg character devices (see rpmsg_dev.h): batch I/O on /dev/rpmsg-ethN for the data plane, and the
// ioctls the transports call from JS: rpmsgEthInfo, rpmsgCreateEndpoint, rpmsgDestroyEndpoint.
#include "rpmsg_dev.h"

#include <errno.h>
#include <linux/rpmsg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vector>

#include "errno_error.h"
#include "exports.h"
#include "rpmsg_eth_api.h"

namespace rpmsg_eth {

static_assert(sizeof(rpmsg_endpoint_info{}.name) == RPMSG_ETH_NAME_SIZE, "rpmsg name sizes differ");

bool RpmsgEthProbe(int fd) {
  struct rpmsg_eth_info info;
  return ioctl(fd, RPMSG_ETH_IOC_INFO, &info) == 0;
}

static int BatchIoctl(int fd, unsigned long cmd, struct rpmsg_eth_frame* frames, uint32_t count) {
  struct rpmsg_eth_batch batch = {reinterpret_cast<uintptr_t>(frames), count, 0};
  int rc;
  do rc = ioctl(fd, cmd, &batch);
  while (rc < 0 && errno == EINTR);
  return rc;
}

ssize_t RpmsgEthReadBatch(int fd, uint8_t* arena, uint32_t slotSize, uint32_t* lengths, uint32_t max) {
  struct rpmsg_eth_frame frames[RPMSG_ETH_BATCH_MAX];
  uint32_t count = max < RPMSG_ETH_BATCH_MAX ? max : RPMSG_ETH_BATCH_MAX;
  for (uint32_t i = 0; i < count; i++)
    frames[i] = {reinterpret_cast<uintptr_t>(arena + static_cast<size_t>(i) * slotSize), slotSize, 0};
  int rc = BatchIoctl(fd, RPMSG_ETH_IOC_READ_BATCH, frames, count);
  if (rc > 0) {
    for (int i = 0; i < rc; i++) lengths[i] = frames[i].len;
    return rc;
  }
  if (rc == 0) {
    errno = EAGAIN;
    return -1;
  }
  if (errno != EMSGSIZE) return -1;
  // The head frame does not fit a slot and stays queued: take it whole (a rare path, so a one-off
  // buffer is fine) and report its true length, so the caller counts it instead of stalling on it.
  uint32_t need = frames[0].len;
  std::vector<uint8_t> whole(need > slotSize && need <= (1u << 20) ? need : slotSize + 1);
  ssize_t n;
  do n = read(fd, whole.data(), whole.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  memcpy(arena, whole.data(), slotSize);
  lengths[0] = static_cast<uint32_t>(n);
  return 1;
}

static_assert(RPMSG_ETH_WRITE_MAX == RPMSG_ETH_BATCH_MAX, "RPMSG_ETH_WRITE_MAX follows the module's header");

uint32_t RpmsgEthWriteFrames(int fd, const uint8_t* const* data, const uint32_t* lens, uint32_t count, int* err) {
  struct rpmsg_eth_frame frames[RPMSG_ETH_BATCH_MAX];
  *err = 0;
  if (count == 0) return 0;
  for (uint32_t i = 0; i < count; i++) frames[i] = {reinterpret_cast<uintptr_t>(data[i]), lens[i], 0};
  int rc = BatchIoctl(fd, RPMSG_ETH_IOC_WRITE_BATCH, frames, count);
  if (rc > 0) return static_cast<uint32_t>(rc);
  *err = rc < 0 ? (errno == EWOULDBLOCK ? EAGAIN : errno) : EAGAIN;
  return 0;
}

static uint32_t AddressArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": addresses must be numbers");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 0xffffffffu) || v != static_cast<uint32_t>(v))
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": an address must be a u32");
  return static_cast<uint32_t>(v);
}

// rpmsgEthInfo(fd) -> the device's struct rpmsg_eth_info as an object.
static Napi::Value RpmsgEthInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "rpmsgEthInfo");
  struct rpmsg_eth_info di;
  memset(&di, 0, sizeof di);
  if (ioctl(fd, RPMSG_ETH_IOC_INFO, &di) < 0)
    ThrowErrno(env, errno, "ioctl(RPMSG_ETH_IOC_INFO)", "reading the info of fd " + std::to_string(fd),
               errno == ENOTTY || errno == EINVAL ? "not an rpmsg-eth device" : "");
  di.name[sizeof di.name - 1] = '\0';
  Napi::Object o = Napi::Object::New(env);
  o.Set("apiVersion", di.api_version);
  o.Set("channel", di.channel);
  o.Set("name", Napi::String::New(env, di.name));
  o.Set("localAddr", di.local_addr);
  o.Set("remoteAddr", di.remote_addr);
  o.Set("maxPayload", di.max_payload);
  o.Set("bufSize", di.buf_size);
  o.Set("numBufs", di.num_bufs);
  o.Set("rxQueueLen", di.rx_queue_len);
  o.Set("txQueueLen", di.tx_queue_len);
  return o;
}

// rpmsgCreateEndpoint(ctrlFd, name, src, dst): RPMSG_CREATE_EPT_IOCTL on /dev/rpmsg_ctrlN.
static Napi::Value RpmsgCreateEndpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "rpmsgCreateEndpoint");
  std::string name = StringArg(info, 1, "rpmsgCreateEndpoint");
  struct rpmsg_endpoint_info ept;
  memset(&ept, 0, sizeof ept);
  if (name.empty() || name.size() >= sizeof ept.name || name.find('\0') != std::string::npos)
    throw Napi::RangeError::New(env, "rpmsgCreateEndpoint: the name must be 1-" +
                                         std::to_string(sizeof ept.name - 1) + " bytes: '" + name + "'");
  memcpy(ept.name, name.data(), name.size());
  ept.src = AddressArg(info, 2, "rpmsgCreateEndpoint");
  ept.dst = AddressArg(info, 3, "rpmsgCreateEndpoint");
  if (ioctl(fd, RPMSG_CREATE_EPT_IOCTL, &ept) < 0)
    ThrowErrno(env, errno, "ioctl(RPMSG_CREATE_EPT_IOCTL)", "creating endpoint " + name + " on fd " + std::to_string(fd));
  return env.Undefined();
}

// rpmsgDestroyEndpoint(fd): RPMSG_DESTROY_EPT_IOCTL on an open /dev/rpmsgM.
static Napi::Value RpmsgDestroyEndpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "rpmsgDestroyEndpoint");
  if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
    ThrowErrno(env, errno, "ioctl(RPMSG_DESTROY_EPT_IOCTL)", "destroying the endpoint of fd " + std::to_string(fd));
  return env.Undefined();
}

void InitRpmsgDev(Napi::Env env, Napi::Object exports) {
  exports.Set("rpmsgEthInfo", Napi::Function::New(env, RpmsgEthInfo, "rpmsgEthInfo"));
  exports.Set("rpmsgCreateEndpoint", Napi::Function::New(env, RpmsgCreateEndpoint, "rpmsgCreateEndpoint"));
  exports.Set("rpmsgDestroyEndpoint", Napi::Function::New(env, RpmsgDestroyEndpoint, "rpmsgDestroyEndpoint"));
  exports.Set("RPMSG_ETH_API_VERSION", Napi::Number::New(env, RPMSG_ETH_API_VERSION));
  exports.Set("RPMSG_ETH_BATCH_MAX", Napi::Number::New(env, RPMSG_ETH_BATCH_MAX));
}

}  // namespace rpmsg_eth
