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

// RPMSG_ETH_IOC_WRITE_BATCH of messages start..end-1 (message i at base + i * slotSize, lengths[i]
// bytes; length 0 = already dropped, skipped). Returns the index it stopped at (end when all were
// queued), leaving the errno of the message there in *err (0 if none).
uint32_t RpmsgEthWriteBatch(int fd, const uint8_t* base, uint32_t slotSize, const uint32_t* lengths,
                            uint32_t start, uint32_t end, int* err);

}  // namespace rpmsg_eth
