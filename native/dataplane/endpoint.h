// A channel's endpoint as the data plane sees it: something that takes messages (with a room it may
// know in advance, or learn from EAGAIN), delivers received messages, and can go away. Implemented
// by SimEndpoint (the simulated ring) and DeviceEndpoint (/dev/rpmsg-ethN, rpmsg_char).
#pragma once

#include <stdint.h>

#include "tx_queue.h"

namespace rpmsg_eth::dp {

// What an endpoint tells the channel it belongs to. Calls come from the endpoint's libuv callbacks.
class EndpointHost {
 public:
  virtual ~EndpointHost() = default;
  // One received message; len above the endpoint's maximum payload means it did not fit (bytes cut).
  virtual void Received(const uint8_t* msg, uint32_t len) = 0;
  // Room() may be above zero again after WaitForRoom().
  virtual void RoomAgain() = 0;
  // The endpoint hung up or failed (errno, 0 = orderly end): the channel detaches it.
  virtual void Lost(int err) = 0;
  // End of one libuv callback of the endpoint: the channel hands what it gathered to JavaScript.
  virtual void Settle() = 0;
};

enum class SendStatus {
  kOk,            // `taken` messages went; call again for the rest
  kBusy,          // no room: WaitForRoom()
  kDropOversize,  // the message after the taken ones is refused as too long (EMSGSIZE)
  kDropBusy,      // the message after the taken ones is refused for want of memory: lose just it
  kLost,          // the endpoint is gone (err)
};

struct SendResult {
  uint32_t taken;
  SendStatus status;
  int err;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual uint32_t MaxPayload() const = 0;
  // Messages it can take now: exact for the ring, UINT32_MAX when unknown until a write fails.
  virtual uint32_t Room() = 0;
  // Room() is 0: arrange a RoomAgain(). False when there is room after all (look again).
  virtual bool WaitForRoom() = 0;
  // Offers q[0..max). Never calls the host.
  virtual SendResult Send(const TxQueue& q, uint32_t max) = 0;
  // The fd user space knows the endpoint by (rpmsg_char's destroy ioctl needs it).
  virtual int Fd() const = 0;
  // Frames sent and not yet taken by the remote side, when the ring tells (the sim); else 0.
  virtual uint32_t TxInFlight() const { return 0; }
  // Stops every callback and closes the fds. Idempotent; the object may still be on the stack.
  virtual void Shutdown() = 0;
};

}  // namespace rpmsg_eth::dp
