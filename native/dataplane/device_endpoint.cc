#include "device_endpoint.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "../rpmsg_dev.h"

namespace rpmsg_eth::dp {

DeviceEndpoint::DeviceEndpoint(uv_loop_t* loop, EndpointHost* host, int fd, const DeviceOptions& opts)
    : host_(host), fd_(fd), opts_(opts), retryMs_(opts.retryMinMs) {
  if (opts_.batchIoctl && !RpmsgEthProbe(fd)) {
    Shutdown();
    throw std::runtime_error("batchIoctl needs an rpmsg-eth device (the fd does not answer RPMSG_ETH_IOC_INFO)");
  }
  rx_.resize(static_cast<size_t>(kBatch) * (opts_.maxPayload + 1) + 1);
  try {
    poll_ = std::make_unique<FdPoll>(loop, fd_, this, OnPoll);
    if (opts_.roomByTimer) retry_ = std::make_unique<Timer>(loop, this, OnRetry);
  } catch (...) {
    Shutdown();
    throw;
  }
  UpdatePoll();
}

void DeviceEndpoint::Shutdown() {
  if (dead_) return;
  dead_ = true;
  poll_.reset();
  retry_.reset();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  std::vector<uint8_t>().swap(rx_);
}

void DeviceEndpoint::UpdatePoll() {
  if (poll_) poll_->Set(UV_READABLE | (wantWritable_ ? UV_WRITABLE : 0));
}

bool DeviceEndpoint::IsIn(const std::vector<int>& list, int err) const {
  return std::find(list.begin(), list.end(), err) != list.end();
}

bool DeviceEndpoint::WaitForRoom() {
  if (dead_ || !blocked_) return dead_;
  if (opts_.roomByTimer) {
    if (!retry_->active()) {
      retry_->Start(retryMs_);
      retryMs_ = std::min(retryMs_ * 2, opts_.retryMaxMs);
    }
  } else {
    wantWritable_ = true;
    UpdatePoll();
  }
  return true;
}

SendResult DeviceEndpoint::Send(const TxQueue& q, uint32_t max) {
  if (dead_) return {0, SendStatus::kBusy, 0};
  uint32_t taken = 0;
  int err = 0;
  if (opts_.batchIoctl) {
    const uint8_t* data[RPMSG_ETH_WRITE_MAX];
    uint32_t lens[RPMSG_ETH_WRITE_MAX];
    uint32_t n = std::min<uint32_t>(max, RPMSG_ETH_WRITE_MAX);
    for (uint32_t i = 0; i < n; i++) {
      Msg m = q.Peek(i);
      data[i] = m.data;
      lens[i] = m.len;
    }
    taken = RpmsgEthWriteFrames(fd_, data, lens, n, &err);
  } else {
    for (; taken < max; taken++) {
      Msg m = q.Peek(taken);
      ssize_t rc;
      do rc = write(fd_, m.data, m.len);
      while (rc < 0 && errno == EINTR);
      if (rc < 0) {
        err = errno;
        break;
      }
    }
  }
  if (err == 0) {
    retryMs_ = opts_.retryMinMs;
    return {taken, SendStatus::kOk, 0};
  }
  if (err == EWOULDBLOCK) err = EAGAIN;
  if (IsIn(opts_.busyErrnos, err)) {
    blocked_ = true;
    return {taken, SendStatus::kBusy, err};
  }
  retryMs_ = opts_.retryMinMs;
  if (err == EMSGSIZE) return {taken, SendStatus::kDropOversize, err};
  if (IsIn(opts_.dropErrnos, err)) return {taken, SendStatus::kDropBusy, err};
  return {taken, SendStatus::kLost, err};
}

// Every event of the device arrives here.
void DeviceEndpoint::OnPoll(void* arg, int status, int events) {
  auto* self = static_cast<DeviceEndpoint*>(arg);
  if (status < 0) {
    // POLLERR: the endpoint went away (a device does not say why).
    self->host_->Lost(EIO);
  } else {
    if ((events & UV_WRITABLE) && self->wantWritable_) {
      self->wantWritable_ = false;
      self->UpdatePoll();
      if (self->blocked_) {
        self->blocked_ = false;
        self->host_->RoomAgain();
      }
    }
    if (!self->dead_ && (events & UV_READABLE)) self->Receive();
  }
  self->host_->Settle();
}

void DeviceEndpoint::OnRetry(void* arg) {
  auto* self = static_cast<DeviceEndpoint*>(arg);
  if (self->blocked_) {
    self->blocked_ = false;
    self->host_->RoomAgain();
  }
  self->host_->Settle();
}

void DeviceEndpoint::Receive() {
  const uint32_t slot = opts_.maxPayload + 1;
  if (opts_.batchIoctl) {
    // One ioctl moves what is queued; a short batch means the queue was empty: no extra call.
    ssize_t n = RpmsgEthReadBatch(fd_, rx_.data(), opts_.maxPayload, rxLengths_, kBatch);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) host_->Lost(errno);
      return;
    }
    for (ssize_t i = 0; i < n && !dead_; i++)
      host_->Received(rx_.data() + static_cast<size_t>(i) * opts_.maxPayload, rxLengths_[i]);
    return;
  }
  for (uint32_t i = 0; i < kBatch && !dead_; i++) {
    uint8_t* buf = rx_.data() + static_cast<size_t>(i) * slot;
    ssize_t n;
    do n = read(fd_, buf, slot);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) host_->Lost(errno);
      return;
    }
    if (n == 0) {
      // An empty message, or the end of the stream: the device's hangup tells.
      struct pollfd p = {fd_, POLLRDHUP, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return host_->Lost(0);
    }
    host_->Received(buf, static_cast<uint32_t>(n));
  }
}

}  // namespace rpmsg_eth::dp
