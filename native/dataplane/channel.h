// One channel's data plane: TAP <-> framing <-> endpoint, entirely in native code, on the channel's own
// thread and libuv loop (channel_thread.h says why a thread per channel). Frames never enter
// JavaScript; JavaScript attaches and detaches endpoints, reads counters when asked, and hears (through
// ChannelEvents, gathered per wakeup in Settle()) of link loss, frag mode changes, a TAP that went
// away, and the frames of a running capture.
//
// Transmit: the TAP is read only while the endpoint has room (the kernel's queue holds the rest,
// which is the back-pressure); frames (or their frag fragments) are queued and handed to the
// endpoint in batches, the first frame of a wakeup at once (cut-through). Receive: each message the
// endpoint delivers is checked, reassembled (frag) and written to the TAP.
#pragma once

#include <stdint.h>

#include <memory>
#include <vector>

#include "../../frag/rpmsg_frag.h"
#include "endpoint.h"
#include "tx_queue.h"
#include "../uv_handles.h"

namespace rpmsg_eth::dp {

// Drop reasons, in the order of src/bridge/counters.ts's DROP_REASONS. kInterfaceDown: the TAP refused a
// frame because the interface is administratively down; kTapGone: the interface was deleted.
enum Drop : uint8_t { kOversize = 0, kBusy, kLinkDown, kRunt, kFraming, kInterfaceDown, kTapGone, kNumDrops };
enum class Dir : uint8_t { kTx = 0, kRx = 1 };
constexpr uint8_t kNoDrop = 0xff;

// Counters in the order of kCounterNames (exported to JavaScript with the binding).
struct Counters {
  double txPackets = 0, txBytes = 0, rxPackets = 0, rxBytes = 0;
  double txDrops[kNumDrops] = {}, rxDrops[kNumDrops] = {};
  double txPps = 0, txBps = 0, rxPps = 0, rxBps = 0;  // filled by ReadCounters
  double txWaits = 0;  // times the endpoint had no room and the TAP waited (the ring window was full)
  double captureMissed = 0;  // capture records lost: JavaScript had not taken the earlier ones yet
};

// What the channel tells its owner; called from Settle(), never in the middle of the work, on the
// channel's thread.
class ChannelEvents {
 public:
  virtual ~ChannelEvents() = default;
  virtual void EndpointLost(int err, uint32_t txInFlight) = 0;
  virtual void ModeChanged(bool frag, uint32_t mtu) = 0;
  virtual void TapHangup(int err) = 0;
  // `bytes` of capture records are in the capture buffer (see SetCapture). False: not taken
  // (JavaScript is too far behind), the records are lost and counted.
  virtual bool Captured(size_t bytes) = 0;
};

struct ChannelOptions {
  uint32_t tapSlot = 0;  // largest frame read from the TAP whole (raw: the payload; frag: MTU + 14)
  bool frag = false;
  uint32_t maxFrame = 0;  // frag: own frame limit (MTU + 14)
  uint32_t probeResendMs = 0, probeGiveUpMs = 0, reassemblyTimeoutMs = 0;  // 0: the spec's
};

class Channel : public EndpointHost {
 public:
  Channel(uv_loop_t* loop, int tapFd, const ChannelOptions& opts, ChannelEvents* events);
  ~Channel() override;

  // Link up with a new endpoint (the previous one, if any, detached first). Frag: negotiation starts.
  void Attach(std::unique_ptr<Endpoint> ep);
  // Link down by the owner's decision; returns the frames in flight toward the remote side.
  uint32_t Detach();
  int EndpointFd() const { return ep_ ? ep_->Fd() : -1; }

  // kCounterCount doubles; frag: kFragCount doubles (zeros for a raw channel).
  void ReadCounters(double* out);
  void ReadFrag(double* out);

  // Capture: records go to buf (JS-owned, stays valid until SetCapture(nullptr, 0)):
  //   u8 direction (0 tx, 1 rx), u8 drop reason (255 = none), u16 0, u32 original length,
  //   u32 captured length, the bytes, padding to 4.
  void SetCapture(uint8_t* buf, size_t size);
  void PauseTap(bool paused);
  // Frames offered as if read from the TAP (replay); returns how many were taken.
  uint32_t Inject(const uint8_t* base, uint32_t slotSize, const uint32_t* lengths, uint32_t count);
  bool TxIdle() const { return txq_.count() == 0; }
  // Closes the TAP and the endpoint; no event afterwards.
  void Close();

  // EndpointHost
  void Received(const uint8_t* msg, uint32_t len) override;
  void RoomAgain() override;
  void Lost(int err) override;
  void Settle() override;

 private:
  enum class Mode : uint8_t { kNegotiating, kFrag, kRaw };
  static constexpr uint32_t kTapBudget = 64;     // frames per TAP wakeup (fairness between channels)
  static constexpr uint32_t kTapBytes = 65536;   // and bytes
  static constexpr uint32_t kFlushEvery = 16;  // after the first frame of a wakeup, batches of this many
  static constexpr uint32_t kTxSlots = 64;

  static void OnTap(void* self, int status, int events);
  static void OnNegTimer(void* self);

  bool TxReady(bool injecting);
  bool Block();
  void TakeFrame(uint8_t* frame, uint32_t len, uint32_t avail, bool inTxq);
  void Flush();
  void Account(const Msg& m);
  void AccountDropped(const Msg& m, Drop reason);
  void TxDrop(const uint8_t* frame, uint32_t avail, uint32_t len, Drop reason);
  void ToTap(const uint8_t* frame, uint32_t len);
  void RxDrop(const uint8_t* msg, uint32_t avail, uint32_t len, Drop reason);
  void QueueControl(const uint8_t* msg, uint32_t len);
  void ApplyOutcome(enum rpmsg_frag_neg_outcome outcome);
  void ScheduleNeg();
  void SyncFragFailures();
  void DropEndpoint();
  void UpdateTapPoll();
  void TapGone(int err);
  void Capture(Dir dir, uint8_t reason, const uint8_t* data, uint32_t len, uint32_t original);
  void FlushCapture();
  uint32_t FramesPerMaxFrame() const;
  uint32_t NowMs() const;
  void RollRates(uint32_t now);
  void Bury(std::unique_ptr<Endpoint> ep);

  uv_loop_t* loop_;
  int tapFd_;
  ChannelOptions opts_;
  ChannelEvents* events_;
  std::unique_ptr<FdPoll> tapPoll_;
  bool tapAlive_ = true, jsPaused_ = false, blocked_ = false, closed_ = false, settling_ = false;
  bool inCaptureFlush_ = false;
  uint64_t lastTapWakeup_ = 0;  // uv_now() of the last TAP wakeup
  bool tapGreedy_ = true;       // the last TAP wakeup stopped at its budget or found several frames

  std::unique_ptr<Endpoint> ep_;
  std::vector<std::unique_ptr<Endpoint>> zombies_;
  std::unique_ptr<Timer> reaper_;
  TxQueue txq_;
  std::vector<uint8_t> scratch_;  // frames read while there is no endpoint, and frag frames

  Counters c_;

  // frag
  Mode mode_ = Mode::kNegotiating;
  rpmsg_frag_tx fragTx_{};
  rpmsg_frag_rx fragRx_{};
  rpmsg_frag_neg neg_{};
  std::vector<uint8_t> reassembly_;
  std::unique_ptr<Timer> negTimer_;
  uint8_t pendingControl_[RPMSG_FRAG_CONTROL_LEN];
  uint32_t pendingControlLen_ = 0;
  uint32_t failuresReported_ = 0;
  double negotiations_ = 0, fallbacks_ = 0, fragmentsSent_ = 0, controlSent_ = 0, rawSignatureDrops_ = 0,
         fragmentsDropped_ = 0, fragmentsAbandoned_ = 0;

  // capture
  uint8_t* cap_ = nullptr;
  size_t capSize_ = 0, capUsed_ = 0;
  uint32_t capRecords_ = 0;  // records in capUsed_

  // deferred events
  struct LostEvent { int err; uint32_t inFlight; };
  std::vector<LostEvent> lost_;
  struct ModeEvent { bool frag; uint32_t mtu; };
  std::vector<ModeEvent> modes_;
  bool tapHangup_ = false;
  int tapErr_ = 0;

  // rates: counters at the start of the current and the previous window of >= 1 s
  struct Sample { uint32_t at; double txp, txb, rxp, rxb; bool valid; };
  Sample cur_{}, prev_{};
};

// Names of Counters' fields and of ReadFrag's values, in order (for JavaScript).
extern const char* const kCounterNames[];
extern const size_t kCounterCount;
extern const char* const kFragNames[];
extern const size_t kFragCount;

}  // namespace rpmsg_eth::dp
