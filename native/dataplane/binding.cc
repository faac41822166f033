// DataPlane: the JavaScript face of one channel's native data plane (channel.h). A narrow interface:
//   new DataPlane(tapFd, options, { onLinkLost(errno, txInFlight), onModeChange(frag, mtu),
//                                   onCapture(bytes), onTapHangup(errno) })
//   attachSim(dataFd, doorbellFd, ringFd, maxPayload, window) / attachDevice(fd, options): link up
//   detach() -> txInFlight; endpointFd(); readCounters(Float64Array); readFrag(Float64Array)
//   setCapture(Buffer | null); pauseTap(bool); inject(buffer, slotSize, lengths, start, end) -> taken
//   txIdle; close()
// The DataPlane owns the TAP fd and every endpoint fd handed to it (also when a call throws). The
// channel runs on a thread of its own (channel_thread.h); these methods run there synchronously, and its
// events come back to the JavaScript thread through a uv_async on the Node loop.
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "../errno_error.h"
#include "../exports.h"
#include "../unique_fd.h"
#include "channel.h"
#include "channel_thread.h"
#include "device_endpoint.h"
#include "sim_endpoint.h"

namespace rpmsg_eth {

using dp::Channel;

static uint32_t U32(const Napi::Value& v, const char* what, uint32_t min = 0, uint32_t max = UINT32_MAX) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("DataPlane: ") + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<uint32_t>(d))
    throw Napi::RangeError::New(v.Env(), std::string("DataPlane: ") + what + " must be an integer in " +
                                             std::to_string(min) + ".." + std::to_string(max));
  return static_cast<uint32_t>(d);
}

static uint32_t OptU32(const Napi::Object& o, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsUndefined() ? dflt : U32(v, key);
}

static std::vector<int> IntList(const Napi::Object& o, const char* key) {
  std::vector<int> out;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("DataPlane: ") + key + " must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(static_cast<int>(U32(a.Get(i), key)));
  return out;
}

class DataPlane : public Napi::ObjectWrap<DataPlane>, public dp::ChannelEvents {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DataPlane",
                       {InstanceMethod<&DataPlane::AttachSim>("attachSim"),
                        InstanceMethod<&DataPlane::AttachDevice>("attachDevice"),
                        InstanceMethod<&DataPlane::Detach>("detach"),
                        InstanceMethod<&DataPlane::EndpointFd>("endpointFd"),
                        InstanceMethod<&DataPlane::ReadCounters>("readCounters"),
                        InstanceMethod<&DataPlane::ReadFrag>("readFrag"),
                        InstanceMethod<&DataPlane::SetCapture>("setCapture"),
                        InstanceMethod<&DataPlane::PauseTap>("pauseTap"),
                        InstanceMethod<&DataPlane::Inject>("inject"),
                        InstanceMethod<&DataPlane::Close>("close"),
                        InstanceAccessor<&DataPlane::TxIdle>("txIdle")});
  }

  explicit DataPlane(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DataPlane>(info) {
    Napi::Env env = info.Env();
    int tapFd = FdArg(info, 0, "DataPlane");
    if (info.Length() < 3 || !info[1].IsObject() || !info[2].IsObject())
      throw Napi::TypeError::New(env, "DataPlane(tapFd, options, callbacks)");
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Object cb = info[2].As<Napi::Object>();
    dp::ChannelOptions opts;
    opts.tapSlot = U32(o.Get("tapSlot"), "tapSlot", 14, 65536);
    opts.frag = o.Get("frag").ToBoolean();
    opts.maxFrame = opts.frag ? U32(o.Get("maxFrame"), "maxFrame", 14, RPMSG_FRAG_MAX_FRAME) : 0;
    opts.probeResendMs = OptU32(o, "probeResendMs", 0);
    opts.probeGiveUpMs = OptU32(o, "probeGiveUpMs", 0);
    opts.reassemblyTimeoutMs = OptU32(o, "reassemblyTimeoutMs", 0);
    for (const char* name : {"onLinkLost", "onModeChange", "onCapture", "onTapHangup"})
      if (!cb.Get(name).IsFunction()) throw Napi::TypeError::New(env, std::string("DataPlane: ") + name + " must be a function");
    onLinkLost_ = Napi::Persistent(cb.Get("onLinkLost").As<Napi::Function>());
    onModeChange_ = Napi::Persistent(cb.Get("onModeChange").As<Napi::Function>());
    onCapture_ = Napi::Persistent(cb.Get("onCapture").As<Napi::Function>());
    onTapHangup_ = Napi::Persistent(cb.Get("onTapHangup").As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "rpmsg-eth:DataPlane", info.This().As<Napi::Object>());
    uv_loop_t* main = nullptr;
    if (napi_get_uv_event_loop(env, &main) != napi_ok) throw Napi::Error::New(env, "cannot get the event loop");
    // Events from the channel's thread (set up before it starts); while the DataPlane is open this
    // keeps the loop alive, like a socket.
    events_ = new uv_async_t;
    uv_async_init(main, events_, OnEvents);
    events_->data = this;
    try {
      thread_ = std::make_unique<dp::ChannelThread>();
      thread_->Run([&] { channel_ = new Channel(thread_->loop(), tapFd, opts, this); });
    } catch (const std::exception& e) {
      thread_.reset();
      CloseEvents();
      throw Napi::Error::New(env, std::string("DataPlane: ") + e.what());
    }
    napi_add_env_cleanup_hook(env, Teardown, this);
    Ref();
  }

  ~DataPlane() override { Shutdown(); }

  // ChannelEvents: called on the channel's thread (from Channel::Settle()); queued for the JS thread.
  void EndpointLost(int err, uint32_t txInFlight) override { Queue({Event::kLost, err, txInFlight, gen_, {}}); }
  void ModeChanged(bool frag, uint32_t mtu) override { Queue({Event::kMode, frag ? 1 : 0, mtu, gen_, {}}); }
  void TapHangup(int err) override { Queue({Event::kTapHangup, err, 0, gen_, {}}); }
  // At most kCaptureBacklog arenas of records wait for the JavaScript thread; more are lost (counted
  // by the channel), so a busy JavaScript thread never makes native memory grow without bound.
  bool Captured(size_t bytes) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (captureBacklog_ + bytes > kCaptureBacklog * captureArena_.size()) return false;
      captureBacklog_ += bytes;
    }
    Queue({Event::kCapture, 0, 0, gen_, std::vector<uint8_t>(captureArena_.begin(), captureArena_.begin() + bytes)});
    return true;
  }

 private:
  struct Event {
    enum Kind { kLost, kMode, kTapHangup, kCapture } kind;
    int a;
    uint32_t b;
    uint32_t gen;  // the endpoint generation it belongs to: an event of a detached endpoint is dropped
    std::vector<uint8_t> capture;
  };

  void Queue(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.push_back(std::move(e));
    }
    if (events_) uv_async_send(events_);
  }

  static void OnEvents(uv_async_t* handle) {
    auto* self = static_cast<DataPlane*>(handle->data);
    if (self) self->Deliver();
  }

  void Deliver() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    [[maybe_unused]] Napi::Object keepAlive = Value();  // a callback may close() and drop the last reference
    std::vector<Event> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      events.swap(pending_);
      for (const Event& e : events) captureBacklog_ -= e.capture.size();
    }
    for (Event& e : events) {
      if (closed_) return;
      switch (e.kind) {
        case Event::kLost:
          if (e.gen == jsGen_) Call(onLinkLost_, {Napi::Number::New(env, e.a), Napi::Number::New(env, e.b)});
          break;
        case Event::kMode:
          if (e.gen == jsGen_) Call(onModeChange_, {Napi::Boolean::New(env, e.a != 0), Napi::Number::New(env, e.b)});
          break;
        case Event::kTapHangup:
          Call(onTapHangup_, {Napi::Number::New(env, e.a)});
          break;
        case Event::kCapture:
          if (captureRef_.IsEmpty()) break;
          {
            Napi::Buffer<uint8_t> buf = captureRef_.Value();
            size_t n = std::min(e.capture.size(), buf.Length());
            memcpy(buf.Data(), e.capture.data(), n);
            Call(onCapture_, {Napi::Number::New(env, static_cast<double>(n))});
          }
          break;
      }
    }
  }

  void Call(Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) { CallFromEvent(fn, *context_, args); }

  static void Teardown(void* arg) { static_cast<DataPlane*>(arg)->Shutdown(); }

  bool Shutdown() {
    if (!thread_ || closed_) return false;
    closed_ = true;
    Channel* ch = channel_;
    thread_->Stop([ch] { delete ch; });  // closes the TAP and the endpoint on the channel's thread
    channel_ = nullptr;
    thread_.reset();
    captureRef_.Reset();
    CloseEvents();
    napi_remove_env_cleanup_hook(Env(), Teardown, this);
    return true;
  }

  void CloseEvents() {
    if (!events_) return;
    events_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(events_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
    events_ = nullptr;
  }

  // Runs f(channel) on the channel's thread, then lets the channel hand over what it gathered.
  template <class F>
  auto OnChannel(const Napi::CallbackInfo& info, F&& f) -> decltype(f(std::declval<Channel&>())) {
    if (closed_) throw Napi::Error::New(info.Env(), "DataPlane: closed");
    Channel* ch = channel_;
    std::string error;
    using R = decltype(f(*ch));
    if constexpr (std::is_void_v<R>) {
      thread_->Run([&] {
        try {
          f(*ch);
        } catch (const std::exception& e) {
          error = e.what();
        }
        ch->Settle();
      });
      if (!error.empty()) throw Napi::Error::New(info.Env(), error);
    } else {
      R result = thread_->Run([&]() -> R {
        R r{};
        try {
          r = f(*ch);
        } catch (const std::exception& e) {
          error = e.what();
        }
        ch->Settle();
        return r;
      });
      if (!error.empty()) throw Napi::Error::New(info.Env(), error);
      return result;
    }
  }

  Napi::Value AttachSim(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // The endpoint owns the fds once built; until then (a bad argument, a closed plane) they are closed here.
    UniqueFd data(FdArg(info, 0, "attachSim")), bell(FdArg(info, 1, "attachSim")), ring(FdArg(info, 2, "attachSim"));
    uint32_t maxPayload = U32(info[3], "maxPayload", 15, 65536);
    uint32_t window = U32(info[4], "window", 1, 65536);
    uint32_t gen = ++jsGen_;
    try {
      OnChannel(info, [&](Channel& ch) {
        gen_ = gen;
        ch.Attach(std::make_unique<dp::SimEndpoint>(thread_->loop(), &ch, data.release(), bell.release(), ring.release(),
                                                   maxPayload, window));
      });
    } catch (const Napi::Error& e) {
      throw Napi::Error::New(env, std::string("attaching the sim ring: ") + e.Message());
    }
    return env.Undefined();
  }

  Napi::Value AttachDevice(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    UniqueFd fd(FdArg(info, 0, "attachDevice"));  // owned by the endpoint once built, closed here before
    if (info.Length() < 2 || !info[1].IsObject()) throw Napi::TypeError::New(env, "attachDevice(fd, options)");
    Napi::Object o = info[1].As<Napi::Object>();
    dp::DeviceOptions opts;
    opts.maxPayload = U32(o.Get("maxPayload"), "maxPayload", 15, 65536);
    opts.batchIoctl = o.Get("batchIoctl").ToBoolean();
    opts.roomByTimer = o.Get("room").IsString() && o.Get("room").As<Napi::String>().Utf8Value() == "timer";
    opts.busyErrnos = IntList(o, "busyErrnos");
    opts.dropErrnos = IntList(o, "dropErrnos");
    opts.retryMinMs = OptU32(o, "retryMinMs", 2);
    opts.retryMaxMs = OptU32(o, "retryMaxMs", 50);
    uint32_t gen = ++jsGen_;
    try {
      OnChannel(info, [&](Channel& ch) {
        gen_ = gen;
        ch.Attach(std::make_unique<dp::DeviceEndpoint>(thread_->loop(), &ch, fd.release(), opts));
      });
    } catch (const Napi::Error& e) {
      throw Napi::Error::New(env, std::string("attaching the device: ") + e.Message());
    }
    return env.Undefined();
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    if (closed_) return Napi::Number::New(info.Env(), 0);
    jsGen_++;  // what the detached endpoint reported and JavaScript has not seen yet is stale now
    uint32_t inFlight = OnChannel(info, [](Channel& ch) { return ch.Detach(); });
    return Napi::Number::New(info.Env(), inFlight);
  }

  Napi::Value EndpointFd(const Napi::CallbackInfo& info) {
    if (closed_) return Napi::Number::New(info.Env(), -1);
    return Napi::Number::New(info.Env(), OnChannel(info, [](Channel& ch) { return ch.EndpointFd(); }));
  }

  static double* Doubles(const Napi::CallbackInfo& info, size_t need, const char* what) {
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[0].As<Napi::Float64Array>().ElementLength() < need)
      throw Napi::TypeError::New(info.Env(), std::string(what) + ": a Float64Array of " + std::to_string(need) + " is needed");
    return info[0].As<Napi::Float64Array>().Data();
  }

  Napi::Value ReadCounters(const Napi::CallbackInfo& info) {
    double* out = Doubles(info, dp::kCounterCount, "readCounters");
    if (!closed_) OnChannel(info, [out](Channel& ch) { ch.ReadCounters(out); });
    return info.Env().Undefined();
  }

  Napi::Value ReadFrag(const Napi::CallbackInfo& info) {
    double* out = Doubles(info, dp::kFragCount, "readFrag");
    if (!closed_) OnChannel(info, [out](Channel& ch) { ch.ReadFrag(out); });
    return info.Env().Undefined();
  }

  // The channel's thread writes records into captureArena_; each flush is copied to the JS buffer on
  // the JS thread (Deliver), so the two threads never share the JS buffer.
  Napi::Value SetCapture(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
      // Stopping a capture of a closed plane (its channel removed meanwhile) has nothing to do.
      if (!closed_) OnChannel(info, [](Channel& ch) { ch.SetCapture(nullptr, 0); });
      captureRef_.Reset();
      return info.Env().Undefined();
    }
    if (!info[0].IsBuffer()) throw Napi::TypeError::New(info.Env(), "setCapture: a Buffer or null");
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    captureRef_ = Napi::Persistent(buf);
    size_t size = buf.Length();
    OnChannel(info, [this, size](Channel& ch) {
      captureArena_.assign(size, 0);
      ch.SetCapture(captureArena_.data(), size);
    });
    return info.Env().Undefined();
  }

  Napi::Value PauseTap(const Napi::CallbackInfo& info) {
    bool paused = info.Length() > 0 && info[0].ToBoolean();
    OnChannel(info, [paused](Channel& ch) { ch.PauseTap(paused); });
    return info.Env().Undefined();
  }

  Napi::Value Inject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsBuffer() || !info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      throw Napi::TypeError::New(env, "inject(buffer, slotSize, lengths: Uint32Array, start, end)");
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    auto lengths = info[2].As<Napi::Uint32Array>();
    uint32_t slot = U32(info[1], "slotSize", 1, 1u << 20);
    uint32_t start = U32(info[3], "start"), end = U32(info[4], "end");
    if (start > end || end > lengths.ElementLength() || static_cast<size_t>(end) * slot > buf.Length())
      throw Napi::RangeError::New(env, "inject: need start <= end <= lengths.length and end * slotSize <= buffer.length");
    for (uint32_t i = start; i < end; i++)
      if (lengths[i] > slot || lengths[i] == 0)
        throw Napi::RangeError::New(env, "inject: frame " + std::to_string(i) + " is empty or longer than its slot");
    // This thread waits while the channel's thread reads the frames: the buffers stay put.
    const uint8_t* base = buf.Data() + static_cast<size_t>(start) * slot;
    const uint32_t* lens = lengths.Data() + start;
    uint32_t taken = OnChannel(info, [&](Channel& ch) { return ch.Inject(base, slot, lens, end - start); });
    return Napi::Number::New(env, taken);
  }

  Napi::Value TxIdle(const Napi::CallbackInfo& info) {
    if (closed_) return Napi::Boolean::New(info.Env(), true);
    return Napi::Boolean::New(info.Env(), OnChannel(info, [](Channel& ch) { return ch.TxIdle(); }));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Shutdown()) Unref();
    return info.Env().Undefined();
  }

  std::unique_ptr<dp::ChannelThread> thread_;
  Channel* channel_ = nullptr;  // lives on (and is deleted by) the channel's thread
  bool closed_ = false;
  uint32_t jsGen_ = 0;  // the endpoint generation JavaScript knows (JS thread)
  uint32_t gen_ = 0;    // the same, as the channel's thread last set it (channel's thread)
  Napi::FunctionReference onLinkLost_, onModeChange_, onCapture_, onTapHangup_;
  Napi::Reference<Napi::Buffer<uint8_t>> captureRef_;
  std::vector<uint8_t> captureArena_;  // written on the channel's thread
  std::unique_ptr<Napi::AsyncContext> context_;
  uv_async_t* events_ = nullptr;
  static constexpr size_t kCaptureBacklog = 4;
  std::mutex mu_;
  std::vector<Event> pending_;
  size_t captureBacklog_ = 0;  // bytes of capture records in pending_
};

static Napi::Array Names(Napi::Env env, const char* const* names, size_t count) {
  Napi::Array a = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  return a;
}

// sharedRingCreate() -> fd of a fresh shared page for the sim ring (memfd, close-on-exec).
static Napi::Value SharedRingCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = memfd_create("rpmsg-eth-ring", MFD_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "memfd_create", "creating the sim ring's shared page");
  if (ftruncate(fd, SIM_RING_SHARED_SIZE) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "ftruncate", "sizing the sim ring's shared page");
  }
  return Napi::Number::New(env, fd);
}

void InitDataPlane(Napi::Env env, Napi::Object exports) {
  exports.Set("DataPlane", DataPlane::Define(env));
  exports.Set("DATA_PLANE_COUNTERS", Names(env, dp::kCounterNames, dp::kCounterCount));
  exports.Set("DATA_PLANE_FRAG", Names(env, dp::kFragNames, dp::kFragCount));
  exports.Set("sharedRingCreate", Napi::Function::New(env, SharedRingCreate, "sharedRingCreate"));
}

}  // namespace rpmsg_eth
