// Module entry point of rpmsg_eth_native.node.
#include <errno.h>
#include <napi.h>
#include <unistd.h>

#include "errno_error.h"

#include "exports.h"

namespace rpmsg_eth {

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (index >= info.Length() || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": fd must be a number");
  int fd = info[index].As<Napi::Number>().Int32Value();
  if (fd < 0) throw Napi::RangeError::New(info.Env(), std::string(what) + ": fd must be >= 0");
  return fd;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (index >= info.Length() || !info[index].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": argument " +
                                               std::to_string(index + 1) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

void CallFromEvent(Napi::FunctionReference& fn, Napi::AsyncContext& context, const std::initializer_list<napi_value>& args) {
  Napi::Env env = fn.Env();
  try {
    fn.MakeCallback(env.Global(), args, context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "closeFd");
  // Linux releases the fd even when close() reports EINTR: never retry.
  if (close(fd) < 0 && errno != EINTR)
    ThrowErrno(env, errno, "close", "closing fd " + std::to_string(fd));
  return env.Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  InitTap(env, exports);
  InitSeqpacket(env, exports);
  InitDataPlane(env, exports);
  InitNetnsCall(env, exports);
  InitRpmsgDev(env, exports);
  InitRtnetlink(env, exports);
  InitSdNotify(env, exports);
  InitEthtoolStats(env, exports);
  InitPacketSocket(env, exports);
  InitMallocTuning(env, exports);
  return exports;
}

}  // namespace rpmsg_eth

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return rpmsg_eth::Init(env, exports); }

NODE_API_MODULE(rpmsg_eth_native, InitModule)
