#include "channel_thread.h"

#include <stdexcept>

namespace rpmsg_eth::dp {

ChannelThread::ChannelThread() {
  if (uv_loop_init(&loop_) != 0) throw std::runtime_error("cannot create the channel's event loop");
  uv_async_init(&loop_, &async_, OnAsync);
  async_.data = this;
  if (uv_thread_create(&thread_, Main, this) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    throw std::runtime_error("cannot start the channel's thread");
  }
  running_ = true;
}

void ChannelThread::Main(void* arg) {
  auto* self = static_cast<ChannelThread*>(arg);
  uv_run(&self->loop_, UV_RUN_DEFAULT);  // until Stop() has closed every handle
}

void ChannelThread::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
  }
  uv_async_send(&async_);
}

void ChannelThread::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<ChannelThread*>(handle->data);
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      if (self->queue_.empty()) return;
      fn = std::move(self->queue_.front());
      self->queue_.pop_front();
    }
    fn();
  }
}

void ChannelThread::Stop(std::function<void()> last) {
  if (!running_) return;
  running_ = false;
  Run([this, &last] {
    if (last) last();
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    // Every other handle was closed by `last`: the loop ends once their close callbacks have run.
  });
  uv_thread_join(&thread_);
  uv_loop_close(&loop_);
}

}  // namespace rpmsg_eth::dp
