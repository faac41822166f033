// A character-device endpoint: /dev/rpmsg-ethN of our module (kmod) or an rpmsg_char /dev/rpmsgM.
// One message per read()/write(), or whole batches through the module's READ_BATCH/WRITE_BATCH
// ioctls. Room is unknown until a write fails with a busy errno; then it waits for POLLOUT (kmod
// reports it truthfully) or retries on a backing-off timer (rpmsg_char on virtio never reports it).
// Every event of the device is handled in OnPoll(): the one place to add new ones.
#pragma once

#include <stdint.h>

#include <memory>
#include <vector>

#include "endpoint.h"
#include "../uv_handles.h"

namespace rpmsg_eth::dp {

struct DeviceOptions {
  uint32_t maxPayload = 0;
  bool batchIoctl = false;
  bool roomByTimer = false;
  std::vector<int> busyErrnos;  // write errnos meaning "no room now"
  std::vector<int> dropErrnos;  // write errnos that lose just that message (counted as busy)
  uint32_t retryMinMs = 2, retryMaxMs = 50;
};

class DeviceEndpoint : public Endpoint {
 public:
  // Owns fd from here on (closed on Shutdown, also when this throws).
  DeviceEndpoint(uv_loop_t* loop, EndpointHost* host, int fd, const DeviceOptions& opts);
  ~DeviceEndpoint() override { Shutdown(); }

  uint32_t MaxPayload() const override { return opts_.maxPayload; }
  uint32_t Room() override { return dead_ || blocked_ ? 0 : UINT32_MAX; }
  bool WaitForRoom() override;
  SendResult Send(const TxQueue& q, uint32_t max) override;
  int Fd() const override { return fd_; }
  void Shutdown() override;

 private:
  static constexpr uint32_t kBatch = 64;

  static void OnPoll(void* self, int status, int events);
  static void OnRetry(void* self);
  void Receive();
  bool IsIn(const std::vector<int>& list, int err) const;
  void UpdatePoll();

  EndpointHost* host_;
  int fd_;
  DeviceOptions opts_;
  bool blocked_ = false, wantWritable_ = false, dead_ = false;
  uint32_t retryMs_;
  std::unique_ptr<FdPoll> poll_;
  std::unique_ptr<Timer> retry_;
  // kBatch slots of maxPayload + 1 bytes: a device with only .read() shows a message that did not
  // fit by filling the spare byte (one spare after the last slot too).
  std::vector<uint8_t> rx_;
  uint32_t rxLengths_[kBatch];
};

}  // namespace rpmsg_eth::dp
