#include "channel.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rpmsg_eth::dp {

const char* const kCounterNames[] = {
    "txPackets", "txBytes", "rxPackets", "rxBytes",
    "txOversize", "txBusy", "txLinkDown", "txRunt", "txFraming", "txInterfaceDown", "txTapGone",
    "rxOversize", "rxBusy", "rxLinkDown", "rxRunt", "rxFraming", "rxInterfaceDown", "rxTapGone",
    "txPps", "txBps", "rxPps", "rxBps", "txWaits", "captureMissed",
};
const size_t kCounterCount = sizeof kCounterNames / sizeof kCounterNames[0];
static_assert(sizeof(Counters) == 24 * sizeof(double), "Counters is kCounterNames' doubles in order");

const char* const kFragNames[] = {
    "mode", "peerMaxFrame", "negotiations", "fallbacks",
    "framesSent", "fragmentsSent", "framesOversize", "framesRunt", "rawSignatureDrops", "fragmentsDropped",
    "fragmentsAbandoned", "controlSent",
    "fragmentsReceived", "fragmentsDiscarded", "framesReassembled", "rawFrames", "controlReceived",
    "lost", "duplicate", "truncated", "overlong", "badVersion", "badHeader", "timeout",
};
const size_t kFragCount = sizeof kFragNames / sizeof kFragNames[0];
static_assert(RPMSG_FRAG_NFAILURES == 7, "kFragNames lists the failures of rpmsg_frag.h");

// Where the tail of a frame longer than its slot goes: read whole (the TAP returns its true length),
// never looked at.
static uint8_t overflowTail[65536];

static constexpr uint32_t kEthHeader = RPMSG_FRAG_ETH_HDR_LEN;

// A queued frag fragment's header (docs/frag-wire-spec.md §2): flags at 7, the frame's length at 10.
static bool IsLastFragment(const Msg& m) {
  return m.kind == MsgKind::kFragment && (m.data[7] & RPMSG_FRAG_FLAG_LAST) != 0;
}
static uint32_t FragmentTotal(const Msg& m) { return static_cast<uint32_t>(m.data[10]) << 8 | m.data[11]; }

Channel::Channel(uv_loop_t* loop, int tapFd, const ChannelOptions& opts, ChannelEvents* events)
    : loop_(loop), tapFd_(tapFd), opts_(opts), events_(events) {
  txq_.Reset(kTxSlots, opts.tapSlot);
  scratch_.resize(std::max(opts.tapSlot, opts.maxFrame) + 1);
  if (opts.frag) {
    reassembly_.resize(opts.maxFrame);
    rpmsg_frag_rx_init(&fragRx_, reassembly_.data(), opts.maxFrame, opts.reassemblyTimeoutMs);
    rpmsg_frag_neg_init(&neg_, opts.maxFrame, opts.probeResendMs, opts.probeGiveUpMs);
    negTimer_ = std::make_unique<Timer>(loop, this, OnNegTimer);
  }
  reaper_ = std::make_unique<Timer>(loop, this, [](void* self) { static_cast<Channel*>(self)->zombies_.clear(); });
  reaper_->Unref();
  tapPoll_ = std::make_unique<FdPoll>(loop, tapFd, this, OnTap);  // the caller still owns tapFd if this throws
  cur_ = {NowMs(), 0, 0, 0, 0, true};
  UpdateTapPoll();
}

Channel::~Channel() { Close(); }

void Channel::Close() {
  if (closed_) return;
  closed_ = true;
  tapPoll_.reset();
  negTimer_.reset();
  if (ep_) {
    ep_->Shutdown();
    Bury(std::move(ep_));
  }
  close(tapFd_);
  lost_.clear();
  modes_.clear();
  cap_ = nullptr;
}

uint32_t Channel::NowMs() const {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u);
}

// ---- endpoint -----------------------------------------------------------------------------------

void Channel::Attach(std::unique_ptr<Endpoint> ep) {
  if (closed_) {
    ep->Shutdown();
    throw std::runtime_error("the channel is closed");
  }
  if (ep_) DropEndpoint();
  uint32_t payload = ep->MaxPayload();
  if (opts_.frag && payload < RPMSG_FRAG_MIN_PAYLOAD) {
    ep->Shutdown();
    throw std::range_error("frag framing needs messages of at least " + std::to_string(RPMSG_FRAG_MIN_PAYLOAD) +
                           " bytes; the endpoint carries " + std::to_string(payload));
  }
  if (opts_.frag) {
    // Slots of one message, and enough of them for the largest frame's fragments at once (jumbo
    // frames over small buffers); the queue is empty here.
    uint32_t f = payload - RPMSG_FRAG_HDR_LEN;
    uint32_t slots = std::max(kTxSlots, (opts_.maxFrame + f - 1) / f);
    if (slots != txq_.capacity() || payload != txq_.slotSize()) txq_.Reset(slots, payload);
  }
  ep_ = std::move(ep);
  blocked_ = false;
  if (opts_.frag) {
    if (fragTx_.max_payload != payload) {
      // Counters survive a change of payload (a device that came back different).
      rpmsg_frag_tx kept = fragTx_;
      rpmsg_frag_tx_init(&fragTx_, payload);
      fragTx_.frames_sent = kept.frames_sent;
      fragTx_.frames_oversize = kept.frames_oversize;
      fragTx_.frames_runt = kept.frames_runt;
    }
    // Spec §6.1: probe at every link up, and send no frames until the outcome is known.
    mode_ = Mode::kNegotiating;
    negotiations_++;
    rpmsg_frag_rx_reset(&fragRx_);
    uint32_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != sizeof nonce) nonce = NowMs() ^ static_cast<uint32_t>(getpid());
    uint8_t probe[RPMSG_FRAG_CONTROL_LEN];
    uint32_t len = rpmsg_frag_neg_start(&neg_, NowMs(), nonce, probe, sizeof probe);
    QueueControl(probe, len);
    ScheduleNeg();
  }
  UpdateTapPoll();
}

uint32_t Channel::Detach() {
  if (!ep_) return 0;
  uint32_t inFlight = ep_->TxInFlight();
  DropEndpoint();
  return inFlight;
}

void Channel::Lost(int err) {
  if (!ep_) return;
  uint32_t inFlight = ep_->TxInFlight();
  DropEndpoint();
  lost_.push_back({err, inFlight});
}

void Channel::DropEndpoint() {
  // What was queued for the gone endpoint will not be sent: frames count as linkDown drops, frag
  // fragments and control messages as abandoned (the receiver counts the broken frame), and a frag
  // frame whose last fragment is among them as a linkDown drop too (it was not counted as sent).
  while (txq_.count()) {
    Msg m = txq_.Peek(0);
    if (m.kind == MsgKind::kFrame) {
      TxDrop(m.data, m.len, m.len, kLinkDown);
    } else {
      fragmentsAbandoned_++;
      if (IsLastFragment(m)) c_.txDrops[kLinkDown]++;  // its frame will not be whole
    }
    txq_.Pop(1);
  }
  pendingControlLen_ = 0;
  ep_->Shutdown();
  Bury(std::move(ep_));
  blocked_ = false;
  if (opts_.frag) {
    negTimer_->Stop();
    rpmsg_frag_rx_reset(&fragRx_);
    mode_ = Mode::kNegotiating;
  }
  UpdateTapPoll();
}

// A detached endpoint may still be on the stack (it reported its own loss): it is freed from a
// timer, when no callback runs.
void Channel::Bury(std::unique_ptr<Endpoint> ep) {
  zombies_.push_back(std::move(ep));
  if (reaper_) reaper_->Start(0);
}

// ---- transmit: TAP -> endpoint --------------------------------------------------------------------

void Channel::OnTap(void* arg, int status, int events) {
  auto* self = static_cast<Channel*>(arg);
  if (status < 0) {
    self->TapGone(EIO);
  } else if (events & UV_READABLE) {
    // A wakeup after a quiet spell is most likely one frame (a ping): take it without the read that
    // would say EAGAIN; if more wait, the poll reports them at once and that wakeup drains in batches.
    // A wakeup takes at most kTapBudget frames or kTapBytes bytes, so that channels share the loop
    // fairly by bytes, whatever their MTU.
    uint64_t now = uv_now(self->loop_);
    uint32_t budget = self->tapGreedy_ || now - self->lastTapWakeup_ <= 1 ? kTapBudget : 1;
    self->lastTapWakeup_ = now;
    uint32_t frames = 0, bytes = 0;
    bool drained = false;
    while (frames < budget && bytes < kTapBytes) {
      if (!self->TxReady(false)) break;
      // Raw frames go straight into the endpoint's queue; frag frames (and frames for no endpoint)
      // into the scratch buffer first.
      bool direct = self->ep_ && !self->opts_.frag;
      uint8_t* buf = direct ? self->txq_.Tail() : self->scratch_.data();
      uint32_t cap = direct ? self->txq_.slotSize() : static_cast<uint32_t>(self->scratch_.size());
      struct iovec iov[2] = {{buf, cap}, {overflowTail, sizeof overflowTail}};
      ssize_t len = readv(self->tapFd_, iov, 2);
      if (len < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) self->TapGone(errno);
        drained = true;
        break;
      }
      uint32_t n32 = static_cast<uint32_t>(len);
      self->TakeFrame(buf, n32, std::min(n32, cap), direct);
      // Cut-through: the first frame of a wakeup leaves before the next is read; then batches.
      if (frames++ == 0 || self->txq_.count() >= kFlushEvery) self->Flush();
      bytes += n32;
    }
    // One frame then EAGAIN: quiet again. Stopped by the budget: more may wait, stay greedy. A one-frame
    // wakeup stays quiet: if more frames wait, the poll fires again within the millisecond, which is
    // greedy by itself (so a ping every few ms costs no read that says EAGAIN).
    self->tapGreedy_ = budget > 1 && !(drained && frames <= 1);
    self->Flush();
    self->UpdateTapPoll();
  }
  self->Settle();
}

void Channel::TapGone(int err) {
  if (!tapAlive_) return;
  tapAlive_ = false;
  tapHangup_ = true;
  tapErr_ = err;
  if (tapPoll_) tapPoll_->Set(0);
}

uint32_t Channel::FramesPerMaxFrame() const {
  uint32_t f = fragTx_.frag_payload;
  return f ? (fragTx_.max_frame + f - 1) / f : 1;
}

bool Channel::Block() {
  blocked_ = ep_ ? ep_->WaitForRoom() : false;
  if (blocked_) c_.txWaits++;
  return blocked_;
}

// Whether the transmit path can take one more frame now (arming a wakeup when it cannot).
bool Channel::TxReady(bool injecting) {
  if (closed_ || (!injecting && (jsPaused_ || !tapAlive_))) return false;
  if (!ep_) return true;  // read and dropped as linkDown
  if (opts_.frag && mode_ == Mode::kNegotiating) return false;
  if (blocked_) return false;
  uint32_t need = opts_.frag && mode_ == Mode::kFrag ? FramesPerMaxFrame() : 1;
  for (int tries = 0; tries < 2; tries++) {
    if (txq_.free() >= need && ep_->Room() > txq_.count()) return true;
    if (txq_.count()) Flush();
    if (!ep_) return true;
    if (blocked_) return false;
    if (txq_.free() >= need && ep_->Room() > txq_.count()) return true;
    if (txq_.count() == 0 && Block()) return false;
  }
  return false;
}

void Channel::TakeFrame(uint8_t* frame, uint32_t len, uint32_t avail, bool inTxq) {
  if (!ep_) return TxDrop(frame, avail, len, kLinkDown);
  if (!opts_.frag || mode_ == Mode::kRaw) {
    // Spec rule 3.8: a raw sender must not send what a frag receiver would take for a frag message.
    if (frame[0] == 0x03 && avail >= kEthHeader && rpmsg_frag_has_signature(frame, avail)) {
      if (opts_.frag) rawSignatureDrops_++;
      return TxDrop(frame, avail, len, kFraming);
    }
    if (len > std::min(txq_.slotSize(), ep_->MaxPayload())) return TxDrop(frame, avail, len, kOversize);
    if (!inTxq) memcpy(txq_.Tail(), frame, len);
    txq_.Push(len, MsgKind::kFrame);
    return;
  }
  uint32_t n = rpmsg_frag_tx_begin(&fragTx_, len);
  if (n == 0) return TxDrop(frame, avail, len, len < kEthHeader ? kRunt : kOversize);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t m = rpmsg_frag_tx_fragment(&fragTx_, frame, len, i, txq_.Tail(), txq_.slotSize());
    txq_.Push(m, MsgKind::kFragment);
  }
  // Counted as sent when its last fragment is (Account); captured now, while it is whole.
  Capture(Dir::kTx, kNoDrop, frame, len, len);
}

void Channel::Flush() {
  while (ep_ && !blocked_) {
    if (pendingControlLen_ && txq_.free()) {
      memcpy(txq_.Tail(), pendingControl_, pendingControlLen_);
      txq_.Push(pendingControlLen_, MsgKind::kControl);
      pendingControlLen_ = 0;
    }
    if (!txq_.count()) break;
    uint32_t room = ep_->Room();
    if (room == 0) {
      if (Block()) break;
      continue;
    }
    SendResult r = ep_->Send(txq_, std::min(room, txq_.count()));
    for (uint32_t i = 0; i < r.taken; i++) Account(txq_.Peek(i));
    txq_.Pop(r.taken);
    switch (r.status) {
      case SendStatus::kOk:
        if (r.taken == 0 && Block()) return;
        break;
      case SendStatus::kBusy:
        if (Block()) return;
        break;
      case SendStatus::kDropOversize:
        AccountDropped(txq_.Peek(0), kOversize);
        txq_.Pop(1);
        break;
      case SendStatus::kDropBusy:
        AccountDropped(txq_.Peek(0), kBusy);
        txq_.Pop(1);
        break;
      case SendStatus::kLost:
        Lost(r.err);
        return;
    }
  }
}

void Channel::Account(const Msg& m) {
  switch (m.kind) {
    case MsgKind::kFrame:
      c_.txPackets++;
      c_.txBytes += m.len;
      Capture(Dir::kTx, kNoDrop, m.data, m.len, m.len);
      break;
    case MsgKind::kFragment:
      fragmentsSent_++;
      if (IsLastFragment(m)) {
        c_.txPackets++;
        c_.txBytes += FragmentTotal(m);
      }
      break;
    case MsgKind::kControl:
      controlSent_++;
      break;
  }
}

void Channel::AccountDropped(const Msg& m, Drop reason) {
  if (m.kind == MsgKind::kFrame) {
    TxDrop(m.data, m.len, m.len, reason);
  } else {
    fragmentsDropped_++;  // its frame breaks at the receiver, which counts it
    if (IsLastFragment(m)) c_.txDrops[reason]++;  // and it is not counted as sent
  }
}

void Channel::TxDrop(const uint8_t* frame, uint32_t avail, uint32_t len, Drop reason) {
  c_.txDrops[reason]++;
  Capture(Dir::kTx, reason, frame, avail, len);
}

void Channel::RoomAgain() {
  if (!ep_) return;
  blocked_ = false;
  Flush();
  UpdateTapPoll();
}

void Channel::UpdateTapPoll() {
  if (!tapPoll_) return;
  bool want = tapAlive_ && !closed_ && !jsPaused_ &&
              (!ep_ || (!blocked_ && !(opts_.frag && mode_ == Mode::kNegotiating)));
  tapPoll_->Set(want ? UV_READABLE : 0);
}

void Channel::PauseTap(bool paused) {
  jsPaused_ = paused;
  UpdateTapPoll();
}

uint32_t Channel::Inject(const uint8_t* base, uint32_t slotSize, const uint32_t* lengths, uint32_t count) {
  uint32_t i = 0;
  for (; i < count; i++) {
    if (!TxReady(true)) break;
    uint32_t len = lengths[i];
    const uint8_t* frame = base + static_cast<size_t>(i) * slotSize;
    bool direct = ep_ && !opts_.frag && len <= txq_.slotSize();
    uint8_t* buf = direct ? txq_.Tail() : scratch_.data();
    uint32_t avail = std::min<uint32_t>(len, direct ? txq_.slotSize() : static_cast<uint32_t>(scratch_.size()));
    memcpy(buf, frame, avail);
    TakeFrame(buf, len, avail, direct);
    if (i == 0 || txq_.count() >= kFlushEvery) Flush();
  }
  Flush();
  UpdateTapPoll();
  return i;
}

// ---- receive: endpoint -> TAP ---------------------------------------------------------------------

void Channel::Received(const uint8_t* msg, uint32_t len) {
  if (!ep_) return;
  uint32_t payload = ep_->MaxPayload();
  if (len > payload) return RxDrop(msg, payload, len, kOversize);
  if (len < kEthHeader) return RxDrop(msg, len, len, kRunt);
  if (!opts_.frag) return ToTap(msg, len);
  const uint8_t* frame;
  uint32_t frameLen;
  switch (rpmsg_frag_rx_push(&fragRx_, msg, len, NowMs(), &frame, &frameLen)) {
    case RPMSG_FRAG_RX_FRAME:
      ToTap(frame, frameLen);
      break;
    case RPMSG_FRAG_RX_CONTROL: {
      uint8_t reply[RPMSG_FRAG_CONTROL_LEN];
      uint32_t replyLen;
      enum rpmsg_frag_neg_outcome outcome = rpmsg_frag_neg_on_control(&neg_, msg, len, reply, sizeof reply, &replyLen);
      if (replyLen) QueueControl(reply, replyLen);
      ApplyOutcome(outcome);
      break;
    }
    default:
      break;
  }
  SyncFragFailures();
}

void Channel::ToTap(const uint8_t* frame, uint32_t len) {
  ssize_t rc;
  do rc = write(tapFd_, frame, len);
  while (rc < 0 && errno == EINTR);
  if (rc >= 0) {
    c_.rxPackets++;
    c_.rxBytes += len;
    Capture(Dir::kRx, kNoDrop, frame, len, len);
    return;
  }
  // The TAP refused it: its queue is full (busy), the interface is set down (EIO), the frame is not one
  // (EINVAL; Received() checks that first) — or the interface is gone (EBADFD): then the channel is too.
  int err = errno;
  if (err == EAGAIN || err == ENOBUFS || err == ENOMEM) return RxDrop(frame, len, len, kBusy);
  if (err == EIO) return RxDrop(frame, len, len, kInterfaceDown);
  if (err == EINVAL) return RxDrop(frame, len, len, kRunt);
  RxDrop(frame, len, len, kTapGone);
  TapGone(err);
}

void Channel::RxDrop(const uint8_t* msg, uint32_t avail, uint32_t len, Drop reason) {
  c_.rxDrops[reason]++;
  Capture(Dir::kRx, reason, msg, avail, len);
}

// Every failed reassembly is one frame lost on the way in: a framing drop (not captured: no frame).
void Channel::SyncFragFailures() {
  uint32_t total = 0;
  for (int i = 0; i < RPMSG_FRAG_NFAILURES; i++) total += fragRx_.failures[i];
  c_.rxDrops[kFraming] += total - failuresReported_;
  failuresReported_ = total;
}

// ---- frag negotiation -----------------------------------------------------------------------------

// Control messages queue behind whole frames, never between fragments; when the queue is full the
// latest one waits (only the latest probe or reply matters).
void Channel::QueueControl(const uint8_t* msg, uint32_t len) {
  if (!ep_ || len == 0) return;
  if (txq_.free() && !pendingControlLen_) {
    memcpy(txq_.Tail(), msg, len);
    txq_.Push(len, MsgKind::kControl);
  } else {
    memcpy(pendingControl_, msg, len);
    pendingControlLen_ = len;
  }
  Flush();
}

void Channel::ApplyOutcome(enum rpmsg_frag_neg_outcome outcome) {
  if (!ep_) return;
  // A restarted peer's PROBE may announce another maxFrame while in frag mode: frames follow it.
  if (outcome == RPMSG_FRAG_NEG_SAME &&
      !(mode_ == Mode::kFrag && rpmsg_frag_neg_send_max_frame(&neg_) != fragTx_.max_frame))
    return;
  if (outcome == RPMSG_FRAG_NEG_TO_RAW) {
    mode_ = Mode::kRaw;
    fallbacks_++;
    modes_.push_back({false, ep_->MaxPayload() - kEthHeader});
  } else {
    mode_ = Mode::kFrag;
    rpmsg_frag_tx_set_max_frame(&fragTx_, rpmsg_frag_neg_send_max_frame(&neg_));
    modes_.push_back({true, fragTx_.max_frame - kEthHeader});
  }
  ScheduleNeg();
  Flush();
  UpdateTapPoll();
}

void Channel::ScheduleNeg() {
  if (!negTimer_) return;
  uint32_t next = ep_ ? rpmsg_frag_neg_next_poll(&neg_, NowMs()) : 0;
  if (next)
    negTimer_->Start(next);
  else
    negTimer_->Stop();
}

void Channel::OnNegTimer(void* arg) {
  auto* self = static_cast<Channel*>(arg);
  if (self->ep_) {
    uint8_t msg[RPMSG_FRAG_CONTROL_LEN];
    uint32_t len;
    enum rpmsg_frag_neg_outcome outcome = rpmsg_frag_neg_poll(&self->neg_, self->NowMs(), msg, sizeof msg, &len);
    if (len) self->QueueControl(msg, len);
    self->ApplyOutcome(outcome);
    self->ScheduleNeg();
  }
  self->Settle();
}

// ---- counters, capture, events --------------------------------------------------------------------

void Channel::RollRates(uint32_t now) {
  if (static_cast<uint32_t>(now - cur_.at) < 1000) return;
  prev_ = cur_;
  cur_ = {now, c_.txPackets, c_.txBytes, c_.rxPackets, c_.rxBytes, true};
}

void Channel::ReadCounters(double* out) {
  uint32_t now = NowMs();
  if (opts_.frag) {
    rpmsg_frag_rx_tick(&fragRx_, now);  // a reassembly that timed out counts now, not at the next message
    SyncFragFailures();
  }
  // Rates over the last window of at least a second: the one running if it is that old (traffic
  // stopped), else the one before it.
  Counters c = c_;
  uint32_t age = now - cur_.at;
  if (age >= 1000) {
    double s = age / 1000.0;
    c.txPps = (c_.txPackets - cur_.txp) / s;
    c.txBps = (c_.txBytes - cur_.txb) / s;
    c.rxPps = (c_.rxPackets - cur_.rxp) / s;
    c.rxBps = (c_.rxBytes - cur_.rxb) / s;
  } else if (prev_.valid) {
    double s = static_cast<uint32_t>(cur_.at - prev_.at) / 1000.0;
    c.txPps = (cur_.txp - prev_.txp) / s;
    c.txBps = (cur_.txb - prev_.txb) / s;
    c.rxPps = (cur_.rxp - prev_.rxp) / s;
    c.rxBps = (cur_.rxb - prev_.rxb) / s;
  }
  memcpy(out, &c, sizeof c);
}

void Channel::ReadFrag(double* out) {
  std::fill(out, out + kFragCount, 0.0);
  if (!opts_.frag) return;
  rpmsg_frag_rx_tick(&fragRx_, NowMs());
  SyncFragFailures();
  size_t i = 0;
  out[i++] = mode_ == Mode::kNegotiating ? 0 : mode_ == Mode::kFrag ? 1 : 2;
  out[i++] = neg_.peer_max_frame;
  out[i++] = negotiations_;
  out[i++] = fallbacks_;
  out[i++] = fragTx_.frames_sent;
  out[i++] = fragmentsSent_;
  out[i++] = fragTx_.frames_oversize;
  out[i++] = fragTx_.frames_runt;
  out[i++] = rawSignatureDrops_;
  out[i++] = fragmentsDropped_;
  out[i++] = fragmentsAbandoned_;
  out[i++] = controlSent_;
  out[i++] = fragRx_.fragments_received;
  out[i++] = fragRx_.fragments_discarded;
  out[i++] = fragRx_.frames_reassembled;
  out[i++] = fragRx_.raw_frames;
  out[i++] = fragRx_.control_received;
  for (int f = 0; f < RPMSG_FRAG_NFAILURES; f++) out[i++] = fragRx_.failures[f];
}

void Channel::SetCapture(uint8_t* buf, size_t size) {
  cap_ = buf;
  capSize_ = buf ? size : 0;
  capUsed_ = 0;
  capRecords_ = 0;
}

void Channel::Capture(Dir dir, uint8_t reason, const uint8_t* data, uint32_t len, uint32_t original) {
  if (!cap_ || inCaptureFlush_) return;
  size_t need = 12 + ((static_cast<size_t>(len) + 3) & ~size_t{3});
  if (capUsed_ + need > capSize_) {
    FlushCapture();
    if (!cap_ || need > capSize_) return;
  }
  uint8_t* p = cap_ + capUsed_;
  p[0] = static_cast<uint8_t>(dir);
  p[1] = reason;
  p[2] = p[3] = 0;
  memcpy(p + 4, &original, 4);
  memcpy(p + 8, &len, 4);
  memcpy(p + 12, data, len);
  capUsed_ += need;
  capRecords_++;
}

void Channel::FlushCapture() {
  if (!cap_ || capUsed_ == 0 || inCaptureFlush_) return;
  size_t used = capUsed_;
  inCaptureFlush_ = true;
  if (!events_->Captured(used)) c_.captureMissed += capRecords_;
  inCaptureFlush_ = false;
  capUsed_ = 0;
  capRecords_ = 0;
}

void Channel::Settle() {
  if (settling_ || closed_) return;
  settling_ = true;
  RollRates(NowMs());
  // Events may cause more (JavaScript calling back in): deliver until there are none.
  for (int round = 0; round < 8 && !closed_; round++) {
    FlushCapture();
    if (lost_.empty() && modes_.empty() && !tapHangup_) break;
    std::vector<LostEvent> lost;
    lost.swap(lost_);
    std::vector<ModeEvent> modes;
    modes.swap(modes_);
    bool hangup = tapHangup_;
    tapHangup_ = false;
    for (const auto& e : lost) events_->EndpointLost(e.err, e.inFlight);
    for (const auto& e : modes) events_->ModeChanged(e.frag, e.mtu);
    if (hangup) events_->TapHangup(tapErr_);
  }
  settling_ = false;
}

}  // namespace rpmsg_eth::dp
