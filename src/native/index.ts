// The native binding: TAP devices, SOCK_SEQPACKET sockets, rpmsg device ioctls and the data plane.
export { tapCreate, linkSet, tapSetCarrier, type LinkSettings } from './tap.js';
export { seqpacketPair, closeFd } from './seqpacket.js';
export { withNetns } from './netns-call.js';
export { addressChange, linkState, type KernelLinkState, type KernelLinkStats } from './rtnetlink.js';
export { ethtoolStats } from './ethtool-stats.js';
export { PacketSocket, type PacketSocketEvents } from './packet-socket.js';
export { sdNotify } from './sd-notify.js';
export { limitMallocRetention } from './malloc-tuning.js';
export { DataPlane, captureRecords, sharedRingCreate, type DataPlaneEvents, type DataPlaneOptions } from './data-plane.js';
export {
  rpmsgEthInfo,
  rpmsgEthApiVersion,
  rpmsgCreateEndpoint,
  rpmsgDestroyEndpoint,
  type RpmsgEthInfo,
} from './rpmsg-dev.js';
