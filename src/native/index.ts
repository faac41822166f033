// The native I/O binding: TAP devices, SOCK_SEQPACKET sockets and batched message I/O.
export { tapCreate, linkSet, tapSetCarrier, type LinkSettings } from './tap.js';
export { seqpacketPair, seqpacketListen, seqpacketAccept, seqpacketConnect, closeFd } from './seqpacket.js';
export { FdWatch } from './fd-watch.js';
export { withNetns } from './netns-call.js';
export { linkState, type KernelLinkState } from './link-state.js';
export { sdNotify } from './sd-notify.js';
export { MessageFd, type MessageFdOptions, type ReceiveArena } from './message-fd.js';
export {
  rpmsgEthInfo,
  rpmsgEthApiVersion,
  rpmsgCreateEndpoint,
  rpmsgDestroyEndpoint,
  type RpmsgEthInfo,
} from './rpmsg-dev.js';
