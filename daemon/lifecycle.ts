// The daemon: brings one TAP + bridge + endpoint up per planned channel, serves the control socket,
// and takes everything down again. Teardown removes every interface and namespace it created, also
// when it is asked to stop while interfaces are still coming up.
import { loadPlan } from '../src/channels/plan.js';
import type { ChannelPlan } from '../src/channels/types.js';
import { ChannelBridge } from '../src/bridge/bridge.js';
import { ControlServer } from '../src/control/server.js';
import type { ControlRequest } from '../src/control/protocol.js';
import { channelMac } from '../src/iface/mac.js';
import type { Logger } from '../src/log.js';
import { closeFd, linkSet, tapCreate } from '../src/native/index.js';
import { ip } from '../src/netns/ip.js';
import { OwnedNamespaces } from '../src/netns/namespaces.js';
import type { ChannelLink, Transport } from '../src/transport/transport.js';
import { SimTransport } from '../src/transport/sim.js';
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

interface Channel {
  plan: ChannelPlan;
  tapFd: number;
  bridge?: ChannelBridge;
  link?: ChannelLink;
}

class Stopping extends Error {}

export class Daemon {
  private readonly namespaces = new OwnedNamespaces();
  private readonly channels: Channel[] = [];
  private transport: Transport | undefined;
  private control: ControlServer | undefined;
  private stopPromise: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
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
    this.starting = this.startChannels();
    try {
      await this.starting;
      return true;
    } catch (err) {
      if (err instanceof Stopping) return false;
      throw err;
    }
  }

  private async startChannels(): Promise<void> {
    const { plans, config } = loadPlan({ deviceTree: this.opts.deviceTree, configPath: this.opts.configPath });
    const cfg = config as { transport?: string; peer?: { netns?: string } };
    const transportName = this.opts.transport ?? cfg.transport ?? 'sim';
    const wanted = selectChannels(plans, this.opts.channels);

    this.control = new ControlServer(this.opts.controlSocket, (req) => this.answer(req));
    await this.control.start();
    this.check();

    const netns = this.opts.netns;
    if (netns) await this.namespaces.ensure(netns);
    this.check();
    this.transport = await this.openTransport(transportName, this.opts.peerNetns ?? cfg.peer?.netns ?? 'rpmsg-vx');
    this.check();

    for (const plan of wanted) {
      await this.startChannel(plan, netns);
      this.check();
    }
    this.log.info(
      { interfaces: wanted.map((p) => p.ifname), transport: transportName, netns: netns ?? null },
      `ready: ${wanted.length} interface(s) up`,
    );
  }

  private async openTransport(name: string, peerNetns: string): Promise<Transport> {
    if (name !== 'sim') throw new UserError(`transport "${name}" is not available in this build; use --transport sim`, 1);
    if (this.opts.netns && this.opts.netns === peerNetns) {
      throw new UserError(`--netns and --peer-netns must differ (both are "${peerNetns}")`, 1);
    }
    await this.namespaces.ensure(peerNetns);
    return new SimTransport({ peerNetns, log: this.log });
  }

  private async startChannel(plan: ChannelPlan, netns: string | undefined): Promise<void> {
    const tapFd = tapCreate(plan.ifname, netns);
    const channel: Channel = { plan, tapFd };
    this.channels.push(channel);
    const bridge = new ChannelBridge(plan, tapFd, this.log);
    channel.bridge = bridge;
    const link = await (this.transport as Transport).open(plan, bridge);
    channel.link = link;
    // The endpoint may allow less than the device tree promises: the smaller limit wins.
    const mtu = Math.min(plan.mtu, link.maxPayload - ETH_HEADER);
    linkSet(plan.ifname, { netns, mtu, mac: channelMac(plan.channel, 'linux'), up: true });
    await ip(['addr', 'add', plan.address, 'dev', plan.ifname], netns);
    bridge.attach(link);
    this.log.info(
      { ifname: plan.ifname, channel: plan.channel, name: plan.name, mtu, address: plan.address, peer: plan.peerAddress },
      `${plan.ifname} up: ${plan.name}, mtu ${mtu}, ${plan.address} -> ${plan.peerAddress}`,
    );
  }

  private answer(req: ControlRequest): unknown {
    switch (req.cmd) {
      case 'stats':
      case 'status':
        return {
          channels: this.channels
            .filter((c) => c.bridge)
            .map((c) => ({ channel: c.plan.channel, ifname: c.plan.ifname, name: c.plan.name, ...c.bridge?.counters })),
        };
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
    // was creating at that moment is left behind.
    this.stopPromise ??= (this.starting ?? Promise.resolve()).catch(() => undefined).then(() => this.teardown());
    return this.stopPromise;
  }

  private async teardown(): Promise<void> {
    await this.control?.close().catch(() => undefined);
    await this.transport?.close().catch((err: Error) => this.log.error({ err: err.message }, 'closing transport'));
    for (const c of this.channels) {
      c.bridge?.close();
      if (!c.bridge) closeFd(c.tapFd);
    }
    this.channels.length = 0;
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
