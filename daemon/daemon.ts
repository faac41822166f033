// The daemon: reads the plan, opens the transport, brings one Channel (channel.ts) up per planned channel,
// answers the control socket, applies reloads (reload.ts) and takes everything down again. Starting,
// reloading, recreating a deleted interface and stopping run one at a time. Teardown removes every
// interface and namespace it created, also when it is asked to stop while interfaces are coming up.
//
// A deleted interface (`ip link del rpmsg2`): its channel goes down at once (status says why) and is
// recreated with its addresses a second later; if that fails, it stays down, and the log says so.
import { formatFinding } from '../src/channels/findings.js';
import { ipv6Findings } from '../src/channels/ipv6.js';
import { loadPlan, type LoadedPlan } from '../src/channels/plan.js';
import type { ChannelPlan } from '../src/channels/types.js';
import { describeConfig } from '../src/config/locate.js';
import type { Config } from '../src/config/schema.js';
import { controlSocketPath, type LineReplies, type LineReply, type LineRequest, type ReloadResult } from '../src/control/protocol.js';
import { ControlServer } from '../src/control/server.js';
import type { Logger } from '../src/log.js';
import { createMetricsRegistry } from '../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../src/metrics/server.js';
import { OwnedNamespaces } from '../src/netns/namespaces.js';
import { openTransport } from '../src/transport/registry.js';
import type { Transport } from '../src/transport/transport.js';
import { UserError } from '../src/util/errors.js';
import { Channel, type CaptureTarget, type DaemonChannel } from './channel.js';
import { NetdevChannel } from './netdev-channel.js';
import { applyReload, ReloadFailed } from './reload.js';
import { Streams } from './streams.js';
import type { SystemdNotifier } from './systemd.js';

/** How long a deleted interface stays away before the daemon makes it again. */
const RECREATE_DELAY_MS = 1000;

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

class Stopping extends Error {}

export class Daemon {
  private readonly namespaces = new OwnedNamespaces();
  /** Every channel by number: running, or down with the reason (its interface was deleted). */
  private readonly channels = new Map<number, DaemonChannel>();
  private transport: Transport | undefined;
  private transportName = 'sim';
  private peerNetns = '';
  private control: ControlServer | undefined;
  private metrics: MetricsServer | undefined;
  private readonly streams: Streams;
  private readonly recreating = new Set<NodeJS.Timeout>();
  /** The config in force: health settings are read from it when a channel comes up. */
  private config: Config | undefined;
  /** Start, reloads and recreations, one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopPromise: Promise<void> | undefined;
  private readonly log: Logger;
  private resolveStopped!: () => void;
  /** Resolves once a stop() has finished tearing down. */
  readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log;
    this.streams = new Streams(opts.log);
  }

  get stopping(): boolean {
    return this.stopPromise !== undefined;
  }

  /** Interfaces up now. */
  get interfaceCount(): number {
    return [...this.channels.values()].filter((c) => c.down === null).length;
  }

  private check(): void {
    if (this.stopping) throw new Stopping('stopped while starting');
  }

  /** Runs `fn` after everything queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Brings every channel up. Resolves false if stop() was called before it finished. */
  async start(): Promise<boolean> {
    try {
      await this.exclusive(() => this.startAll());
      return true;
    } catch (err) {
      if (err instanceof Stopping) return false;
      throw err;
    }
  }

  private async readPlan(): Promise<{ loaded: LoadedPlan; wanted: ChannelPlan[] }> {
    const { deviceTree, includeDirs, configPath, framing } = this.opts;
    const loaded = await loadPlan({ deviceTree, includeDirs, configPath, framing });
    const configName = describeConfig({ path: loaded.configPath, source: loaded.configSource });
    this.log.info(
      { config: loaded.configPath, configSource: loaded.configSource, deviceTree: loaded.deviceTreePath },
      `config ${configName}, device tree ${loaded.deviceTreePath}`,
    );
    // Warnings about channels this daemon does not run (--channels) are `rpmsg-eth check`'s business.
    const wanted = selectChannels(loaded.plans, this.opts.channels);
    const running = new Set(wanted.map((p) => p.index));
    const sources = { deviceTree: loaded.deviceTreePath, config: loaded.configPath };
    for (const f of [...loaded.findings, ...ipv6Findings(wanted, sources)]) {
      if (f.channel && !running.has(f.channel.index)) continue;
      this.log.warn({ property: f.property, channel: f.channel }, formatFinding(f));
    }
    return { loaded, wanted };
  }

  private async startAll(): Promise<void> {
    const { loaded, wanted } = await this.readPlan();
    this.config = loaded.config;
    this.transportName = this.opts.transport ?? loaded.config.transport;
    this.peerNetns = this.opts.peerNetns ?? loaded.config.peer.netns;

    const socket = controlSocketPath(this.opts.controlSocket, loaded.config.controlSocket);
    this.control = new ControlServer(socket, (req) => this.answer(req), {
      stream: (req, ctx) => {
        if (this.stopping) throw new UserError('the daemon is stopping', 1);
        return this.streams.serve(req, ctx, this.captureTargets());
      },
    });
    await this.control.start();
    this.check();
    const metricsSpec = this.opts.metrics ?? loaded.config.metrics;
    if (metricsSpec) {
      const registry = createMetricsRegistry(() => [...this.channels.values()].flatMap((c) => c.metrics() ?? []));
      this.metrics = await startMetricsServer(metricsSpec, registry, {
        onError: (err: Error) => this.log.error({ err: err.message }, 'metrics endpoint'),
      });
      this.log.info({ address: this.metrics.address, port: this.metrics.port }, `metrics on http://${this.metrics.address}:${this.metrics.port}/metrics`);
      this.check();
    }

    if (this.opts.netns) await this.ensureNamespace(this.opts.netns);
    this.check();
    this.transport = await openTransport(this.transportName, {
      log: this.log,
      netns: this.opts.netns,
      peerNetns: this.peerNetns,
      ensureNamespace: (name) => this.ensureNamespace(name),
      simRawOnlyPeers: this.opts.simRawOnlyPeers,
    });
    this.check();

    for (const plan of wanted) {
      const channel = this.newChannel(plan);
      await channel.start();
      this.channels.set(plan.channel, channel);
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

  private newChannel(plan: ChannelPlan): DaemonChannel {
    const transport = this.transport as Transport;
    const health = (p: ChannelPlan) => {
      const settings = this.config?.health;
      const intervalMs = this.opts.healthIntervalMs ?? settings?.intervalMs ?? 0;
      if (!settings || intervalMs === 0 || this.config?.channels[String(p.channel)]?.health === false) return undefined;
      return { intervalMs, failAfter: settings.failAfter };
    };
    // The kernel's own interfaces (netdev): adopted, no TAP, no data plane.
    if (transport.adopt) {
      const adopt = transport.adopt.bind(transport);
      return new NetdevChannel(plan, {
        netns: this.opts.netns,
        transport: { adopt },
        log: this.log,
        health,
        mtuLowered: (p) => this.config?.channels[String(p.channel)]?.mtu !== undefined,
      });
    }
    return new Channel(plan, { netns: this.opts.netns, transport, log: this.log, health, onTapGone: (channel) => this.recreateLater(channel) });
  }

  /** A channel whose interface was deleted: down now, made anew (with its addresses) a moment later. */
  private recreateLater(gone: DaemonChannel): void {
    const { ifname, channel: n } = gone.plan;
    const timer = setTimeout(() => {
      this.recreating.delete(timer);
      void this.exclusive(async () => {
        if (this.stopping || this.channels.get(n) !== gone) return; // stopping, or a reload got there first
        const why = gone.down ?? `${ifname} was deleted`;
        await gone.stop();
        const again = this.newChannel(gone.plan);
        try {
          await again.start();
          this.channels.set(n, again);
          this.log.warn({ ifname, channel: n }, `${ifname} recreated with its addresses (${why})`);
        } catch (err) {
          gone.down = `${why}; could not be recreated: ${(err as Error).message}`;
          this.log.error({ ifname, channel: n, err: (err as Error).message }, `${ifname} could not be recreated: ${(err as Error).message}; channel ${n} stays down until the next reload`);
        }
      });
    }, RECREATE_DELAY_MS);
    this.recreating.add(timer);
    // Stopped now: the link and the data plane go, so nothing waits for an interface that is not there.
    void this.exclusive(() => gone.stop());
  }

  private captureTargets(): CaptureTarget[] {
    return [...this.channels.values()].flatMap((c) => c.captureTarget ?? []);
  }

  /**
   * Re-reads the config and the device tree and applies the difference (reload.ts): all of it, or, if a
   * step fails, none. An invalid new config throws with the reason; the running setup stays as it was.
   */
  reload(): Promise<ReloadResult> {
    const next = this.exclusive(async () => {
      if (!this.stopping) this.opts.systemd?.reloading();
      return this.applyReload();
    });
    // Reloaded or rejected, the daemon runs on with the setup it has: ready again, unless stopping.
    const readyAgain = () => void (this.stopping || this.opts.systemd?.ready(this.interfaceCount));
    next.then(readyAgain, readyAgain);
    next.catch((err: Error) => {
      if (err instanceof ReloadFailed && !err.restored) this.log.error({ err: err.message }, `reload failed, not all of it was undone: ${err.message}`);
      else this.log.error({ err: err.message }, `reload rejected, running setup kept: ${err.message}`);
    });
    return next;
  }

  private async applyReload(): Promise<ReloadResult> {
    if (this.stopping) throw new UserError('the daemon is stopping', 1);
    const { loaded, wanted } = await this.readPlan();
    const transport = this.opts.transport ?? loaded.config.transport;
    if (transport !== this.transportName) {
      throw new UserError(`the transport changed (${this.transportName} -> ${transport}): that needs a restart, not a reload`, 1);
    }
    const peerNetns = this.opts.peerNetns ?? loaded.config.peer.netns;
    if (this.transportName === 'sim' && peerNetns !== this.peerNetns) {
      throw new UserError(`peer.netns changed (${this.peerNetns} -> ${peerNetns}): that needs a restart, not a reload`, 1);
    }
    const previous = this.config;
    this.config = loaded.config;
    try {
      return await applyReload({ channels: this.channels, newChannel: (p) => this.newChannel(p), netns: this.opts.netns, log: this.log }, wanted);
    } catch (err) {
      this.config = previous;
      throw err;
    }
  }

  private async answer(req: LineRequest): Promise<LineReply> {
    switch (req.cmd) {
      case 'stats':
      case 'status':
        return { channels: [...this.channels.values()].map((c) => c.status(this.streams.notCaptured(c.plan.channel))) };
      case 'reload':
        return this.reload();
      case 'peer-restart': {
        if (!this.transport?.restartPeer) throw new UserError(`peer-restart needs the sim transport (this daemon runs ${this.transportName})`, 1);
        if (!this.transport.restartPeer(req.channel, req.downMs ?? 1000)) throw new UserError(`no channel ${req.channel}`, 1);
        return { restarted: req.channel };
      }
      case 'memory':
        return memory();
    }
  }

  /** Tears everything down; safe to call any number of times, from any state. */
  stop(): Promise<void> {
    // A start in progress notices at its next step and gives up; tear down once it has, so nothing it
    // was creating at that moment is left behind. A reload in progress finishes first, likewise.
    this.stopPromise ??= this.queue.then(() => this.teardown());
    return this.stopPromise;
  }

  private async teardown(): Promise<void> {
    for (const timer of this.recreating) clearTimeout(timer);
    this.streams.stopAll();
    await this.metrics?.close().catch(() => undefined);
    await this.control?.close().catch(() => undefined);
    await Promise.all([...this.channels.values()].map((c) => c.stop('the daemon stopped', false)));
    this.channels.clear();
    await this.transport?.close().catch((err: Error) => this.log.error({ err: err.message }, 'closing transport'));
    for (const msg of await this.namespaces.removeAll()) this.log.error(msg);
    if (this.transportName === 'netdev') this.log.info("stopped: the daemon's addresses removed, rpmsg_eth's interfaces left in place");
    else this.log.info('stopped: interfaces and namespaces removed');
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

/** The daemon's memory, after a full garbage collection when it runs with --expose-gc. */
function memory(): LineReplies['memory'] {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers, afterGc: gc !== undefined };
}
