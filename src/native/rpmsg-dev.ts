// The rpmsg character devices' ioctls: the rpmsg-eth module's INFO (kmod/rpmsg_eth_api.h) and the
// stock rpmsg_char's endpoint create/destroy (<linux/rpmsg.h>). The numbers live in the C headers
// only (their encoding differs by architecture); batch I/O is the data plane's (native/dataplane/).
import { addon } from './addon.js';

/** struct rpmsg_eth_info of /dev/rpmsg-ethN. */
export interface RpmsgEthInfo {
  apiVersion: number;
  channel: number;
  name: string;
  localAddr: number;
  remoteAddr: number;
  /** Largest frame write() accepts. */
  maxPayload: number;
  /** rpmsg buffer size including the 16-byte header; 0 if unknown. */
  bufSize: number;
  numBufs: number;
  rxQueueLen: number;
  txQueueLen: number;
}

/** The RPMSG_ETH_API_VERSION this binding was built against. */
export function rpmsgEthApiVersion(): number {
  return addon().RPMSG_ETH_API_VERSION;
}

export function rpmsgEthInfo(fd: number): RpmsgEthInfo {
  return addon().rpmsgEthInfo(fd);
}

/** RPMSG_CREATE_EPT_IOCTL on an open /dev/rpmsg_ctrlN: a new /dev/rpmsgM appears for the endpoint. */
export function rpmsgCreateEndpoint(ctrlFd: number, name: string, src: number, dst: number): void {
  addon().rpmsgCreateEndpoint(ctrlFd, name, src, dst);
}

/** RPMSG_DESTROY_EPT_IOCTL on an open /dev/rpmsgM: the endpoint device goes away. */
export function rpmsgDestroyEndpoint(fd: number): void {
  addon().rpmsgDestroyEndpoint(fd);
}
