// The thread one channel's data plane runs on: its own libuv loop, asleep in epoll_wait while no fd of
// the channel is ready. Control calls from the JavaScript thread run on it synchronously (Run): they
// are rare, and this way a channel's state is only ever touched by its own thread, with no locks in
// the data path.
//
// Why a thread per channel rather than the Node loop or one thread for all: each channel's forwarding is
// sequential, and separate threads let the kernel schedule the channels independently — spread over
// the cores, a stall of one (preempted on a busy machine) not stalling the others, each getting its
// own share of the CPU as a hand-written relay process per channel would. An idle thread costs no
// wakeups.
#pragma once

#include <uv.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>

namespace rpmsg_eth::dp {

class ChannelThread {
 public:
  ChannelThread();
  ~ChannelThread() { Stop(); }
  ChannelThread(const ChannelThread&) = delete;
  ChannelThread& operator=(const ChannelThread&) = delete;

  uv_loop_t* loop() { return &loop_; }

  // Runs f on the thread and returns its result (or rethrows its exception). Not from the thread itself.
  template <class F>
  auto Run(F&& f) -> decltype(f()) {
    using R = decltype(f());
    std::packaged_task<R()> task(std::forward<F>(f));
    std::future<R> done = task.get_future();
    Post([&task] { task(); });
    return done.get();
  }

  // Runs `last` on the thread, closes its loop's remaining handles, and joins it. Idempotent.
  void Stop(std::function<void()> last = nullptr);

 private:
  static void Main(void* self);
  static void OnAsync(uv_async_t* handle);
  void Post(std::function<void()> fn);

  uv_loop_t loop_;
  uv_async_t async_;
  uv_thread_t thread_;
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false, running_ = false;
};

}  // namespace rpmsg_eth::dp
