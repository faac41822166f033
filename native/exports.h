// Each part of the binding adds its functions and classes to the module's exports.
#pragma once

#include <napi.h>

namespace rpmsg_eth {

void InitTap(Napi::Env env, Napi::Object exports);
void InitSeqpacket(Napi::Env env, Napi::Object exports);
void InitDataPlane(Napi::Env env, Napi::Object exports);
void InitNetnsCall(Napi::Env env, Napi::Object exports);
void InitRpmsgDev(Napi::Env env, Napi::Object exports);
void InitRtnetlink(Napi::Env env, Napi::Object exports);
void InitSdNotify(Napi::Env env, Napi::Object exports);
void InitEthtoolStats(Napi::Env env, Napi::Object exports);
void InitPacketSocket(Napi::Env env, Napi::Object exports);
void InitMallocTuning(Napi::Env env, Napi::Object exports);

// Argument helpers shared by the parts: they throw a TypeError naming `what` on bad input.
int FdArg(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what);

// Calls a JavaScript callback from a native event (not from a JavaScript call) in `context`: an
// exception it throws is reported as uncaught, as Node.js does for its own event callbacks.
void CallFromEvent(Napi::FunctionReference& fn, Napi::AsyncContext& context, const std::initializer_list<napi_value>& args);

}  // namespace rpmsg_eth
