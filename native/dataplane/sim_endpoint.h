// The `sim` endpoint: the simulated ring to vx-peer (sim/RING.md). Frames go over a
// SOCK_SEQPACKET data socket, batched (sendmmsg/recvmmsg); the ring's used indices sit in a shared
// page, so the window (num-bufs / 2 frames in flight) is known without messages, and the doorbell
// socket carries only kicks, sent when the other side asked for one (virtio's VIRTIO_F_EVENT_IDX).
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

#include "../../sim/sim_ring.h"
#include "endpoint.h"
#include "../uv_handles.h"

namespace rpmsg_eth::dp {

class SimEndpoint : public Endpoint {
 public:
  // Owns the three fds from here on (closed on Shutdown, also when this throws).
  SimEndpoint(uv_loop_t* loop, EndpointHost* host, int dataFd, int bellFd, int ringFd, uint32_t maxPayload,
              uint32_t window);
  ~SimEndpoint() override { Shutdown(); }

  uint32_t MaxPayload() const override { return maxPayload_; }
  uint32_t Room() override;
  bool WaitForRoom() override;
  SendResult Send(const TxQueue& q, uint32_t max) override;
  int Fd() const override { return data_; }
  uint32_t TxInFlight() const override;
  void Shutdown() override;

 private:
  static constexpr uint32_t kBatch = 64;

  static void OnData(void* self, int status, int events);
  static void OnBell(void* self, int status, int events);
  void Receive();
  void DrainBell();
  void Kick();
  void Fail(int err);

  EndpointHost* host_;
  int data_ = -1, bell_ = -1;
  sim_ring_shared* ring_ = nullptr;
  uint32_t maxPayload_, window_;
  uint32_t sent_ = 0;           // frames sent toward the peer (free-running, as ring_->to_peer.used)
  bool sockFull_ = false;       // the data socket said EAGAIN: wait for POLLOUT
  bool waitingKick_ = false;    // the window is full and the event index is armed
  bool dead_ = false;
  std::unique_ptr<FdPoll> dataPoll_, bellPoll_;
  // Receive arena: kBatch slots of maxPayload bytes; message lengths come back with MSG_TRUNC.
  std::vector<uint8_t> rx_;
  std::vector<mmsghdr> rxMsgs_;
  std::vector<iovec> rxIov_;
  mmsghdr txMsgs_[kBatch];
  iovec txIov_[kBatch];
};

}  // namespace rpmsg_eth::dp
