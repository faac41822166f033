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
  rx_.resize(static_cast<size_t>(kBatch) * maxPayload);
  rxMsgs_.resize(kBatch);
  rxIov_.resize(kBatch);
  for (uint32_t i = 0; i < kBatch; i++) {
    rxIov_[i] = {rx_.data() + static_cast<size_t>(i) * maxPayload, maxPayload};
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
  std::vector<uint8_t>().swap(rx_);
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
  int sent;
  if (n == 1) {
    Msg m = q.Peek(0);
    ssize_t rc;
    do rc = send(data_, m.data, m.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (rc < 0 && errno == EINTR);
    sent = rc < 0 ? -1 : 1;
  } else {
    for (uint32_t i = 0; i < n; i++) {
      Msg m = q.Peek(i);
      txIov_[i] = {const_cast<uint8_t*>(m.data), m.len};
      txMsgs_[i] = {};
      txMsgs_[i].msg_hdr.msg_iov = &txIov_[i];
      txMsgs_[i].msg_hdr.msg_iovlen = 1;
    }
    do sent = sendmmsg(data_, txMsgs_, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
  }
  if (sent > 0) {
    sent_ += static_cast<uint32_t>(sent);
    // A short count hides the error of the next message: the caller's next call reports it.
    return {static_cast<uint32_t>(sent), SendStatus::kOk, 0};
  }
  int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK) {
    sockFull_ = true;
    return {0, SendStatus::kBusy, 0};
  }
  if (err == EMSGSIZE) return {0, SendStatus::kDropOversize, err};
  return {0, SendStatus::kLost, err};
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
  do n = recvmmsg(data_, rxMsgs_.data(), kBatch, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) Fail(errno);
    return;
  }
  uint32_t taken = 0;
  bool ended = false;
  for (int i = 0; i < n && !dead_; i++) {
    uint32_t len = rxMsgs_[i].msg_len;
    if (len == 0) {
      // An empty message, or the end of the stream (recvmmsg reports that as empty messages too).
      struct pollfd p = {data_, POLLRDHUP, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        ended = true;
        break;
      }
    }
    taken++;
    host_->Received(rx_.data() + static_cast<size_t>(i) * maxPayload_, len);
  }
  if (dead_) return;
  if (taken && sim_ring_consume(&ring_->to_daemon, taken)) Kick();
  if (ended) Fail(0);
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
