// The `sim` endpoint: the simulated ring to vx-peer (sim/RING.md). Messages go over a
// SOCK_SEQPACKET data socket in batches, one datagram per batch of ring buffers (sim_ring.h); the
// ring's used indices sit in a shared page, so the window (num-bufs / 2 messages in flight) is known
// without messages, and the doorbell socket carries only kicks, sent when the other side asked for
// one (virtio's VIRTIO_F_EVENT_IDX).
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include <memory>

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
  static constexpr uint32_t kBatch = 64;      // messages offered per Send()
  static constexpr uint32_t kRxBatches = 4;   // batches per recvmmsg

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
  // Receive arena: kRxBatches slots of rxSlot_ bytes (the largest batch); a longer datagram is
  // told by MSG_TRUNC. Not zeroed: only the pages that batches touch are resident.
  std::unique_ptr<uint8_t[]> rx_;
  size_t rxSlot_ = 0;
  mmsghdr rxMsgs_[kRxBatches];
  iovec rxIov_[kRxBatches];
  // Send: a datagram per batch; each batch's iovecs are its length table, then its messages.
  mmsghdr txMsgs_[kBatch];
  iovec txIov_[2 * kBatch];
  uint32_t txTable_[2 * kBatch];
  uint32_t txCounts_[kBatch];
};

}  // namespace rpmsg_eth::dp
