// The daemon: brings one TAP + bridge + endpoint up per planned channel, serves the control socket,
// applies reloads, and takes everything down again. Teardown removes every interface and namespace it
// created, also when it is asked to stop while interfaces are still coming up.
import { ChannelBridge } from '../src/bridge/bridge.js';
import { RateMeter } from '../src/bridge/rates.js';
import { formatFinding } from '../src/channels/findings.js';
import { loadPlan, type LoadedPlan } from '../src/channels/plan.js';
import type { ChannelPlan } from '../src/channels/types.js';
import type { ControlRequest } from '../src/control/protocol.js';
import { ControlServer } from '../src/control/server.js';
import { channelMac } from '../src/iface/mac.js';
import type { Logger } from '../src/log.js';
import { closeFd, linkSet, tapCreate } from '../src/native/index.js';
import { ip } from '../src/netns/ip.js';
import { OwnedNamespaces } from '../src/netns/namespaces.js';
import { SimLink, SimTransport } from '../src/transport/sim.js';
import type { ChannelLink, Transport } from '../src/transport/transport.js';
import { UserError } from '../src/util/errors.js';

const ETH_HEADER = 14;

export interface DaemonOptions {
  deviceTree?: string;
  configPath?: string;
  transport?: string;
  netns?: string;
  peerNetns?: string;
  channels?: number[];
  controlSocket: string;
  log: Logger;
}

interface RunningChannel {
  plan: ChannelPlan;
  mtu: number;
  tapFd: number;
  bridge?: ChannelBridge;
  link?: ChannelLink;
  rates?: RateMeter;
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
  private rateTimer: NodeJS.Timeout | undefined;
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

  private readPlan(): LoadedPlan {
    const loaded = loadPlan({ deviceTree: this.opts.deviceTree, configPath: this.opts.configPath });
    for (const f of loaded.findings) this.log.warn({ property: f.property, channel: f.channel }, formatFinding(f));
    return loaded;
  }

  private async startAll(): Promise<void> {
    const loaded = this.readPlan();
    this.transportName = this.opts.transport ?? loaded.config.transport;
    const wanted = selectChannels(loaded.plans, this.opts.channels);

    this.control = new ControlServer(this.opts.controlSocket, (req) => this.answer(req));
    await this.control.start();
    this.check();

    if (this.opts.netns) await this.ensureNamespace(this.opts.netns);
    this.check();
    this.transport = await this.openTransport(this.transportName, this.opts.peerNetns ?? loaded.config.peer.netns);
    this.check();

    for (const plan of wanted) {
      await this.startChannel(plan);
      this.check();
    }
    this.rateTimer = setInterval(() => {
      for (const c of this.channels.values()) c.rates?.sample();
    }, 1000).unref();
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
    if (name !== 'sim') throw new UserError(`transport "${name}" is not available in this build; use --transport sim`, 1);
    if (this.opts.netns && this.opts.netns === peerNetns) {
      throw new UserError(`--netns and --peer-netns must differ (both are "${peerNetns}")`, 1);
    }
    await this.ensureNamespace(peerNetns);
    return new SimTransport({ peerNetns, log: this.log });
  }

  private async startChannel(plan: ChannelPlan): Promise<void> {
    const netns = this.opts.netns;
    const tapFd = tapCreate(plan.ifname, netns);
    const channel: RunningChannel = { plan, mtu: plan.mtu, tapFd };
    this.channels.set(plan.channel, channel);
    const bridge = new ChannelBridge(plan, tapFd, this.log);
    channel.bridge = bridge;
    channel.rates = new RateMeter(bridge.counters);
    const link = await (this.transport as Transport).open(plan, bridge);
    channel.link = link;
    // The endpoint may allow less than the device tree promises: the smaller limit wins.
    channel.mtu = Math.min(plan.mtu, link.maxPayload - ETH_HEADER);
    linkSet(plan.ifname, { netns, mtu: channel.mtu, mac: channelMac(plan.channel, 'linux'), up: true });
    await ip(['addr', 'add', plan.address, 'dev', plan.ifname], netns);
    bridge.attach(link);
    this.log.info(
      { ifname: plan.ifname, channel: plan.channel, name: plan.name, mtu: channel.mtu, address: plan.address, peer: plan.peerAddress },
      `${plan.ifname} up: ${plan.name}, mtu ${channel.mtu}, ${plan.address} -> ${plan.peerAddress}`,
    );
  }

  private async stopChannel(channel: RunningChannel): Promise<void> {
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
    const next = this.reloading.then(() => this.applyReload());
    next.catch((err: Error) => this.log.error({ err: err.message }, `reload rejected, running setup kept: ${err.message}`));
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private async applyReload(): Promise<ReloadResult> {
    if (this.stopping) throw new UserError('the daemon is stopping', 1);
    const loaded = this.readPlan();
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
    this.log.info({ ifname: plan.ifname, mtu, address: plan.address, peer: plan.peerAddress }, `${plan.ifname} reconfigured`);
  }

  private channelStatus(c: RunningChannel) {
    const counters = c.bridge?.counters;
    return {
      channel: c.plan.channel,
      ifname: c.plan.ifname,
      name: c.plan.name,
      mtu: c.mtu,
      address: c.plan.address,
      peerAddress: c.plan.peerAddress,
      ...counters,
      carrier: counters?.link === 'up',
      rates: c.rates?.rates,
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
    if (this.rateTimer) clearInterval(this.rateTimer);
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
    a.index === b.index
  );
}
