// One channel of the running daemon: its interface (src/iface/tap.ts), its bridge (the data plane's
// control side, src/bridge/), its link to the remote endpoint (the transport's, src/transport/) and the
// health probes to its peer (src/health/). start() brings them up in that order and takes back what it
// made if a step fails; stop() takes them down; applyPlan() changes addresses and MTU in place, all or
// nothing; status() and metrics() report it. When its interface is deleted under it, the channel goes
// down and tells the daemon (which recreates it: daemon.ts).
import { ChannelBridge } from '../src/bridge/bridge.js';
import { DROP_REASONS, type ChannelCounters, type DropCounters, type FramingStats } from '../src/bridge/counters.js';
import type { ChannelPlan } from '../src/channels/types.js';
import type { ChannelStatus } from '../src/control/protocol.js';
import type { CaptureSource } from '../src/capture/capture-source.js';
import type { PeerHealth } from '../src/health/peer-health.js';
import { channelMac } from '../src/iface/mac.js';
import { inNamespace, readInterfaceState, Tap } from '../src/iface/tap.js';
import type { Logger } from '../src/log.js';
import type { ChannelMetrics } from '../src/metrics/metrics.js';
import type { ChannelLink, Transport } from '../src/transport/transport.js';
import { UserError } from '../src/util/errors.js';
import { startPeerHealth } from './channel-health.js';
import { undoSteps } from './undo.js';

const ETH_HEADER = 14;

export interface ChannelContext {
  /** The interfaces' namespace (--netns); the daemon's own when undefined. */
  netns: string | undefined;
  transport: Transport;
  log: Logger;
  /** The channel's health probes, or undefined when they are off (globally or for the channel). */
  health(plan: ChannelPlan): { intervalMs: number; failAfter: number } | undefined;
  /** The interface was deleted under the running channel, which is down now. */
  onTapGone(channel: DaemonChannel): void;
}

/** What a capture or a replay needs of a running channel. */
export interface CaptureTarget {
  channel: number;
  ifname: string;
  name: string;
  source: CaptureSource;
}

/**
 * One channel as the daemon (daemon.ts) and a reload (reload.ts) run it, whatever carries its frames:
 * Channel (a TAP and the daemon's data plane) or NetdevChannel (the kernel module's own interface).
 */
export interface DaemonChannel {
  readonly plan: ChannelPlan;
  /** Why the channel is not running, or null while it runs. */
  down: string | null;
  /**
   * Down, but coming back by itself (netdev: its interface is gone and is adopted again once it is
   * back): a reload changes its plan in place rather than restarting it.
   */
  readonly waiting?: boolean;
  /** Before a reload decides: the channel brings its view of its interface up to date (netdev: gone?). */
  refresh?(): void;
  /** Before start(): what a reload checks (and makes) before it touches running channels. */
  prepare(): void;
  /** Undoes prepare() for a channel that was never started. */
  discard(): void;
  start(): Promise<void>;
  stop(why?: string, logged?: boolean): Promise<void>;
  /** Addresses and MTU changed in place, all or nothing. */
  applyPlan(plan: ChannelPlan): Promise<void>;
  readonly captureTarget: CaptureTarget | undefined;
  status(notCaptured: number): ChannelStatus;
  metrics(): ChannelMetrics | undefined;
}

/** What the metrics show of one running channel, whatever carries its frames. */
export function channelMetrics(plan: ChannelPlan, counters: ChannelCounters, mtu: number, health: PeerHealth | undefined): ChannelMetrics {
  const peer = health?.state;
  return {
    device: plan.ifname,
    channel: plan.channel,
    channelName: plan.name,
    rx: counters.rx,
    tx: counters.tx,
    rxDrops: counters.rxDrops,
    txDrops: counters.txDrops,
    up: counters.link === 'up',
    carrierChanges: counters.linkChanges,
    mtu,
    peer: peer ? { reachable: peer.reachable, rttMs: peer.rttMs } : null,
  };
}

export class Channel implements DaemonChannel {
  private tap: Tap | undefined;
  private bridge: ChannelBridge | undefined;
  private link: ChannelLink | undefined;
  private health: PeerHealth | undefined;
  /** The counters when the bridge closed: what a stopped channel reports. */
  private final: { counters: ChannelCounters; framing?: FramingStats } | undefined;
  /** The interface's MTU: the plan's, or less if the endpoint takes less. */
  mtu: number;
  /** Why the channel is not running, or null while it runs. */
  down: string | null = 'not started';

  constructor(
    public plan: ChannelPlan,
    private readonly ctx: ChannelContext,
  ) {
    this.mtu = plan.mtu;
  }

  private get log(): Logger {
    return this.ctx.log;
  }

  /** Creates the interface now, before start(): a reload makes its new interfaces before it touches running ones. */
  prepare(): void {
    this.tap ??= Tap.create(this.plan.ifname, this.ctx.netns);
  }

  /** Removes a prepared interface that was never started. */
  discard(): void {
    if (this.bridge) return;
    this.tap?.close();
    this.tap = undefined;
  }

  /** Interface, bridge, link, MTU, MAC, address, probes. A failure is one line naming the interface; nothing is left behind. */
  async start(): Promise<void> {
    const { plan, ctx } = this;
    try {
      const tap = (this.tap ??= Tap.create(plan.ifname, ctx.netns));
      const frag = plan.framing === 'frag';
      this.bridge = new ChannelBridge(plan, tap, this.log, {
        onModeChange: frag ? (_mode, mtu) => this.fragMtu(mtu) : undefined,
        onTapGone: (errno) => this.tapGone(errno),
      });
      this.link = await ctx.transport.open(plan, this.bridge);
      // The endpoint may allow less than the device tree promises: the smaller limit wins. With frag the
      // plan's MTU holds unless the negotiation falls back to raw (fragMtu).
      this.mtu = frag ? plan.mtu : Math.min(plan.mtu, this.link.maxPayload - ETH_HEADER);
      tap.configure({ mtu: this.mtu, mac: channelMac(plan.channel, 'linux'), up: true });
      tap.addAddress(plan.address);
    } catch (err) {
      await this.takeDown();
      this.down = `could not start: ${(err as Error).message}`;
      throw err instanceof UserError ? err : new UserError(`${plan.ifname}${inNamespace(ctx.netns)}: ${(err as Error).message}`, 1);
    }
    this.down = null;
    this.startHealth();
    this.log.info(
      { ifname: plan.ifname, channel: plan.channel, name: plan.name, mtu: this.mtu, framing: plan.framing, address: plan.address, peer: plan.peerAddress },
      `${plan.ifname} up: ${plan.name}, mtu ${this.mtu}, ${plan.address} -> ${plan.peerAddress}`,
    );
  }

  /**
   * Takes the channel down; `why` is what status says from now on (a channel already down keeps its
   * reason). `logged`: one line "rpmsgN removed" (not when the whole daemon stops).
   */
  async stop(why?: string, logged = true): Promise<void> {
    const wasUp = this.bridge !== undefined;
    await this.takeDown();
    this.down = why ?? this.down ?? 'stopped';
    if (wasUp && logged) this.log.info({ ifname: this.plan.ifname, channel: this.plan.channel }, `${this.plan.ifname} removed`);
  }

  private async takeDown(): Promise<void> {
    this.health?.stop();
    this.health = undefined;
    const link = this.link;
    this.link = undefined;
    await link?.close().catch((err: Error) => this.log.error({ ifname: this.plan.ifname, err: err.message }, `${this.plan.ifname}: closing its link`));
    const bridge = this.bridge;
    this.bridge = undefined;
    if (bridge) {
      this.final = { counters: bridge.counters, framing: bridge.framingStats() };
      bridge.close();
    }
    this.tap?.close(); // unless the data plane had it (it closes it)
    this.tap = undefined;
  }

  /**
   * Addresses and MTU, changed without touching the data path. All or nothing: a step that fails undoes
   * the steps before it, and the error says which.
   */
  async applyPlan(plan: ChannelPlan): Promise<void> {
    const old = this.plan;
    const tap = this.tap;
    if (!tap || this.down !== null) throw new UserError(`${old.ifname} is down (${this.down ?? 'no interface'}): it can only be started anew`, 1);
    // frag keeps the MTU it negotiated; raw follows the plan within the link's payload
    const mtu = plan.framing === 'frag' ? this.mtu : Math.min(plan.mtu, (this.link?.maxPayload ?? plan.maxPayload) - ETH_HEADER);
    const undo: Array<() => void> = [];
    try {
      if (mtu !== this.mtu) {
        const was = this.mtu;
        tap.configure({ mtu });
        this.mtu = mtu;
        undo.push(() => (tap.configure({ mtu: was }), (this.mtu = was)));
      }
      if (old.address !== plan.address) {
        tap.addAddress(plan.address);
        undo.push(() => tap.removeAddress(plan.address));
        tap.removeAddress(old.address);
        undo.push(() => tap.addAddress(old.address));
      }
      await this.link?.applyPlan?.(plan);
    } catch (err) {
      undoSteps(undo, this.log, old.ifname);
      throw err;
    }
    this.plan = plan;
    if (old.peerAddress !== plan.peerAddress) this.startHealth();
    this.log.info({ ifname: plan.ifname, mtu, address: plan.address, peer: plan.peerAddress }, `${plan.ifname} reconfigured`);
  }

  /** frag: the negotiation's outcome sets the interface MTU. */
  private fragMtu(mtu: number): void {
    const wanted = Math.min(this.plan.mtu, mtu);
    if (wanted === this.mtu || !this.tap || this.down !== null) return;
    try {
      this.tap.configure({ mtu: wanted });
      this.mtu = wanted;
    } catch (err) {
      this.log.error({ ifname: this.plan.ifname, err: (err as Error).message }, `${this.plan.ifname}: cannot set mtu ${wanted}`);
    }
  }

  private tapGone(errno: number): void {
    if (this.down !== null) return;
    const { ifname, channel } = this.plan;
    this.down = `${ifname} was deleted`;
    this.log.warn({ ifname, channel, errno }, `${ifname}${inNamespace(this.ctx.netns)} was deleted: channel ${channel} is down`);
    this.ctx.onTapGone(this);
  }

  /** ICMP probes to the channel's peer, unless they are off. */
  private startHealth(): void {
    this.health?.stop();
    this.health = startPeerHealth(this.plan, this.ctx.netns, this.ctx.health(this.plan), this.log);
  }

  /** The running channel's bridge, for a capture or a replay; undefined while it is down. */
  get captureTarget(): CaptureTarget | undefined {
    const { channel, ifname, name } = this.plan;
    return this.bridge && this.down === null ? { channel, ifname, name, source: this.bridge } : undefined;
  }

  /** `status` and `stats`; LINK and CARRIER as the kernel sees the interface, `link` the channel's link to the peer. */
  status(notCaptured: number): ChannelStatus {
    const { plan, bridge } = this;
    const counters = bridge?.counters ?? this.final?.counters ?? noCounters();
    const framing = bridge ? bridge.framingStats() : this.final?.framing;
    const kernel = readInterfaceState(plan.ifname, this.ctx.netns);
    return {
      channel: plan.channel,
      ifname: plan.ifname,
      name: plan.name,
      mtu: this.mtu,
      address: plan.address,
      peerAddress: plan.peerAddress,
      ...counters,
      ...(plan.framing === 'frag' && framing ? { framing } : {}),
      notCaptured,
      operstate: kernel.operstate,
      carrier: kernel.carrier,
      adminUp: kernel.adminUp,
      rates: bridge?.rates ?? { txPps: 0, txBps: 0, rxPps: 0, rxBps: 0 },
      peer: this.health ? this.health.state : null,
      down: this.down,
    };
  }

  /** The Prometheus view; undefined while the channel is down. */
  metrics(): ChannelMetrics | undefined {
    const counters = this.bridge?.counters;
    return counters && channelMetrics(this.plan, counters, this.mtu, this.health);
  }
}

function noCounters(): ChannelCounters {
  const none = () => Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
  return { tx: { packets: 0, bytes: 0 }, rx: { packets: 0, bytes: 0 }, drops: none(), txDrops: none(), rxDrops: none(), link: 'down', linkChangedAt: new Date(0).toISOString(), linkChanges: 0 };
}
