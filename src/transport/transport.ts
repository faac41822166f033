// The contract between a channel's data plane (src/bridge/bridge.ts, native/dataplane/) and its
// eth-dev endpoint (kmod, rpmsg-char or sim). A transport opens, supervises and reopens endpoints;
// it never moves a frame: it hands the endpoint's fds to the data plane, which forwards frames in
// native code and tells the transport when it loses the endpoint.
import type { ChannelPlan } from '../channels/types.js';
import type { DeviceOptions } from '../native/addon.js';
import type { AdoptPlan, AdoptRequest } from './netdev.js';

/** The simulated ring to vx-peer (sim/RING.md). */
export interface SimEndpoint {
  kind: 'sim';
  dataFd: number;
  doorbellFd: number;
  /** The shared page with the ring's used and event indices. */
  ringFd: number;
  maxPayload: number;
  /** Frames in flight per direction: num-bufs / 2. */
  window: number;
}

/** A character device: /dev/rpmsg-ethN (kmod) or an rpmsg_char endpoint (rpmsg-char). */
export interface DeviceEndpoint extends DeviceOptions {
  kind: 'device';
  fd: number;
}

export type Endpoint = SimEndpoint | DeviceEndpoint;

/** Why the data plane gave up an endpoint, and what was still in flight toward the remote side. */
export interface EndpointLoss {
  /** errno of the hangup or failed write; 0 = orderly end of stream. */
  errno: number;
  /** Frames sent and not yet taken by the remote (known on the sim ring; else 0). */
  txInFlight: number;
}

/** What a transport's link tells its channel's data plane. */
export interface LinkEvents {
  /**
   * The endpoint is open: link up. The data plane owns its fds from here on (closing them on detach
   * or loss, also if this throws) and calls `onLost` once if it loses the endpoint (hangup, a fatal
   * I/O error); the link is down by then.
   */
  attach(endpoint: Endpoint, onLost: (loss: EndpointLoss) => void): void;
  /**
   * The transport takes the endpoint away (peer exited, link closing): link down. `beforeClose` runs
   * with the endpoint's fd still open (rpmsg_char's destroy ioctl). No-op when nothing is attached.
   */
  detach(beforeClose?: (fd: number) => void): EndpointLoss | undefined;
}

export interface ChannelLink {
  /** Largest message the endpoint accepts, in bytes. */
  readonly maxPayload: number;
  readonly up: boolean;
  /**
   * A reload changed the channel's addresses or MTU (nothing the ring is made of): a link that owns
   * the remote side's interface (sim) applies them there. Others have nothing to do.
   */
  applyPlan?(plan: ChannelPlan): Promise<void>;
  close(): Promise<void>;
}

export type TransportName = 'sim' | 'kmod' | 'rpmsg-char' | 'netdev';

export interface Transport {
  readonly name: TransportName;
  open(plan: ChannelPlan, events: LinkEvents): Promise<ChannelLink>;
  /**
   * A transport whose channels are the kernel's own interfaces (netdev): the daemon adopts each one
   * (daemon/netdev-channel.ts) instead of making a TAP and opening a link; `open` is never called.
   */
  adopt?(req: AdoptRequest): AdoptPlan;
  /** A transport that runs the remote side (sim) can restart it: link down for `downMs`. False: no such channel. */
  restartPeer?(channel: number, downMs: number): boolean;
  close(): Promise<void>;
}
