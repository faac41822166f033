// The `sim` transport: each channel's endpoint is the simulated ring to a simulated VxWorks peer
// process (sim/vx_peer.c; the protocol is sim/RING.md):
//   data      SOCK_SEQPACKET, one Ethernet frame per message, both directions;
//   doorbell  SOCK_SEQPACKET, kicks, sent only to a side that asked for one;
//   ring      a shared page with each direction's used and event indices.
// At most num-bufs/2 frames are in flight per direction, as on the virtio ring. This side spawns and
// supervises the peer and sets the addresses of its interface; the data plane (src/bridge/,
// native/dataplane/) moves the frames.
import type { ChannelPlan } from '../src/channels/types.js';
import { channelMac } from '../src/iface/mac.js';
import type { Logger } from '../src/log.js';
import { addressChange, closeFd, linkSet, seqpacketPair, sharedRingCreate } from '../src/native/index.js';
import { startPeer, type RunningPeer } from './peer-process.js';
import type { ChannelLink, EndpointLoss, LinkEvents, Transport } from '../src/transport/transport.js';

export interface SimOptions {
  peerNetns: string;
  log: Logger;
  /** How long a peer stays down after it exits before it is started again (a remote core rebooting). */
  restartDelayMs?: number;
  /** Debug/tests: channels whose peer speaks only raw framing even when the plan says frag. */
  rawOnlyPeers?: readonly number[];
}

export class SimTransport implements Transport {
  readonly name = 'sim' as const;
  private readonly links = new Set<SimLink>();

  constructor(private readonly opts: SimOptions) {}

  async open(plan: ChannelPlan, events: LinkEvents): Promise<ChannelLink> {
    const link = new SimLink(plan, events, this.opts, () => this.links.delete(link));
    this.links.add(link);
    try {
      await link.connect();
    } catch (err) {
      this.links.delete(link);
      await link.close();
      throw err;
    }
    return link;
  }

  /** Restart the peer of one channel: link down for `downMs`, then back. */
  restartPeer(channel: number, downMs: number): boolean {
    for (const link of this.links) if (link.channel === channel) return link.restartPeer(downMs), true;
    return false;
  }

  async close(): Promise<void> {
    await Promise.all([...this.links].map((l) => l.close()));
    this.links.clear();
  }
}

export class SimLink implements ChannelLink {
  readonly maxPayload: number;
  readonly channel: number;
  up = false;
  private peer: RunningPeer | undefined;
  private closing = false;
  private nextDownMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  /**
   * Frames sent toward the peer and not taken when the link was lost, for the peer's accounting; resolved
   * once the data plane has said (its loss event can reach JavaScript after the peer's exit).
   */
  private lostInFlight = inFlightAtLoss();

  constructor(
    private plan: ChannelPlan,
    private readonly events: LinkEvents,
    private readonly opts: SimOptions,
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.maxPayload = plan.maxPayload;
    this.channel = plan.channel;
    this.nextDownMs = opts.restartDelayMs ?? 1000;
  }

  async connect(): Promise<void> {
    const [dataOurs, dataPeer] = seqpacketPair();
    const [bellOurs, bellPeer] = seqpacketPair();
    const ring = sharedRingCreate();
    const ours = [dataOurs, bellOurs, ring];
    let peer: RunningPeer;
    try {
      peer = await startPeer(
        {
          netns: this.opts.peerNetns,
          ifname: `vx${this.plan.channel}`,
          mac: channelMac(this.plan.channel, 'peer'),
          mtu: this.plan.mtu,
          maxPayload: this.plan.maxPayload,
          numBufs: this.plan.numBufs,
          framing: this.plan.framing === 'frag' && !this.opts.rawOnlyPeers?.includes(this.plan.channel) ? 'frag' : 'raw',
        },
        dataPeer,
        bellPeer,
        ring,
      );
    } catch (err) {
      for (const fd of ours) closeFd(fd);
      throw err;
    } finally {
      // The child holds its own copies now.
      closeFd(dataPeer);
      closeFd(bellPeer);
    }
    if (this.closing) {
      peer.child.kill('SIGTERM');
      for (const fd of ours) closeFd(fd);
      throw new Error('link closed while its peer was starting');
    }
    this.peer = peer;
    void peer.exited.then((how) => this.onPeerExit(peer, how));
    try {
      addressChange(`vx${this.plan.channel}`, this.opts.peerNetns, 'add', peerCidr(this.plan));
    } catch (err) {
      for (const fd of ours) closeFd(fd);
      throw err;
    }
    const lost = (this.lostInFlight = inFlightAtLoss());
    this.events.attach(
      { kind: 'sim', dataFd: dataOurs, doorbellFd: bellOurs, ringFd: ring, maxPayload: this.plan.maxPayload, window: Math.floor(this.plan.numBufs / 2) },
      (loss) => {
        lost.resolve(loss.txInFlight); // this lifetime's, even if the next one has begun
        this.linkLost(loss);
      },
    );
    this.up = true;
  }

  restartPeer(downMs: number): void {
    this.nextDownMs = downMs;
    this.peer?.child.kill('SIGTERM');
  }

  /** The data plane lost the ring (the peer hung up), or the peer exited: link down, peer stopped. */
  private linkLost(loss?: EndpointLoss): void {
    const detached = loss ?? this.events.detach();
    if (detached) this.lostInFlight.resolve(detached.txInFlight);
    this.up = false;
    this.peer?.child.kill('SIGTERM');
  }

  private onPeerExit(peer: RunningPeer, how: string): void {
    if (peer !== this.peer) return;
    this.peer = undefined;
    this.linkLost();
    // For accounting (bench/soak.ts): frames sent and not yet taken when the link was lost bound the
    // frames lost in flight with the peer; the peer's own counters of this lifetime follow.
    void Promise.all([peer.counters, this.lostInFlight.promise]).then(([counters, uncreditedTx]) =>
      this.opts.log.info({ channel: this.channel, counters, uncreditedTx }, 'simulated peer counters'));
    if (this.closing) return;
    const downMs = this.nextDownMs;
    this.nextDownMs = this.opts.restartDelayMs ?? 1000;
    this.opts.log.warn({ channel: this.channel, exit: how, restartInMs: downMs }, 'simulated peer went away');
    this.scheduleReconnect(downMs);
  }

  /** Brings the peer back after `delayMs`, and keeps trying at that pace if it fails to start. */
  private scheduleReconnect(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.connect().then(
        () => this.opts.log.info({ channel: this.channel }, 'simulated peer is back'),
        (err: Error) => {
          if (this.closing) return;
          this.opts.log.error({ channel: this.channel, err: err.message }, 'simulated peer failed to restart; retrying');
          this.scheduleReconnect(delayMs);
        },
      );
    }, delayMs);
  }

  /**
   * Applies a changed peer address or MTU to the running peer (a reload). What the ring itself is made
   * of (buffer size and count) cannot change under a running peer: the daemon restarts the channel.
   */
  async applyPlan(plan: ChannelPlan): Promise<void> {
    const old = this.plan;
    this.plan = plan;
    if (!this.peer) return; // the next connect() uses the new plan
    const dev = `vx${plan.channel}`;
    const ns = this.opts.peerNetns;
    if (peerCidr(old) !== peerCidr(plan)) {
      addressChange(dev, ns, 'add', peerCidr(plan));
      addressChange(dev, ns, 'del', peerCidr(old));
    }
    if (old.mtu !== plan.mtu) linkSet(dev, { netns: ns, mtu: plan.mtu });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const peer = this.peer;
    this.linkLost();
    if (peer) await peer.exited;
    this.onClosed();
  }
}

/** A promise of one lifetime's frames in flight at its link loss, and its resolver. */
function inFlightAtLoss(): { promise: Promise<number>; resolve: (n: number) => void } {
  let resolve!: (n: number) => void;
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
}

/** The peer's address with the channel's prefix: "169.254.103.2/24". */
function peerCidr(plan: ChannelPlan): string {
  return `${plan.peerAddress}/${plan.address.split('/')[1] ?? '24'}`;
}
