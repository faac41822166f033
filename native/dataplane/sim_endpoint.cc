#include "sim_endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace rpmsg_eth::dp {

SimEndpoint::SimEndpoint(uv_loop_t* loop, EndpointHost* host, int dataFd, int bellFd, int ringFd,
                         uint32_t maxPayload, uint32_t window)
    : host_(host), data_(dataFd), bell_(bellFd), maxPayload_(maxPayload), window_(window) {
  void* map = mmap(nullptr, SIM_RING_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ringFd, 0);
  int mapErr = errno;
  close(ringFd);
  if (map == MAP_FAILED) {
    Shutdown();
    throw std::runtime_error(std::string("mapping the sim ring's shared page: ") + strerror(mapErr));
  }
  ring_ = static_cast<sim_ring_shared*>(map);
  // The sender's socket holds the ring's bytes until the peer reads them: room for a whole window, or
  // the socket would push back before the ring is full. SO_SNDBUFFORCE needs CAP_NET_ADMIN (the daemon
  // has it); without it, the default stands and a full socket waits for POLLOUT.
  int room = static_cast<int>(window * (maxPayload + 1024));
  if (setsockopt(data_, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) < 0)
    setsockopt(data_, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
  rxSlot_ = (sim_ring_batch_max(maxPayload) + 7) & ~size_t{7};
  rx_.reset(new uint8_t[kRxBatches * rxSlot_]);
  for (uint32_t i = 0; i < kRxBatches; i++) {
    rxIov_[i] = {rx_.get() + i * rxSlot_, rxSlot_};
    rxMsgs_[i] = {};
    rxMsgs_[i].msg_hdr.msg_iov = &rxIov_[i];
    rxMsgs_[i].msg_hdr.msg_iovlen = 1;
  }
  try {
    dataPoll_ = std::make_unique<FdPoll>(loop, data_, this, OnData);
    bellPoll_ = std::make_unique<FdPoll>(loop, bell_, this, OnBell);
  } catch (...) {
    Shutdown();
    throw;
  }
  dataPoll_->Set(UV_READABLE | UV_DISCONNECT);
  bellPoll_->Set(UV_READABLE | UV_DISCONNECT);
}

void SimEndpoint::Shutdown() {
  if (dead_) return;
  dead_ = true;
  dataPoll_.reset();
  bellPoll_.reset();
  if (data_ >= 0) close(data_);
  if (bell_ >= 0) close(bell_);
  data_ = bell_ = -1;
  if (ring_) munmap(ring_, SIM_RING_SHARED_SIZE);
  ring_ = nullptr;
  rx_.reset();
}

uint32_t SimEndpoint::TxInFlight() const {
  return ring_ ? sim_ring_in_flight(&ring_->to_peer, sent_, window_) : 0;
}

uint32_t SimEndpoint::Room() {
  if (dead_ || sockFull_) return 0;
  return window_ - sim_ring_in_flight(&ring_->to_peer, sent_, window_);
}

bool SimEndpoint::WaitForRoom() {
  if (dead_) return true;
  if (sockFull_) {
    dataPoll_->Set(UV_READABLE | UV_WRITABLE | UV_DISCONNECT);
    return true;
  }
  // The window is full: ask the peer for a kick once half of it is free, then look once more.
  if (sim_ring_arm(&ring_->to_peer, sent_, window_) < window_) return false;
  waitingKick_ = true;
  return true;
}

SendResult SimEndpoint::Send(const TxQueue& q, uint32_t max) {
  uint32_t n = max < kBatch ? max : kBatch;
  if (dead_ || n == 0) return {0, SendStatus::kBusy, 0};
  for (bool alone = false;; alone = true) {
    // Batches of the first n messages (one message each after EMSGSIZE, to find the one refused).
    uint32_t d = 0, v = 0, t = 0;
    for (uint32_t i = 0; i < n;) {
      uint32_t headV = v++, headT = t++, count = 0, bytes = 0;
      for (; i < n; i++) {
        Msg m = q.Peek(i);
        if (!sim_ring_batch_fits(count, bytes, m.len) || (alone && count)) break;
        txTable_[t++] = m.len;
        txIov_[v++] = {const_cast<uint8_t*>(m.data), m.len};
        count++;
        bytes += m.len;
      }
      txTable_[headT] = count;
      txIov_[headV] = {&txTable_[headT], 4 * (1 + static_cast<size_t>(count))};
      txMsgs_[d] = {};
      txMsgs_[d].msg_hdr.msg_iov = &txIov_[headV];
      txMsgs_[d].msg_hdr.msg_iovlen = 1 + count;
      txCounts_[d++] = count;
    }
    int sent;
    do sent = sendmmsg(data_, txMsgs_, d, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent > 0) {
      uint32_t taken = 0;
      for (int i = 0; i < sent; i++) taken += txCounts_[i];
      sent_ += taken;
      // A short count hides the error of the next batch: the caller's next call reports it.
      return {taken, SendStatus::kOk, 0};
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      sockFull_ = true;
      return {0, SendStatus::kBusy, 0};
    }
    if (err == EMSGSIZE && txCounts_[0] > 1) continue;  // which message? send them one by one
    if (err == EMSGSIZE) return {0, SendStatus::kDropOversize, err};
    return {0, SendStatus::kLost, err};
  }
}

void SimEndpoint::OnData(void* arg, int status, int events) {
  auto* self = static_cast<SimEndpoint*>(arg);
  if (status < 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(self->data_, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = EIO;
    self->Fail(err);
  } else {
    if ((events & UV_WRITABLE) && self->sockFull_) {
      self->sockFull_ = false;
      self->dataPoll_->Set(UV_READABLE | UV_DISCONNECT);
      self->host_->RoomAgain();
    }
    if (!self->dead_ && (events & (UV_READABLE | UV_DISCONNECT))) self->Receive();
  }
  self->host_->Settle();
}

void SimEndpoint::Fail(int err) {
  if (dead_) return;
  host_->Lost(err);  // the host shuts this endpoint down
}

void SimEndpoint::Receive() {
  int n;
  do n = recvmmsg(data_, rxMsgs_, kRxBatches, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) Fail(errno);
    return;
  }
  uint32_t taken = 0;
  int failure = -1;  // set: the link ends after what came before is delivered (0 = orderly end)
  for (int i = 0; i < n && !dead_ && failure < 0; i++) {
    const uint8_t* b = rx_.get() + i * rxSlot_;
    size_t len = rxMsgs_[i].msg_len;
    if (len == 0) {
      // The end of the stream (recvmmsg reports it as an empty message; a batch is never empty).
      struct pollfd p = {data_, POLLRDHUP, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        failure = 0;
        break;
      }
    }
    uint32_t count = len <= rxSlot_ ? sim_ring_batch_parse(b, len) : 0;
    if (count == 0) {
      failure = EPROTO;  // not a batch of ring buffers: the peer does not speak this ring
      break;
    }
    const uint8_t* m = b + 4 * (1 + static_cast<size_t>(count));
    for (uint32_t k = 0; k < count && !dead_; k++) {
      uint32_t l = sim_ring_u32(b + 4 + 4 * k);
      taken++;
      host_->Received(m, l);
      m += l;
    }
  }
  if (dead_) return;
  if (taken && sim_ring_consume(&ring_->to_daemon, taken)) Kick();
  if (failure >= 0) Fail(failure);
}

void SimEndpoint::Kick() {
  uint32_t v = htonl(ring_->to_daemon.used);
  // Never full in practice (one kick per half window); a lost kick would only delay the peer.
  send(bell_, &v, sizeof v, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void SimEndpoint::OnBell(void* arg, int status, int events) {
  auto* self = static_cast<SimEndpoint*>(arg);
  if (status < 0)
    self->Fail(EIO);
  else if (events & (UV_READABLE | UV_DISCONNECT))
    self->DrainBell();
  self->host_->Settle();
}

void SimEndpoint::DrainBell() {
  bool kicked = false;
  for (;;) {
    uint32_t v;
    ssize_t n = recv(bell_, &v, sizeof v, MSG_DONTWAIT);
    if (n > 0) {
      kicked = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Fail(0);
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(errno);
    break;
  }
  if (kicked && waitingKick_) {
    waitingKick_ = false;
    host_->RoomAgain();
  }
}

}  // namespace rpmsg_eth::dp
