// MessageFd: message I/O on a message-preserving fd (TAP, rpmsg char device, SOCK_SEQPACKET socket),
// driven by uv_poll on the main event loop.
//
// Receive: on each readable wakeup, read up to `batch` messages (one read()/recv() each) until EAGAIN
// into a fixed arena shared with JS (message i at rx[i * slotSize], its length in rxLengths[i]),
// then call onReadable(count) once. A message longer than slotSize is reported with a length
// > slotSize (its true length on sockets and TAPs, slotSize + 1 on other devices) and its bytes cut.
// Send: writeBatch() writes a run of messages in one call, one write() each, and stops at the first
// error, leaving its errno in lastErrno. Entries of length 0 are skipped (see transport.ts).
// End of stream, POLLERR or a read error calls onHangup(errno) (0 = orderly end) and stops polling.
// batchIoctl (an rpmsg-eth device only): both directions move whole batches through the module's
// READ_BATCH/WRITE_BATCH ioctls (rpmsg_dev.cc), one syscall per batch instead of one per message.
#include <errno.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "errno_error.h"
#include "exports.h"
#include "poll_handle.h"
#include "rpmsg_dev.h"

namespace rpmsg_eth {

class MessageFd : public Napi::ObjectWrap<MessageFd> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MessageFd",
                       {InstanceMethod<&MessageFd::WriteBatch>("writeBatch"),
                        InstanceMethod<&MessageFd::PauseRead>("pauseRead"),
                        InstanceMethod<&MessageFd::ResumeRead>("resumeRead"),
                        InstanceMethod<&MessageFd::WaitWritable>("waitWritable"),
                        InstanceMethod<&MessageFd::Close>("close"),
                        InstanceAccessor<&MessageFd::LastErrno>("lastErrno"),
                        InstanceAccessor<&MessageFd::Fd>("fd")});
  }

  // new MessageFd(fd, slotSize, batch, rxArena, rxLengths, onReadable, onWritable, onHangup[, batchIoctl])
  // rxArena: a Buffer of at least batch * slotSize + 1 bytes (the extra byte detects truncation);
  // rxLengths: a Uint32Array of at least `batch` entries. Both stay referenced until destruction.
  explicit MessageFd(const Napi::CallbackInfo& info);
  ~MessageFd() override { Shutdown(); }

 private:
  static void OnPoll(void* owner, int status, int events);
  static void Teardown(void* arg) { static_cast<MessageFd*>(arg)->Shutdown(); }

  void ReadBatch();
  ssize_t ReceiveOne(uint8_t* slot);
  bool AtEndOfStream();
  void Hangup(int err);
  void UpdatePoll();
  bool Shutdown();

  Napi::Value WriteBatch(const Napi::CallbackInfo& info);
  Napi::Value PauseRead(const Napi::CallbackInfo& info);
  Napi::Value ResumeRead(const Napi::CallbackInfo& info);
  Napi::Value WaitWritable(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value LastErrno(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lastErrno_); }
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  // How a message's true length is learnt when it exceeds the slot.
  enum class Kind { kSocket, kTap, kDevice };

  int fd_ = -1;  // -1 once closed
  Kind kind_ = Kind::kDevice;
  uint32_t slotSize_ = 0, batch_ = 0;
  uint8_t* rx_ = nullptr;
  uint32_t* rxLengths_ = nullptr;
  Napi::Reference<Napi::Buffer<uint8_t>> rxArenaRef_;
  Napi::Reference<Napi::Uint32Array> rxLengthsRef_;
  Napi::FunctionReference onReadable_, onWritable_, onHangup_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::unique_ptr<PollHandle> poll_;  // null once closed or hung up
  bool reading_ = true, wantWritable_ = false, batchIoctl_ = false;
  int lastErrno_ = 0;
};

static uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t min, uint32_t max) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("MessageFd: ") + name + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= min && v <= max) || v != static_cast<uint32_t>(v))
    throw Napi::RangeError::New(info.Env(), std::string("MessageFd: ") + name + " must be an integer in " +
                                                std::to_string(min) + ".." + std::to_string(max));
  return static_cast<uint32_t>(v);
}

static Napi::Uint32Array Uint32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": lengths must be a Uint32Array");
  return info[i].As<Napi::Uint32Array>();
}

static Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsBuffer())
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": buffer must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

static Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsFunction())
    throw Napi::TypeError::New(info.Env(), std::string("MessageFd: ") + name + " must be a function");
  return info[i].As<Napi::Function>();
}

MessageFd::MessageFd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MessageFd>(info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "MessageFd");
  slotSize_ = Uint32Arg(info, 1, "slotSize", 1, 1u << 20);
  batch_ = Uint32Arg(info, 2, "batch", 1, 4096);
  Napi::Buffer<uint8_t> arena = BufferArg(info, 3, "MessageFd");
  Napi::Uint32Array lengths = Uint32ArrayArg(info, 4, "MessageFd");
  if (arena.Length() < static_cast<size_t>(batch_) * slotSize_ + 1 || lengths.ElementLength() < batch_)
    throw Napi::RangeError::New(env, "MessageFd: the receive arena needs batch * slotSize + 1 bytes and batch lengths");
  onReadable_ = Napi::Persistent(FunctionArg(info, 5, "onReadable"));
  onWritable_ = Napi::Persistent(FunctionArg(info, 6, "onWritable"));
  onHangup_ = Napi::Persistent(FunctionArg(info, 7, "onHangup"));
  batchIoctl_ = info.Length() > 8 && info[8].ToBoolean();
  if (batchIoctl_ && !RpmsgEthProbe(fd))
    ThrowErrno(env, errno, "ioctl(RPMSG_ETH_IOC_INFO)", "MessageFd with batchIoctl on fd " + std::to_string(fd),
               "batch ioctls need an rpmsg-eth device (/dev/rpmsg-ethN)");

  struct stat st;
  if (fstat(fd, &st) < 0) ThrowErrno(env, errno, "fstat", "MessageFd on fd " + std::to_string(fd));
  struct ifreq ifr;
  kind_ = S_ISSOCK(st.st_mode) ? Kind::kSocket : ioctl(fd, TUNGETIFF, &ifr) == 0 ? Kind::kTap : Kind::kDevice;
  rx_ = arena.Data();
  rxLengths_ = lengths.Data();
  rxArenaRef_ = Napi::Persistent(arena);
  rxLengthsRef_ = Napi::Persistent(lengths);
  context_ = std::make_unique<Napi::AsyncContext>(env, "rpmsg-eth:MessageFd", info.This().As<Napi::Object>());
  poll_ = std::make_unique<PollHandle>(env, fd, this, OnPoll);  // sets O_NONBLOCK
  fd_ = fd;  // owned from here on
  napi_add_env_cleanup_hook(env, Teardown, this);
  UpdatePoll();
  Ref();  // open and polling: alive without a JS reference, like a socket; close() releases it
}

void MessageFd::UpdatePoll() {
  if (!poll_) return;
  // UV_DISCONNECT (POLLRDHUP) lets a paused socket still notice its peer going away.
  poll_->Set((reading_ ? UV_READABLE : 0) | (wantWritable_ ? UV_WRITABLE : 0) |
             (kind_ == Kind::kSocket ? UV_DISCONNECT : 0));
}

// Where the tail of an oversize TAP frame goes. Never read by C++, so sharing it is harmless.
static uint8_t oversizeTail[65536];

ssize_t MessageFd::ReceiveOne(uint8_t* slot) {
  switch (kind_) {
    case Kind::kSocket:
      // MSG_TRUNC makes recv() return the message's true length even when it is cut to slotSize.
      return recv(fd_, slot, slotSize_, MSG_TRUNC | MSG_DONTWAIT);
    case Kind::kTap: {
      // A TAP fills an iovec array with one frame per call: the tail lands in oversizeTail.
      struct iovec iov[2] = {{slot, slotSize_}, {oversizeTail, sizeof oversizeTail}};
      return readv(fd_, iov, 2);
    }
    case Kind::kDevice:
    default:
      // A device may implement only read(), where readv() would split one message over several
      // reads. One byte of room beyond the slot (the next slot's first byte, or the arena's spare
      // byte after the last slot) shows that the message did not fit.
      return read(fd_, slot, slotSize_ + 1);
  }
}

bool MessageFd::AtEndOfStream() {
  // read() == 0 is either an empty message or the end of the stream; the peer's shutdown tells.
  struct pollfd p = {fd_, POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void MessageFd::ReadBatch() {
  uint32_t count = 0;
  bool hangup = false;
  int hangupErrno = 0;
  while (count < batch_) {
    uint8_t* slot = rx_ + static_cast<size_t>(count) * slotSize_;
    ssize_t n = batchIoctl_ ? RpmsgEthReadBatch(fd_, slot, slotSize_, rxLengths_ + count, batch_ - count)
                            : ReceiveOne(slot);
    if (batchIoctl_ && n > 0) {
      count += static_cast<uint32_t>(n);
    } else if (n > 0 || (n == 0 && !AtEndOfStream())) {
      rxLengths_[count++] = static_cast<uint32_t>(n);
    } else if (n == 0) {
      hangup = true;
      break;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;  // drained (or a spurious wakeup)
    } else {
      hangup = true;
      hangupErrno = errno;
      break;
    }
  }
  if (count > 0) CallJs(Env(), onReadable_, *context_, {Napi::Number::New(Env(), count)});
  if (hangup && poll_) Hangup(hangupErrno);
}

void MessageFd::Hangup(int err) {
  poll_.reset();  // no more events; the fd stays open until close()
  CallJs(Env(), onHangup_, *context_, {Napi::Number::New(Env(), err)});
}

void MessageFd::OnPoll(void* owner, int status, int events) {
  auto* self = static_cast<MessageFd*>(owner);
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  [[maybe_unused]] Napi::Object keepAlive = self->Value();  // a callback may close() and drop the last reference
  if (status < 0) {
    // POLLERR: a socket says why in SO_ERROR; a device (TAP deleted, endpoint gone) does not.
    int err = 0;
    socklen_t len = sizeof err;
    if (self->kind_ != Kind::kSocket || getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = EIO;
    self->Hangup(err);
    return;
  }
  if ((events & UV_READABLE) && self->reading_) self->ReadBatch();
  if (self->poll_ && (events & UV_WRITABLE) && self->wantWritable_) {
    self->wantWritable_ = false;
    self->UpdatePoll();
    CallJs(env, self->onWritable_, *self->context_, {});
  }
  // While reading, the read path sees the end of stream after the queued messages.
  if (self->poll_ && (events & UV_DISCONNECT) && !self->reading_) self->Hangup(0);
}

Napi::Value MessageFd::WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> buffer = BufferArg(info, 0, "writeBatch");
  if (info.Length() < 5 || !info[1].IsNumber() || !info[3].IsNumber() || !info[4].IsNumber())
    throw Napi::TypeError::New(env, "writeBatch(buffer, slotSize, lengths, start, end): numbers expected");
  Napi::Uint32Array lengths = Uint32ArrayArg(info, 2, "writeBatch");
  int64_t slotSize = info[1].As<Napi::Number>().Int64Value();
  int64_t start = info[3].As<Napi::Number>().Int64Value();
  int64_t end = info[4].As<Napi::Number>().Int64Value();
  if (slotSize <= 0 || start < 0 || start > end || end > static_cast<int64_t>(lengths.ElementLength()))
    throw Napi::RangeError::New(env, "writeBatch: need slotSize > 0 and 0 <= start <= end <= lengths.length");
  const uint8_t* base = buffer.Data();
  const uint32_t* len = lengths.Data();
  int64_t written = start;
  lastErrno_ = 0;
  if (batchIoctl_ && fd_ >= 0) {
    // The whole run goes to the module in one ioctl: check every message before any is written.
    for (int64_t i = start; i < end; i++)
      if (len[i] > slotSize || i * slotSize + len[i] > static_cast<int64_t>(buffer.Length()))
        throw Napi::RangeError::New(env, "writeBatch: message " + std::to_string(i) + " (length " +
                                             std::to_string(len[i]) + ") lies outside its slot or the buffer");
    written = RpmsgEthWriteBatch(fd_, base, static_cast<uint32_t>(slotSize), len, static_cast<uint32_t>(start),
                                 static_cast<uint32_t>(end), &lastErrno_);
    return Napi::Number::New(env, static_cast<double>(written - start));
  }
  for (; written < end; written++) {
    uint32_t n = len[written];
    if (n > slotSize || written * slotSize + n > static_cast<int64_t>(buffer.Length()))
      throw Napi::RangeError::New(env, "writeBatch: message " + std::to_string(written) + " (length " +
                                           std::to_string(n) + ") lies outside its slot or the buffer");
    if (fd_ < 0) {
      lastErrno_ = EBADF;
      break;
    }
    if (n == 0) continue;  // the transport contract's mark for a message already dropped
    const uint8_t* msg = base + written * slotSize;
    ssize_t rc;
    do rc = kind_ == Kind::kSocket ? send(fd_, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd_, msg, n);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      lastErrno_ = errno == EWOULDBLOCK ? EAGAIN : errno;
      break;
    }
  }
  return Napi::Number::New(env, static_cast<double>(written - start));
}

Napi::Value MessageFd::PauseRead(const Napi::CallbackInfo& info) {
  reading_ = false;
  UpdatePoll();
  return info.Env().Undefined();
}

Napi::Value MessageFd::ResumeRead(const Napi::CallbackInfo& info) {
  reading_ = true;
  UpdatePoll();
  return info.Env().Undefined();
}

// Calls onWritable() once when the fd can take a message again. rpmsg_char on virtio never reports
// POLLOUT, so its transport must also retry on a timer rather than rely on this alone.
Napi::Value MessageFd::WaitWritable(const Napi::CallbackInfo& info) {
  wantWritable_ = true;
  UpdatePoll();
  return info.Env().Undefined();
}

bool MessageFd::Shutdown() {
  if (fd_ < 0) return false;
  poll_.reset();  // stop polling before the fd number can be reused
  close(fd_);
  fd_ = -1;
  napi_remove_env_cleanup_hook(Env(), Teardown, this);
  return true;
}

Napi::Value MessageFd::Close(const Napi::CallbackInfo& info) {
  if (Shutdown()) Unref();
  return info.Env().Undefined();
}

void InitMessageFd(Napi::Env env, Napi::Object exports) { exports.Set("MessageFd", MessageFd::Define(env)); }

}  // namespace rpmsg_eth
