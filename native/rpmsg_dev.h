// The rpmsg character devices: /dev/rpmsg-ethN of our module (kmod/rpmsg_eth_api.h) and the stock
// rpmsg_char's /dev/rpmsg_ctrlN + /dev/rpmsgM (<linux/rpmsg.h>). Ioctl numbers come only from those
// headers: their encoding differs between architectures.
#pragma once

#include <stdint.h>
#include <sys/types.h>

namespace rpmsg_eth {

// True if fd answers RPMSG_ETH_IOC_INFO (an rpmsg-eth device); errno says why not.
bool RpmsgEthProbe(int fd);

// RPMSG_ETH_IOC_READ_BATCH into up to `max` consecutive slots of `arena`; frame lengths go to
// lengths[]. A frame longer than slotSize is consumed whole and reported with its true length
// (> slotSize), its bytes cut. Returns frames read (>= 1), or -1 with errno (EAGAIN when drained).
ssize_t RpmsgEthReadBatch(int fd, uint8_t* arena, uint32_t slotSize, uint32_t* lengths, uint32_t max);

// Most frames one RPMSG_ETH_IOC_WRITE_BATCH takes (RPMSG_ETH_BATCH_MAX).
constexpr uint32_t RPMSG_ETH_WRITE_MAX = 256;

// RPMSG_ETH_IOC_WRITE_BATCH of count (<= RPMSG_ETH_WRITE_MAX) frames data[i], lens[i]. Returns the
// frames queued; when that is 0, *err says why (EAGAIN when the queue is full), else *err is 0 and a
// short count means the next call reports the error of the frame it stopped at.
uint32_t RpmsgEthWriteFrames(int fd, const uint8_t* const* data, const uint32_t* lens, uint32_t count, int* err);

}  // namespace rpmsg_eth
