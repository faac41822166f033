// PacketSocket: an AF_PACKET socket bound to one interface, inside its namespace — how `capture` sees
// the frames of an interface the daemon does not bridge (the netdev transport: the kernel module
// forwards them), and how `replay` sends frames into it. The kernel marks each frame's direction
// (sll_pkttype: PACKET_OUTGOING = sent by this host = tx; anything else was received = rx).
//
// Reading runs on the Node loop (uv_poll): per wakeup the frames waiting are packed as capture records
// — the data plane's format, read by captureRecords() in src/native/data-plane.ts — into the buffer
// JavaScript gave, then onRecords(bytes) is called once. Frames the socket's queue could not hold are
// counted by the kernel (PACKET_STATISTICS): drops().
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <memory>

#include "errno_error.h"
#include "exports.h"
#include "netns_guard.h"
#include "unique_fd.h"
#include "uv_handles.h"

namespace rpmsg_eth {

// Largest frame taken whole; a longer one (GSO) is cut and its record says how long it was.
static const size_t kMaxSnap = 65535;
static const size_t kRecordHeader = 12;
// Frames per wakeup, so one busy interface cannot hold the loop.
static const unsigned kMaxBatch = 256;
static const int kReceiveBuffer = 4 << 20;

static void PutLe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

// A socket on `name` only: made with protocol 0 (it receives nothing yet), then bound to the
// interface with ETH_P_ALL, so no frame of another interface is ever queued on it. A send-only socket
// (replay) stays bound with protocol 0: it sends into the interface and is handed no frame at all.
static int OpenBound(Napi::Env env, const std::string& name, const std::string& netns, const std::string& what,
                     bool send_only) {
  UniqueFd fd;
  {
    NetnsGuard inside(env, netns, what);
    fd.reset(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) ThrowErrno(env, errno, "socket(AF_PACKET)", what, errno == EPERM ? "needs CAP_NET_RAW" : "");
  }
  struct ifreq ifr = {};
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd.get(), SIOCGIFINDEX, &ifr) < 0) ThrowErrno(env, errno, "ioctl(SIOCGIFINDEX)", what);
  int size = kReceiveBuffer;
  if (!send_only && setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  struct sockaddr_ll sll = {};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = send_only ? 0 : htons(ETH_P_ALL);
  sll.sll_ifindex = ifr.ifr_ifindex;
  if (bind(fd.get(), reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) < 0) ThrowErrno(env, errno, "bind", what);
  return fd.release();
}

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {InstanceMethod<&PacketSocket::Drops>("drops"), InstanceMethod<&PacketSocket::Send>("send"),
                        InstanceMethod<&PacketSocket::Close>("close")});
  }

  // new PacketSocket(ifname, netns, buffer, { onRecords(bytes), onError(errno), sendOnly? })
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "PacketSocket");
    std::string netns = StringArg(info, 1, "PacketSocket");
    if (name.empty() || name.size() >= IFNAMSIZ)
      throw Napi::TypeError::New(env, "PacketSocket: invalid interface name '" + name + "'");
    if (info.Length() < 4 || !info[2].IsBuffer() || !info[3].IsObject())
      throw Napi::TypeError::New(env, "PacketSocket(ifname, netns, buffer, { onRecords, onError })");
    Napi::Object cb = info[3].As<Napi::Object>();
    if (!cb.Get("onRecords").IsFunction() || !cb.Get("onError").IsFunction())
      throw Napi::TypeError::New(env, "PacketSocket: onRecords and onError must be functions");
    auto buf = info[2].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() < kRecordHeader + kMaxSnap)
      throw Napi::RangeError::New(env, "PacketSocket: the buffer must hold at least one largest frame");
    what_ = "capturing on " + name + NetnsGuard::Describe(netns);
    bool send_only = cb.Get("sendOnly").ToBoolean().Value();
    if (send_only) what_ = "sending into " + name + NetnsGuard::Describe(netns);
    fd_.reset(OpenBound(env, name, netns, what_, send_only));
    buffer_ = Napi::Persistent(buf);
    onRecords_ = Napi::Persistent(cb.Get("onRecords").As<Napi::Function>());
    onError_ = Napi::Persistent(cb.Get("onError").As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "rpmsg-eth:PacketSocket", info.This().As<Napi::Object>());
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "cannot get the event loop");
    try {
      poll_ = std::make_unique<dp::FdPoll>(loop, fd_.get(), this, OnPoll);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, what_ + ": " + e.what());
    }
    poll_->Set(UV_READABLE);
    napi_add_env_cleanup_hook(env, Teardown, this);
    Ref();  // kept while open: the poll refers to it
  }

  ~PacketSocket() override { Shutdown(); }

 private:
  static void OnPoll(void* owner, int status, int /*events*/) {
    auto* self = static_cast<PacketSocket*>(owner);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      // POLLERR: the interface went down or away (ENETDOWN). libuv stopped polling; read the error
      // (which clears it), tell JavaScript, and go on: after `ip link set up` frames flow again.
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(self->fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      self->Call(self->onError_, {Napi::Number::New(env, err ? err : EIO)});
      if (!self->closed_) self->poll_->Set(UV_READABLE);
      return;
    }
    self->Drain();
  }

  void Drain() {
    Napi::Env env = Env();
    Napi::Buffer<uint8_t> buf = buffer_.Value();
    uint8_t* base = buf.Data();
    size_t cap = buf.Length(), at = 0;
    int error = 0;
    for (unsigned frames = 0; frames < kMaxBatch && cap - at >= kRecordHeader + kMaxSnap;) {
      struct sockaddr_ll from = {};
      socklen_t fromlen = sizeof(from);
      ssize_t n = recvfrom(fd_.get(), base + at + kRecordHeader, kMaxSnap, MSG_TRUNC,
                           reinterpret_cast<struct sockaddr*>(&from), &fromlen);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
        break;
      }
      uint32_t length = static_cast<uint32_t>(std::min<size_t>(static_cast<size_t>(n), kMaxSnap));
      uint8_t* rec = base + at;
      rec[0] = from.sll_pkttype == PACKET_OUTGOING ? 0 : 1;  // 0 = tx, 1 = rx
      rec[1] = 255;                                          // not a drop
      rec[2] = rec[3] = 0;
      PutLe32(rec + 4, static_cast<uint32_t>(n));
      PutLe32(rec + 8, length);
      at += kRecordHeader + ((length + 3) & ~3u);
      frames++;
    }
    if (at > 0) Call(onRecords_, {Napi::Number::New(env, static_cast<double>(at))});
    if (error != 0 && !closed_) Call(onError_, {Napi::Number::New(env, error)});
  }

  void Call(Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) { CallFromEvent(fn, *context_, args); }

  // drops() -> frames the socket's queue could not hold since the last call (PACKET_STATISTICS).
  Napi::Value Drops(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Napi::Number::New(env, 0);
    struct tpacket_stats st = {};
    socklen_t len = sizeof(st);
    if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
      ThrowErrno(env, errno, "getsockopt(PACKET_STATISTICS)", what_);
    return Napi::Number::New(env, st.tp_drops);
  }

  // send(buffer, slotSize, lengths: Uint32Array, start, end) -> frames sent (frame i at
  // buffer[i * slotSize], lengths[i] bytes), stopping early when the interface's queue is full.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Napi::Error::New(env, what_ + ": the socket is closed");
    if (info.Length() < 5 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || !info[3].IsNumber() || !info[4].IsNumber())
      throw Napi::TypeError::New(env, "send(buffer, slotSize, lengths: Uint32Array, start, end)");
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    auto lengths = info[2].As<Napi::Uint32Array>();
    uint32_t slot = info[1].As<Napi::Number>().Uint32Value();
    uint32_t start = info[3].As<Napi::Number>().Uint32Value(), end = info[4].As<Napi::Number>().Uint32Value();
    if (slot == 0 || start > end || end > lengths.ElementLength() || static_cast<size_t>(end) * slot > buf.Length())
      throw Napi::RangeError::New(env, "send: need start <= end <= lengths.length and end * slotSize <= buffer.length");
    uint32_t sent = start;
    for (; sent < end; sent++) {
      uint32_t len = lengths[sent];
      if (len > slot) throw Napi::RangeError::New(env, "send: frame " + std::to_string(sent) + " is longer than its slot");
      ssize_t n;
      do n = send(fd_.get(), buf.Data() + static_cast<size_t>(sent) * slot, len, 0);
      while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
        ThrowErrno(env, errno, "send", "replaying frame " + std::to_string(sent) + " (" + std::to_string(len) +
                                           " bytes) into " + what_.substr(strlen("capturing on ")));
      }
    }
    return Napi::Number::New(env, sent - start);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Shutdown()) Unref();
    return info.Env().Undefined();
  }

  static void Teardown(void* arg) { static_cast<PacketSocket*>(arg)->Shutdown(); }

  // True the first time: stops polling and closes the socket.
  bool Shutdown() {
    if (closed_) return false;
    closed_ = true;
    napi_remove_env_cleanup_hook(Env(), Teardown, this);
    poll_.reset();
    fd_.reset(-1);
    return true;
  }

  std::string what_;
  UniqueFd fd_;
  std::unique_ptr<dp::FdPoll> poll_;
  bool closed_ = false;
  Napi::Reference<Napi::Buffer<uint8_t>> buffer_;
  Napi::FunctionReference onRecords_, onError_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void InitPacketSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
}

}  // namespace rpmsg_eth
