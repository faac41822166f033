// One channel of the netdev transport: the kernel module's own interface `rpmsgN` (src/iface/adopted.ts)
// forwards the frames; the daemon adopts it (checks it, sets the plan's MTU where allowed, addresses, up),
// probes the peer, follows the carrier and reports the kernel's counters (src/iface/kernel-counters.ts).
// Capture and replay go through a packet socket on the interface (src/capture/packet-capture.ts).
//
// A monitor reads the interface once a second (one RTM_GETLINK): carrier changes are logged and timed,
// and rates are the counters' difference. An interface that disappears (rmmod rpmsg_eth, moved to
// another namespace) puts the channel down; when an interface of that name is back, it is adopted again
// with its addresses. stop() takes back what the daemon did and leaves the interface to the module.
import type { ChannelCounters, Rates } from '../src/bridge/counters.js';
import type { ChannelPlan } from '../src/channels/types.js';
import { PacketCapture } from '../src/capture/packet-capture.js';
import type { ChannelStatus } from '../src/control/protocol.js';
import type { PeerHealth } from '../src/health/peer-health.js';
import { AdoptedInterface } from '../src/iface/adopted.js';
import { kernelChannelCounters, type KernelCounters } from '../src/iface/kernel-counters.js';
import { inNamespace } from '../src/iface/tap.js';
import type { Logger } from '../src/log.js';
import type { ChannelMetrics } from '../src/metrics/metrics.js';
import { ethtoolStats, type KernelLinkState } from '../src/native/index.js';
import type { AdoptPlan, AdoptRequest } from '../src/transport/netdev.js';
import { UserError } from '../src/util/errors.js';
import { channelMetrics, type CaptureTarget, type DaemonChannel } from './channel.js';
import { startPeerHealth } from './channel-health.js';
import { undoSteps } from './undo.js';

/** How often the monitor reads the interface. */
const MONITOR_MS = 1000;

export interface NetdevChannelContext {
  /** The interfaces' namespace (--netns); the daemon's own when undefined. */
  netns: string | undefined;
  /** Finds and checks the channel's interface (src/transport/netdev.ts). */
  transport: { adopt(req: AdoptRequest): AdoptPlan };
  log: Logger;
  health(plan: ChannelPlan): { intervalMs: number; failAfter: number } | undefined;
  /** The config lowers this channel's MTU on purpose (channels.N.mtu). */
  mtuLowered(plan: ChannelPlan): boolean;
}

interface Reading {
  state: KernelLinkState;
  counters: ChannelCounters;
  kernel: KernelCounters;
}

const NO_RATES: Rates = { txPps: 0, txBps: 0, rxPps: 0, rxBps: 0 };

export class NetdevChannel implements DaemonChannel {
  private iface: AdoptedInterface | undefined;
  private health: PeerHealth | undefined;
  private monitor: NodeJS.Timeout | undefined;
  private readonly capture: PacketCapture;
  private carrier: boolean | undefined;
  private linkChangedAt = new Date().toISOString();
  private sample: { at: number; rx: ChannelCounters['rx']; tx: ChannelCounters['tx'] } | undefined;
  private rates: Rates = NO_RATES;
  /** The last reading while it ran: what a channel whose interface is gone reports. */
  private last: Reading | undefined;
  private lastReadopt = '';
  /** The last error reading the interface (not "no such interface"): logged once, not every tick. */
  private lastReadError = '';
  private stopped = false;
  mtu: number;
  down: string | null = 'not started';

  constructor(
    public plan: ChannelPlan,
    private readonly ctx: NetdevChannelContext,
  ) {
    this.mtu = plan.mtu;
    this.capture = new PacketCapture(plan.ifname, ctx.netns, () => this.mtu, (errno) =>
      this.log.debug({ ifname: this.plan.ifname, errno }, `${this.plan.ifname}: the capture socket reports errno ${errno}`),
    );
  }

  private get log(): Logger {
    return this.ctx.log;
  }

  private request(plan: ChannelPlan): AdoptRequest {
    return { plan, netns: this.ctx.netns, mtuLowered: this.ctx.mtuLowered(plan) };
  }

  /** A reload checks the interface (there, MTU as planned) before it touches running channels. */
  prepare(): void {
    this.ctx.transport.adopt(this.request(this.plan));
  }

  discard(): void {}

  /** Adopts the interface: MTU (if the plan lowers it), up, address; then probes and the monitor. */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      this.adopt();
    } catch (err) {
      this.giveBack();
      this.down = `could not start: ${(err as Error).message}`;
      throw err instanceof UserError ? err : new UserError(`${this.plan.ifname}${inNamespace(this.ctx.netns)}: ${(err as Error).message}`, 1);
    }
    this.running();
    this.monitor = setInterval(() => this.tick(), MONITOR_MS);
    this.monitor.unref();
    const { plan } = this;
    this.log.info(
      { ifname: plan.ifname, channel: plan.channel, name: plan.name, mtu: this.mtu, address: plan.address, peer: plan.peerAddress, transport: 'netdev' },
      `${plan.ifname} adopted: ${plan.name}, mtu ${this.mtu}, ${plan.address} -> ${plan.peerAddress}`,
    );
  }

  private adopt(): void {
    const { iface, setMtu } = this.ctx.transport.adopt(this.request(this.plan));
    this.iface = iface;
    if (setMtu !== undefined) iface.setMtu(setMtu);
    this.mtu = setMtu ?? iface.foundMtu;
    iface.up();
    iface.addAddress(this.plan.address);
  }

  /** Up (again): the carrier as it is now, probes started. */
  private running(): void {
    this.down = null;
    this.lastReadopt = '';
    const reading = this.readQuietly();
    this.carrier = reading?.state.carrier;
    this.linkChangedAt = new Date().toISOString();
    this.sample = undefined;
    this.rates = NO_RATES;
    this.startHealth();
    if (this.capture.capturing) {
      try {
        this.capture.reopen();
        this.log.warn({ ifname: this.plan.ifname }, `${this.plan.ifname}: the running capture goes on on the interface that is back`);
      } catch (err) {
        this.log.error({ ifname: this.plan.ifname, err: (err as Error).message }, `${this.plan.ifname}: the running capture cannot go on: ${(err as Error).message}`);
      }
    }
  }

  /** Takes back what the daemon did to the interface (addresses, MTU, admin state); problems are logged. */
  private giveBack(): void {
    const iface = this.iface;
    this.iface = undefined;
    for (const problem of iface?.release() ?? [])
      this.log.error({ ifname: this.plan.ifname, err: problem }, `${this.plan.ifname}: giving it back: ${problem}`);
  }

  async stop(why?: string, logged = true): Promise<void> {
    const wasUp = this.down === null;
    this.stopped = true;
    clearInterval(this.monitor);
    this.monitor = undefined;
    this.health?.stop();
    this.health = undefined;
    this.capture.setTap(undefined);
    if (wasUp) this.last = this.readQuietly() ?? this.last;
    this.giveBack();
    this.down = why ?? this.down ?? 'stopped';
    if (wasUp && logged)
      this.log.info({ ifname: this.plan.ifname, channel: this.plan.channel }, `${this.plan.ifname} released: the daemon's address removed, the interface left to rpmsg_eth`);
  }

  /** Its interface is gone and the monitor waits for it: adopting it again will apply the plan. */
  get waiting(): boolean {
    return this.down !== null && this.iface === undefined && this.monitor !== undefined;
  }

  /** Addresses and MTU in place, all or nothing; the MTU only as adopting would allow it. */
  async applyPlan(plan: ChannelPlan): Promise<void> {
    const old = this.plan;
    if (this.waiting) {
      this.plan = plan;
      this.log.info({ ifname: plan.ifname, address: plan.address, peer: plan.peerAddress }, `${plan.ifname} reconfigured: applied when it is back`);
      return;
    }
    const iface = this.iface;
    if (!iface || this.down !== null) throw new UserError(`${old.ifname} is down (${this.down ?? 'no interface'}): it can only be started anew`, 1);
    const undo: Array<() => void> = [];
    try {
      if (plan.mtu !== this.mtu) {
        const lowered = this.ctx.mtuLowered(plan) && plan.mtu < iface.foundMtu;
        if (plan.mtu !== iface.foundMtu && !lowered)
          throw new UserError(
            `channel ${plan.channel}: mtu ${plan.mtu}: ${plan.ifname} is rpmsg_eth's with MTU ${iface.foundMtu}; ` +
              `the daemon only lowers it when channels.${plan.channel}.mtu says so`,
            1,
          );
        const was = this.mtu;
        iface.setMtu(plan.mtu);
        this.mtu = plan.mtu;
        undo.push(() => (iface.setMtu(was), (this.mtu = was)));
      }
      if (old.address !== plan.address) {
        iface.addAddress(plan.address);
        undo.push(() => iface.removeAddress(plan.address));
        iface.removeAddress(old.address);
        undo.push(() => iface.addAddress(old.address));
      }
    } catch (err) {
      undoSteps(undo, this.log, old.ifname);
      throw err;
    }
    this.plan = plan;
    if (old.peerAddress !== plan.peerAddress) this.startHealth();
    this.log.info({ ifname: plan.ifname, mtu: this.mtu, address: plan.address, peer: plan.peerAddress }, `${plan.ifname} reconfigured`);
  }

  private startHealth(): void {
    this.health?.stop();
    this.health = startPeerHealth(this.plan, this.ctx.netns, this.ctx.health(this.plan), this.log);
  }

  /**
   * The kernel's view of the interface now, or undefined when there is no such interface (ENODEV). Any
   * other error (the namespace cannot be entered, ENOBUFS, EMFILE) throws: it says nothing about the
   * interface, so it must not be taken for "gone".
   */
  private read(): Reading | undefined {
    const state: KernelLinkState | undefined = AdoptedInterface.find(this.plan.ifname, this.ctx.netns);
    if (!state) return undefined;
    let driver: Record<string, number> | null = null;
    try {
      driver = ethtoolStats(this.plan.ifname, this.ctx.netns);
    } catch {
      // gone between the two calls, or a driver that refuses: no counters by name
    }
    return { state, ...kernelChannelCounters(state, driver, { linkChangedAt: this.linkChangedAt }, this.plan.framing) };
  }

  /** read() for a report: undefined also when the interface cannot be read now (the caller falls back). */
  private readQuietly(): Reading | undefined {
    try {
      return this.read();
    } catch {
      return undefined;
    }
  }

  /** Before a reload decides: an interface that went away since the last tick is noticed now. */
  refresh(): void {
    if (this.monitor !== undefined) this.tick();
  }

  /** Once a second: the interface still ours? carrier changes, rates; or a gone interface back? */
  private tick(): void {
    if (this.stopped) return;
    let reading: Reading | undefined;
    try {
      reading = this.read();
    } catch (err) {
      // Not an answer about the interface: this tick is skipped, the adoption (what to take back) kept.
      const message = (err as Error).message;
      if (message !== this.lastReadError) this.log.warn({ ifname: this.plan.ifname, err: message }, `${this.plan.ifname}: cannot read the interface, the channel stays as it was: ${message}`);
      this.lastReadError = message;
      return;
    }
    this.lastReadError = '';
    const ours = reading !== undefined && this.iface !== undefined && reading.state.index === this.iface.index;
    if (this.down === null && !ours) return this.gone();
    if (this.down !== null) {
      if (reading) this.readopt();
      return;
    }
    if (!reading) return;
    const { state, counters } = reading;
    this.last = reading;
    if (state.carrier !== this.carrier) {
      this.carrier = state.carrier;
      this.linkChangedAt = new Date().toISOString();
      const link = state.carrier ? 'up' : 'down';
      this.log.info({ ifname: this.plan.ifname, channel: this.plan.channel, link }, `${this.plan.ifname}: link ${link}`);
    }
    const at = Date.now();
    if (this.sample) {
      const s = (at - this.sample.at) / 1000;
      if (s > 0)
        this.rates = {
          txPps: (counters.tx.packets - this.sample.tx.packets) / s,
          txBps: (counters.tx.bytes - this.sample.tx.bytes) / s,
          rxPps: (counters.rx.packets - this.sample.rx.packets) / s,
          rxBps: (counters.rx.bytes - this.sample.rx.bytes) / s,
        };
    }
    this.sample = { at, tx: counters.tx, rx: counters.rx };
  }

  /** The interface went away (or was made anew): down until one of that name is there to adopt. */
  private gone(): void {
    const { ifname, channel } = this.plan;
    this.health?.stop();
    this.health = undefined;
    this.iface = undefined; // its addresses went with it
    this.rates = NO_RATES;
    // The capture's packet socket is bound to the interface that went: the kernel tells it ENETDOWN once,
    // then nothing. Closed here; running() binds a new one to the interface that comes back.
    if (this.capture.capturing) {
      this.capture.suspend();
      this.log.warn({ ifname }, `${ifname}: the running capture has no frames until ${ifname} is back`);
    }
    this.down = `${ifname}${inNamespace(this.ctx.netns)} is gone (rpmsg_eth unloaded, or the interface deleted or moved)`;
    this.log.warn({ ifname, channel }, `${this.down}: channel ${channel} is down until it is back`);
  }

  private readopt(): void {
    try {
      this.adopt();
    } catch (err) {
      this.giveBack();
      const message = (err as Error).message;
      if (message !== this.lastReadopt) this.log.error({ ifname: this.plan.ifname, err: message }, `${this.plan.ifname} is back but cannot be adopted: ${message}`);
      this.lastReadopt = message;
      return;
    }
    this.running();
    this.log.warn({ ifname: this.plan.ifname, channel: this.plan.channel }, `${this.plan.ifname} is back: adopted again with its address`);
  }

  get captureTarget(): CaptureTarget | undefined {
    const { channel, ifname, name } = this.plan;
    return this.down === null ? { channel, ifname, name, source: this.capture } : undefined;
  }

  status(notCaptured: number): ChannelStatus {
    const { plan } = this;
    const reading = (this.down === null ? this.readQuietly() : undefined) ?? this.last;
    const counters = reading?.counters ?? kernelChannelCounters({ carrier: false, carrierChanges: 0, stats: null }, null, { linkChangedAt: this.linkChangedAt }, plan.framing).counters;
    const state = this.down === null ? reading?.state : this.readQuietly()?.state;
    return {
      channel: plan.channel,
      ifname: plan.ifname,
      name: plan.name,
      mtu: state?.mtu || this.mtu,
      address: plan.address,
      peerAddress: plan.peerAddress,
      ...counters,
      ...(reading ? { kernel: reading.kernel } : {}),
      notCaptured,
      operstate: state?.operstate ?? 'notpresent',
      carrier: state?.carrier ?? false,
      adminUp: state?.adminUp ?? false,
      rates: this.down === null ? this.rates : NO_RATES,
      peer: this.health ? this.health.state : null,
      down: this.down,
    };
  }

  metrics(): ChannelMetrics | undefined {
    if (this.down !== null) return undefined;
    const reading = this.readQuietly();
    if (!reading) return undefined;
    return channelMetrics(this.plan, reading.counters, reading.state.mtu || this.mtu, this.health);
  }
}
