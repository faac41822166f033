// The channel table read from the device tree, and the interface plan derived from it.

/** One channel of the board's rpmsg node, with the platform driver's defaults applied. */
export interface Channel {
  /** Position in the device-tree arrays (0-based). */
  index: number;
  /** `rpmsg-role`: 1 = master, 2 = remote. */
  role: number;
  inputMsgirq?: number;
  outputMsgirq: number;
  inputDstCpu?: number;
  outputDstCpu?: number;
  /** `channel-num`. */
  channel: number;
  src: number;
  dst: number;
  name: string;
  ethEndpoint: number;
  miscEndpoint: number;
  rxVring: bigint;
  txVring: bigint;
  dataBufferPool?: bigint;
  numBufs: number;
  bufSize: number;
}

/** What the daemon brings up for one channel. */
export interface ChannelPlan {
  channel: number;
  index: number;
  name: string;
  ifname: string;
  /** Local eth-dev endpoint address. */
  ethEndpoint: number;
  /** Remote eth-dev endpoint address (defaults to the local one). */
  remoteEndpoint: number;
  bufSize: number;
  numBufs: number;
  /** Largest rpmsg payload: bufSize - 16. */
  maxPayload: number;
  /** raw: one frame per message; frag: frag/wire-spec.md, falling back to raw if the peer does not speak it. */
  framing: 'raw' | 'frag';
  /** Interface MTU: maxPayload - 14 (raw framing) or lower if configured; frag: 1500 by default, up to 9000. */
  mtu: number;
  /** Linux-side address with prefix, e.g. "169.254.103.1/24". */
  address: string;
  /** VxWorks-side address without prefix, e.g. "169.254.103.2". */
  peerAddress: string;
  enabled: boolean;
}
