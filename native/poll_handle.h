// A uv_poll_t on the Node event loop, owned by a JS-visible object (FdWatch, MessageFd).
// The uv handle lives on the heap and is freed by libuv's close callback, so the owner may be
// destroyed right after Close(); no callback reaches the owner after Close().
#pragma once

#include <napi.h>
#include <uv.h>

namespace rpmsg_eth {

class PollHandle {
 public:
  using Callback = void (*)(void* owner, int status, int events);

  // Throws if libuv cannot poll `fd` (e.g. a regular file).
  PollHandle(Napi::Env env, int fd, void* owner, Callback callback);
  ~PollHandle() { Close(); }
  PollHandle(const PollHandle&) = delete;
  PollHandle& operator=(const PollHandle&) = delete;

  // UV_READABLE | UV_WRITABLE | UV_DISCONNECT; 0 stops polling.
  void Set(int events);
  void Close();

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);

  uv_poll_t* handle_;
  void* owner_;
  Callback callback_;
  int events_ = 0;
};

// Calls a JS callback from a libuv callback: as an async callback (so promises and nextTick queued
// by it run afterwards); an exception it throws goes to process 'uncaughtException'.
// The caller holds a HandleScope.
void CallJs(Napi::Env env, Napi::FunctionReference& fn, Napi::AsyncContext& context,
            const std::initializer_list<napi_value>& args);

}  // namespace rpmsg_eth
