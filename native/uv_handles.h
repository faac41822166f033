// Small owners of libuv handles (the data plane's polls and timers): the handle lives
// on the heap and is freed by libuv's close callback, so its owner may go away right after Close();
// no callback reaches the owner after Close().
#pragma once

#include <uv.h>

#include <stdexcept>
#include <string>

namespace rpmsg_eth::dp {

class FdPoll {
 public:
  using Callback = void (*)(void* owner, int status, int events);

  // Throws std::runtime_error if libuv cannot poll `fd`. Makes `fd` non-blocking.
  FdPoll(uv_loop_t* loop, int fd, void* owner, Callback callback) : owner_(owner), callback_(callback) {
    handle_ = new uv_poll_t;
    int rc = uv_poll_init(loop, handle_, fd);
    if (rc < 0) {
      delete handle_;
      handle_ = nullptr;
      throw std::runtime_error(std::string("polling fd ") + std::to_string(fd) + ": " + uv_strerror(rc));
    }
    handle_->data = this;
  }
  ~FdPoll() { Close(); }
  FdPoll(const FdPoll&) = delete;
  FdPoll& operator=(const FdPoll&) = delete;

  // UV_READABLE | UV_WRITABLE | UV_DISCONNECT; 0 stops polling. Nothing happens if unchanged.
  void Set(int events) {
    if (!handle_ || events == events_) return;
    events_ = events;
    if (events == 0)
      uv_poll_stop(handle_);
    else
      uv_poll_start(handle_, events, OnPoll);
  }
  int events() const { return events_; }

  void Close() {
    if (!handle_) return;
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdPoll*>(handle->data);
    if (!self) return;
    if (status < 0) self->events_ = 0;  // libuv stopped the handle on POLLERR
    self->callback_(self->owner_, status, events);
  }

  uv_poll_t* handle_ = nullptr;
  void* owner_;
  Callback callback_;
  int events_ = 0;
};

class Timer {
 public:
  using Callback = void (*)(void* owner);

  Timer(uv_loop_t* loop, void* owner, Callback callback) : owner_(owner), callback_(callback) {
    handle_ = new uv_timer_t;
    uv_timer_init(loop, handle_);
    handle_->data = this;
  }
  ~Timer() { Close(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // One shot after `ms` (replaces a pending one).
  void Start(uint64_t ms) {
    if (handle_) uv_timer_start(handle_, OnTimer, ms, 0);
  }
  void Stop() {
    if (handle_) uv_timer_stop(handle_);
  }
  // The timer alone does not keep the loop alive.
  void Unref() {
    if (handle_) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  }
  bool active() const { return handle_ && uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)); }

  void Close() {
    if (!handle_) return;
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    handle_ = nullptr;
  }

 private:
  static void OnTimer(uv_timer_t* handle) {
    auto* self = static_cast<Timer*>(handle->data);
    if (self) self->callback_(self->owner_);
  }

  uv_timer_t* handle_ = nullptr;
  void* owner_;
  Callback callback_;
};

}  // namespace rpmsg_eth::dp
