// FdWatch(fd, onReadable): calls onReadable() whenever fd is readable (e.g. a listening socket
// with a connection waiting), until close(). Does not own or close the fd.
#include <memory>

#include "exports.h"
#include "uv_handles.h"

namespace rpmsg_eth {

class FdWatch : public Napi::ObjectWrap<FdWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatch", {InstanceMethod<&FdWatch::Close>("close")});
  }

  explicit FdWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatch>(info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0, "FdWatch");
    if (info.Length() < 2 || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "FdWatch: onReadable must be a function");
    onReadable_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "rpmsg-eth:FdWatch", info.This().As<Napi::Object>());
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "cannot get the event loop");
    try {
      poll_ = std::make_unique<dp::FdPoll>(loop, fd, this, OnPoll);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("FdWatch: ") + e.what());
    }
    poll_->Set(UV_READABLE);
    napi_add_env_cleanup_hook(env, Teardown, this);
    Ref();  // an active watch stays alive without a JS reference, like a socket
  }

  ~FdWatch() override { Stop(); }

 private:
  static void OnPoll(void* owner, int /*status*/, int /*events*/) {
    auto* self = static_cast<FdWatch*>(owner);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    [[maybe_unused]] Napi::Object keepAlive = self->Value();
    // On POLLERR libuv has stopped polling; the callback's next accept() reports the error. An
    // exception the callback throws goes to process 'uncaughtException'.
    try {
      self->onReadable_.MakeCallback(env.Global(), {}, *self->context_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  static void Teardown(void* arg) { static_cast<FdWatch*>(arg)->Stop(); }

  bool Stop() {
    if (!poll_) return false;
    poll_.reset();
    napi_remove_env_cleanup_hook(Env(), Teardown, this);
    return true;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Stop()) Unref();
    return info.Env().Undefined();
  }

  Napi::FunctionReference onReadable_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::unique_ptr<dp::FdPoll> poll_;
};

void InitFdWatch(Napi::Env env, Napi::Object exports) { exports.Set("FdWatch", FdWatch::Define(env)); }

}  // namespace rpmsg_eth
