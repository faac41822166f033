// The daemon: brings one TAP + bridge + endpoint up per planned channel, serves the control socket,
// applies reloads, and takes everything down again. Teardown removes every interface and namespace it
// created, also when it is asked to stop while interfaces are still coming up.
import { ChannelBridge } from '../src/bridge/bridge.js';
import { formatFinding } from '../src/channels/findings.js';
import { ipv6Findings } from '../src/channels/ipv6.js';
import { loadPlan, type LoadedPlan } from '../src/channels/plan.js';
import type { ChannelPlan } from '../src/channels/types.js';
import { controlSocketPath, type ControlRequest } from '../src/control/protocol.js';
import { ControlServer, type StreamContext } from '../src/control/server.js';
import type { StreamRequest } from '../src/control/stream-protocol.js';
import { describeConfig } from '../src/config/locate.js';
import type { Config } from '../src/config/schema.js';
import { PeerHealth } from '../src/health/peer-health.js';
import { createMetricsRegistry, type ChannelMetrics } from '../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../src/metrics/server.js';
import { readInterfaceState } from '../src/iface/link-state.js';
import { channelMac } from '../src/iface/mac.js';
import type { Logger } from '../src/log.js';
import { closeFd, linkSet, tapCreate } from '../src/native/index.js';
import { ip } from '../src/netns/ip.js';
import { OwnedNamespaces } from '../src/netns/namespaces.js';
import { KmodTransport } from '../src/transport/kmod.js';
import { RpmsgCharTransport } from '../src/transport/rpmsg-char.js';
import { SimLink, SimTransport } from '../sim/transport.js';
import type { ChannelLink, Transport } from '../src/transport/transport.js';
import { UserError } from '../src/util/errors.js';
import { runCapture, runReplay, type CaptureTarget } from './capture.js';
import type { SystemdNotifier } from './systemd.js';

const ETH_HEADER = 14;

export interface DaemonOptions {
  deviceTree?: string;
  /** `--include`: folders for the .dts's includes, before the config's deviceTreeIncludes. */
  includeDirs?: string[];
  configPath?: string;
  transport?: string;
  netns?: string;
  peerNetns?: string;
  channels?: number[];
  /** `up --metrics [ADDR:]PORT`, over the config's. */
  metrics?: string;
  /** `up --health-interval MS`, over the config's; 0 = off. */
  healthIntervalMs?: number;
  /** `up --framing`: every channel's framing, over the config's. */
  framing?: 'raw' | 'frag';
  /** Debug/tests (sim): channels whose simulated peer speaks only raw framing. */
  simRawOnlyPeers?: number[];
  /** --control-socket or $RPMSG_ETH_CONTROL; else the config's controlSocket, else the default. */
  controlSocket?: string;
  /** Told of reloads (RELOADING=1, then READY=1 with the interface count). */
  systemd?: Pick<SystemdNotifier, 'reloading' | 'ready'>;
  log: Logger;
}

interface RunningChannel {
  plan: ChannelPlan;
  mtu: number;
  tapFd: number;
  bridge?: ChannelBridge;
  link?: ChannelLink;
  health?: PeerHealth;
}

export interface ReloadResult {
  added: number[];
  removed: number[];
  changed: number[];
  restarted: number[];
  unchanged: number[];
}

class Stopping extends Error {}

export class Daemon {
  private readonly namespaces = new OwnedNamespaces();
  private readonly channels = new Map<number, RunningChannel>();
  private transport: Transport | undefined;
  private transportName = 'sim';
  private control: ControlServer | undefined;
  private stopPromise: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** Reloads run one after another, never beside a start or a stop. */
  private reloading: Promise<unknown> = Promise.resolve();
  private metrics: MetricsServer | undefined;
  private readonly captureStops = new Set<AbortController>();
  /** Frames captures did not take because their reader fell behind, per channel (stats). */
  private readonly notCaptured = new Map<number, number>();
  /** Channels a replay is feeding (one replay per channel at a time). */
  private readonly replaying = new Set<number>();
  /** The config in force: health settings are read from it when a channel comes up. */
  private config: Config | undefined;
  private readonly log: Logger;
  private resolveStopped!: () => void;
  /** Resolves once a stop() has finished tearing down. */
  readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log;
  }

  get stopping(): boolean {
    return this.stopPromise !== undefined;
  }

  /** Interfaces up now. */
  get interfaceCount(): number {
    return this.channels.size;
  }

  private check(): void {
    if (this.stopping) throw new Stopping('stopped while starting');
  }

  /** Brings every channel up. Resolves false if stop() was called before it finished. */
  async start(): Promise<boolean> {
    this.starting = this.startAll();
    this.reloading = this.starting.catch(() => undefined);
    try {
      await this.starting;
      return true;
    } catch (err) {
      if (err instanceof Stopping) return false;
      throw err;
    }
  }

  private async readPlan(): Promise<LoadedPlan> {
    const { deviceTree, includeDirs, configPath, framing } = this.opts;
    const loaded = await loadPlan({ deviceTree, includeDirs, configPath, framing });
    const configName = describeConfig({ path: loaded.configPath, source: loaded.configSource });
    this.log.info(
      { config: loaded.configPath, configSource: loaded.configSource, deviceTree: loaded.deviceTreePath },
      `config ${configName}, device tree ${loaded.deviceTreePath}`,
    );
    // Warnings about channels this daemon does not run (--channels) are `rpmsg-eth check`'s business.
    const selected = selectChannels(loaded.plans, this.opts.channels);
    const running = new Set(selected.map((p) => p.index));
    const sources = { deviceTree: loaded.deviceTreePath, config: loaded.configPath };
    for (const f of [...loaded.findings, ...ipv6Findings(selected, sources)]) {
      if (f.channel && !running.has(f.channel.index)) continue;
      this.log.warn({ property: f.property, channel: f.channel }, formatFinding(f));
    }
    return loaded;
  }

  private async startAll(): Promise<void> {
    const loaded = await this.readPlan();
    this.config = loaded.config;
    this.transportName = this.opts.transport ?? loaded.config.transport;
    const wanted = selectChannels(loaded.plans, this.opts.channels);

    const socket = controlSocketPath(this.opts.controlSocket, loaded.config.controlSocket);
    this.control = new ControlServer(socket, (req) => this.answer(req), { stream: (req, ctx) => this.answerStream(req, ctx) });
    await this.control.start();
    this.check();
    const metricsSpec = this.opts.metrics ?? loaded.config.metrics;
    if (metricsSpec) {
      this.metrics = await startMetricsServer(metricsSpec, createMetricsRegistry(() => this.metricsSnapshot()), {
        onError: (err: Error) => this.log.error({ err: err.message }, 'metrics endpoint'),
      });
      this.log.info({ address: this.metrics.address, port: this.metrics.port }, `metrics on http://${this.metrics.address}:${this.metrics.port}/metrics`);
      this.check();
    }

    if (this.opts.netns) await this.ensureNamespace(this.opts.netns);
    this.check();
    this.transport = await this.openTransport(this.transportName, this.opts.peerNetns ?? loaded.config.peer.netns);
    this.check();

    for (const plan of wanted) {
      await this.startChannel(plan);
      this.check();
    }
    this.log.info(
      { interfaces: wanted.map((p) => p.ifname), transport: this.transportName, netns: this.opts.netns ?? null },
      `ready: ${wanted.length} interface(s) up`,
    );
  }

  private async ensureNamespace(name: string): Promise<void> {
    const { replacedLeftoverOf } = await this.namespaces.ensure(name);
    if (replacedLeftoverOf !== undefined) {
      this.log.warn({ netns: name, deadPid: replacedLeftoverOf }, `removed namespace ${name} left over by a crashed run (pid ${replacedLeftoverOf})`);
    }
  }

  private async openTransport(name: string, peerNetns: string): Promise<Transport> {
    if (name === 'kmod') return new KmodTransport({ log: this.log });
    if (name === 'rpmsg-char') return new RpmsgCharTransport({ log: this.log });
    if (name !== 'sim') throw new UserError(`unknown transport "${name}" (sim, kmod or rpmsg-char)`, 2);
    if (this.opts.netns && this.opts.netns === peerNetns) {
      throw new UserError(`--netns and --peer-netns must differ (both are "${peerNetns}")`, 1);
    }
    await this.ensureNamespace(peerNetns);
    return new SimTransport({ peerNetns, log: this.log, rawOnlyPeers: this.opts.simRawOnlyPeers });
  }

  private async startChannel(plan: ChannelPlan): Promise<void> {
    const netns = this.opts.netns;
    const tapFd = tapCreate(plan.ifname, netns);
    const channel: RunningChannel = { plan, mtu: plan.mtu, tapFd };
    this.channels.set(plan.channel, channel);
    const frag = plan.framing === 'frag';
    const bridge = new ChannelBridge(plan, tapFd, this.log, { onModeChange: frag ? (_mode, mtu) => this.fragMtu(channel, mtu) : undefined });
    channel.bridge = bridge;
    const link = await (this.transport as Transport).open(plan, bridge);
    channel.link = link;
    // The endpoint may allow less than the device tree promises: the smaller limit wins. With frag the
    // plan's MTU holds unless the negotiation falls back to raw (onModeChange).
    channel.mtu = frag ? plan.mtu : Math.min(plan.mtu, link.maxPayload - ETH_HEADER);
    linkSet(plan.ifname, { netns, mtu: channel.mtu, mac: channelMac(plan.channel, 'linux'), up: true });
    await ip(['addr', 'add', plan.address, 'dev', plan.ifname], netns);
    this.startHealth(channel);
    this.log.info(
      { ifname: plan.ifname, channel: plan.channel, name: plan.name, mtu: channel.mtu, framing: plan.framing, address: plan.address, peer: plan.peerAddress },
      `${plan.ifname} up: ${plan.name}, mtu ${channel.mtu}, ${plan.address} -> ${plan.peerAddress}`,
    );
  }

  /** frag: the negotiation's outcome sets the interface MTU. */
  private fragMtu(channel: RunningChannel, mtu: number): void {
    const { plan } = channel;
    const wanted = Math.min(plan.mtu, mtu);
    if (wanted === channel.mtu || this.channels.get(plan.channel) !== channel) return;
    try {
      linkSet(plan.ifname, { netns: this.opts.netns, mtu: wanted });
      channel.mtu = wanted;
    } catch (err) {
      this.log.error({ ifname: plan.ifname, err: (err as Error).message }, `${plan.ifname}: cannot set mtu ${wanted}`);
    }
  }

  /** ICMP probes to the channel's peer, unless switched off globally or for the channel. */
  private startHealth(channel: RunningChannel): void {
    channel.health?.stop();
    channel.health = undefined;
    const settings = this.config?.health;
    const intervalMs = this.opts.healthIntervalMs ?? settings?.intervalMs ?? 0;
    const { plan } = channel;
    if (!settings || intervalMs === 0 || this.config?.channels[String(plan.channel)]?.health === false) return;
    channel.health = new PeerHealth({
      ifname: plan.ifname,
      peerAddress: plan.peerAddress,
      netns: this.opts.netns,
      intervalMs,
      failAfter: settings.failAfter,
      onChange: (reachable, state) => {
        const fields = { ifname: plan.ifname, channel: plan.channel, peer: plan.peerAddress, rttMs: state.rttMs };
        if (reachable) this.log.info(fields, `${plan.ifname}: peer ${plan.peerAddress} reachable`);
        else this.log.warn({ ...fields, error: state.lastError }, `${plan.ifname}: peer ${plan.peerAddress} unreachable`);
      },
    });
    channel.health.start();
  }

  private metricsSnapshot(): ChannelMetrics[] {
    return [...this.channels.values()].flatMap((c) => {
      const counters = c.bridge?.counters;
      if (!counters) return [];
      const peer = c.health?.state;
      return [
        {
          device: c.plan.ifname,
          channel: c.plan.channel,
          channelName: c.plan.name,
          rx: counters.rx,
          tx: counters.tx,
          rxDrops: counters.rxDrops,
          txDrops: counters.txDrops,
          up: counters.link === 'up',
          carrierChanges: counters.linkChanges,
          mtu: c.mtu,
          peer: peer ? { reachable: peer.reachable, rttMs: peer.rttMs } : null,
        },
      ];
    });
  }

  private captureTargets(): CaptureTarget[] {
    return [...this.channels.values()].flatMap((c) =>
      c.bridge ? [{ channel: c.plan.channel, ifname: c.plan.ifname, name: c.plan.name, bridge: c.bridge }] : [],
    );
  }

  private async stopChannel(channel: RunningChannel): Promise<void> {
    channel.health?.stop();
    this.channels.delete(channel.plan.channel);
    await channel.link?.close();
    if (channel.bridge) channel.bridge.close();
    else closeFd(channel.tapFd);
    this.log.info({ ifname: channel.plan.ifname, channel: channel.plan.channel }, `${channel.plan.ifname} removed`);
  }

  /**
   * Re-reads the config and the device tree and applies the difference: added channels come up, removed
   * ones go down, changed addresses and MTUs are applied in place. Channels whose ring changed (buffer
   * size or count, endpoints, name, interface name) are restarted. Untouched channels are not touched at
   * all. An invalid new config throws with the reason; the running setup stays as it was.
   */
  reload(): Promise<ReloadResult> {
    const next = this.reloading.then(() => {
      if (!this.stopping) this.opts.systemd?.reloading();
      return this.applyReload();
    });
    // Reloaded or rejected, the daemon runs on with the setup it has: ready again, unless stopping.
    const readyAgain = () => void (this.stopping || this.opts.systemd?.ready(this.interfaceCount));
    next.then(readyAgain, readyAgain);
    next.catch((err: Error) => this.log.error({ err: err.message }, `reload rejected, running setup kept: ${err.message}`));
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private async applyReload(): Promise<ReloadResult> {
    if (this.stopping) throw new UserError('the daemon is stopping', 1);
    const loaded = await this.readPlan();
    this.config = loaded.config;
    const transport = this.opts.transport ?? loaded.config.transport;
    if (transport !== this.transportName) {
      throw new UserError(`the transport changed (${this.transportName} -> ${transport}): that needs a restart, not a reload`, 1);
    }
    const wanted = new Map(selectChannels(loaded.plans, this.opts.channels).map((p) => [p.channel, p]));
    const result: ReloadResult = { added: [], removed: [], changed: [], restarted: [], unchanged: [] };
    for (const [n, running] of [...this.channels]) {
      if (!wanted.has(n)) {
        await this.stopChannel(running);
        result.removed.push(n);
      }
    }
    for (const [n, plan] of wanted) {
      const running = this.channels.get(n);
      if (!running) {
        await this.startChannel(plan);
        result.added.push(n);
      } else if (samePlan(running.plan, plan)) {
        result.unchanged.push(n);
      } else if (sameRing(running.plan, plan)) {
        await this.applyInPlace(running, plan);
        result.changed.push(n);
      } else {
        await this.stopChannel(running);
        await this.startChannel(plan);
        result.restarted.push(n);
      }
    }
    this.log.info(result, 'reloaded');
    return result;
  }

  /** Address and MTU changes, applied without touching the data path. */
  private async applyInPlace(channel: RunningChannel, plan: ChannelPlan): Promise<void> {
    const netns = this.opts.netns;
    const old = channel.plan;
    channel.plan = plan;
    const mtu = Math.min(plan.mtu, (channel.link?.maxPayload ?? plan.maxPayload) - ETH_HEADER);
    if (mtu !== channel.mtu) {
      linkSet(plan.ifname, { netns, mtu });
      channel.mtu = mtu;
    }
    if (old.address !== plan.address) {
      await ip(['addr', 'add', plan.address, 'dev', plan.ifname], netns);
      await ip(['addr', 'del', old.address, 'dev', plan.ifname], netns);
    }
    if (channel.link instanceof SimLink) await channel.link.applyPlan(plan);
    if (old.peerAddress !== plan.peerAddress) this.startHealth(channel);
    this.log.info({ ifname: plan.ifname, mtu, address: plan.address, peer: plan.peerAddress }, `${plan.ifname} reconfigured`);
  }

  private channelStatus(c: RunningChannel) {
    const counters = c.bridge?.counters;
    // LINK and CARRIER as the kernel sees the interface; `link` is the channel's link to the peer.
    const kernel = readInterfaceState(c.plan.ifname, this.opts.netns);
    return {
      channel: c.plan.channel,
      ifname: c.plan.ifname,
      name: c.plan.name,
      mtu: c.mtu,
      address: c.plan.address,
      peerAddress: c.plan.peerAddress,
      ...counters,
      ...(c.plan.framing === 'frag' && c.bridge ? { framing: c.bridge.framingStats() } : {}),
      notCaptured: this.notCaptured.get(c.plan.channel) ?? 0,
      operstate: kernel.operstate,
      carrier: kernel.carrier,
      rates: c.bridge?.rates,
      peer: c.health ? c.health.state : null,
    };
  }

  private async answer(req: ControlRequest): Promise<unknown> {
    switch (req.cmd) {
      case 'stats':
      case 'status':
        return { channels: [...this.channels.values()].filter((c) => c.bridge).map((c) => this.channelStatus(c)) };
      case 'reload':
        return this.reload();
      case 'peer-restart': {
        if (!(this.transport instanceof SimTransport)) throw new Error('peer-restart needs the sim transport');
        if (!this.transport.restartPeer(req.channel, req.downMs ?? 1000)) throw new Error(`no channel ${req.channel}`);
        return { restarted: req.channel };
      }
      default:
        throw new Error(`unknown command ${JSON.stringify((req as { cmd: unknown }).cmd)}`);
    }
  }

  /** `capture` and `replay`: frames stream over the client's connection. */
  private async answerStream(req: StreamRequest, ctx: StreamContext): Promise<unknown> {
    try {
      return await this.runStream(req, ctx);
    } catch (err) {
      this.log.warn({ cmd: req.cmd, err: (err as Error).message }, `${req.cmd} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private async runStream(req: StreamRequest, ctx: StreamContext): Promise<unknown> {
    if (this.stopping) throw new UserError('the daemon is stopping', 1);
    if (req.cmd === 'capture') {
      // Ends with the client (Ctrl-C) or with the daemon, whichever goes first.
      const stop = new AbortController();
      this.captureStops.add(stop);
      try {
        const result = await runCapture(
          req,
          this.captureTargets(),
          ctx,
          stop.signal,
          (ifnames) => this.log.info({ interfaces: ifnames }, `capture started: ${ifnames.join(', ')}`),
          (channel) => this.notCaptured.set(channel, (this.notCaptured.get(channel) ?? 0) + 1),
        );
        this.log.info({ ...result }, `capture ended (${result.ended}): ${result.frames} frame(s)`);
        return result;
      } finally {
        this.captureStops.delete(stop);
      }
    }
    const target = this.captureTargets().find((t) => t.channel === req.channel);
    if (!target) throw new UserError(`no running channel ${req.channel}`, 1);
    if (this.replaying.has(req.channel)) throw new UserError(`channel ${req.channel} is already being replayed into`, 1);
    this.replaying.add(req.channel);
    try {
      const result = await runReplay(target, ctx);
      this.log.info({ channel: req.channel, ...result }, `replay into ${target.ifname}: ${result.offered} of ${result.frames} frame(s) offered`);
      return result;
    } finally {
      this.replaying.delete(req.channel);
    }
  }

  /** Tears everything down; safe to call any number of times, from any state. */
  stop(): Promise<void> {
    // A start in progress notices at its next step and gives up; tear down once it has, so nothing it
    // was creating at that moment is left behind. A reload in progress finishes first, likewise.
    this.stopPromise ??= Promise.all([this.starting, this.reloading].map((p) => p?.catch(() => undefined))).then(() =>
      this.teardown(),
    );
    return this.stopPromise;
  }

  private async teardown(): Promise<void> {
    for (const c of this.channels.values()) c.health?.stop();
    for (const stop of this.captureStops) stop.abort();
    await this.metrics?.close().catch(() => undefined);
    await this.control?.close().catch(() => undefined);
    await this.transport?.close().catch((err: Error) => this.log.error({ err: err.message }, 'closing transport'));
    for (const c of this.channels.values()) {
      if (c.bridge) c.bridge.close();
      else closeFd(c.tapFd);
    }
    this.channels.clear();
    for (const msg of await this.namespaces.removeAll()) this.log.error(msg);
    this.log.info('stopped: interfaces and namespaces removed');
    this.resolveStopped();
  }
}

function selectChannels(plans: ChannelPlan[], channels: number[] | undefined): ChannelPlan[] {
  const enabled = plans.filter((p) => p.enabled);
  if (!channels) return enabled;
  for (const n of channels) {
    if (!plans.some((p) => p.channel === n)) {
      throw new UserError(`--channels: channel ${n} is not in the device tree (channels: ${plans.map((p) => p.channel).join(',')})`, 1);
    }
  }
  return enabled.filter((p) => channels.includes(p.channel));
}

function samePlan(a: ChannelPlan, b: ChannelPlan): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Everything the endpoint and the interface's identity are made of. */
function sameRing(a: ChannelPlan, b: ChannelPlan): boolean {
  return (
    a.name === b.name &&
    a.ifname === b.ifname &&
    a.ethEndpoint === b.ethEndpoint &&
    a.remoteEndpoint === b.remoteEndpoint &&
    a.bufSize === b.bufSize &&
    a.numBufs === b.numBufs &&
    a.index === b.index &&
    // frag's frame limit is fixed when its link is built.
    a.framing === b.framing &&
    (a.framing === 'raw' || a.mtu === b.mtu)
  );
}
