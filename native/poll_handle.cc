#include "poll_handle.h"

#include "errno_error.h"

namespace rpmsg_eth {

PollHandle::PollHandle(Napi::Env env, int fd, void* owner, Callback callback)
    : handle_(new uv_poll_t), owner_(owner), callback_(callback) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    delete handle_;
    throw Napi::Error::New(env, "cannot get the event loop");
  }
  int rc = uv_poll_init(loop, handle_, fd);
  if (rc < 0) {
    delete handle_;
    handle_ = nullptr;
    ThrowErrno(env, -rc, "uv_poll_init", "polling fd " + std::to_string(fd));
  }
  handle_->data = this;
}

void PollHandle::Set(int events) {
  if (!handle_ || events == events_) return;
  events_ = events;
  if (events == 0)
    uv_poll_stop(handle_);
  else
    uv_poll_start(handle_, events, OnPoll);
}

void PollHandle::Close() {
  if (!handle_) return;
  // uv_close stops polling and removes the fd from epoll now; the memory goes later.
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  handle_ = nullptr;
}

void PollHandle::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<PollHandle*>(handle->data);
  if (!self) return;
  // libuv stops the handle itself on POLLERR: keep our idea of the state in step.
  if (status < 0) self->events_ = 0;
  self->callback_(self->owner_, status, events);
}

void CallJs(Napi::Env env, Napi::FunctionReference& fn, Napi::AsyncContext& context,
            const std::initializer_list<napi_value>& args) {
  try {
    fn.MakeCallback(env.Global(), args, context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace rpmsg_eth
