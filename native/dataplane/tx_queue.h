// The messages waiting for a channel's endpoint: a ring of fixed-size slots, filled straight from
// the TAP (raw frames) or by the frag encoder (fragments), emptied by the endpoint in batches.
#pragma once

#include <stdint.h>

#include <vector>

namespace rpmsg_eth::dp {

enum class MsgKind : uint8_t {
  kFrame,     // a whole frame (raw framing): counted as sent when the endpoint takes it
  kFragment,  // a frag fragment: the frame was counted when it was cut
  kControl,   // a frag control message (PROBE, PROBE_REPLY)
};

struct Msg {
  const uint8_t* data;
  uint32_t len;
  MsgKind kind;
};

class TxQueue {
 public:
  void Reset(uint32_t capacity, uint32_t slotSize) {
    capacity_ = capacity;
    slotSize_ = slotSize;
    arena_.assign(static_cast<size_t>(capacity) * slotSize, 0);
    len_.assign(capacity, 0);
    kind_.assign(capacity, MsgKind::kFrame);
    head_ = count_ = 0;
  }

  uint32_t slotSize() const { return slotSize_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t count() const { return count_; }
  uint32_t free() const { return capacity_ - count_; }

  // Where the next message goes (free() > 0).
  uint8_t* Tail() { return Slot((head_ + count_) % capacity_); }
  void Push(uint32_t len, MsgKind kind) {
    uint32_t i = (head_ + count_) % capacity_;
    len_[i] = len;
    kind_[i] = kind;
    count_++;
  }

  // Message i of the queue (0 = oldest).
  Msg Peek(uint32_t i) const {
    uint32_t at = (head_ + i) % capacity_;
    return {arena_.data() + static_cast<size_t>(at) * slotSize_, len_[at], kind_[at]};
  }

  void Pop(uint32_t n) {
    head_ = (head_ + n) % capacity_;
    count_ -= n;
    if (count_ == 0) head_ = 0;
  }

 private:
  uint8_t* Slot(uint32_t i) { return arena_.data() + static_cast<size_t>(i) * slotSize_; }

  std::vector<uint8_t> arena_;
  std::vector<uint32_t> len_;
  std::vector<MsgKind> kind_;
  uint32_t capacity_ = 0, slotSize_ = 0, head_ = 0, count_ = 0;
};

}  // namespace rpmsg_eth::dp
