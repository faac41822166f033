// The interface plan: for each channel of the table, the interface the daemon brings up (name, MTU,
// addresses), with the config's overrides applied. Also loadPlan(), the one call the daemon makes to
// go from config + device tree to a checked plan.
import { resolve } from 'node:path';
import { loadConfig, resolveFromConfig, type Config } from '../config/load.js';
import { locateConfig, type ConfigSource, type LocateOptions } from '../config/locate.js';
import { formatIpv4, netmask, networkOf, parseIpv4, parseIpv4Net, sameSubnet, subnetsOverlap, type Ipv4Net } from '../config/ipv4.js';
import { findRpmsgNode, loadDeviceTree } from '../devicetree/load.js';
import { UserError } from '../util/errors.js';
import { formatFinding, hasErrors, type Finding } from './findings.js';
import { readChannelTable } from './table.js';
import type { Channel, ChannelPlan } from './types.js';
import { ETH_HEADER_SIZE, RPMSG_HEADER_SIZE, validateChannels } from './validate.js';

/** frag framing (frag/wire-spec.md): default and largest MTU, its header, smallest message. */
export const FRAG_DEFAULT_MTU = 1500;
export const FRAG_MAX_MTU = 9000;
const FRAG_HEADER_SIZE = 16;
const FRAG_MIN_PAYLOAD = 64;
/** IFNAMSIZ - 1. */
const MAX_IFNAME = 15;
const LINK_LOCAL: Ipv4Net = { addr: parseIpv4('169.254.0.0')!, prefix: 16 };

export interface PlanResult {
  plans: ChannelPlan[];
  findings: Finding[];
}

/** Names of the files findings refer to (for messages). */
export interface PlanSources {
  deviceTree?: string;
  config?: string;
}

/** The plan, throwing a UserError (exit 1) listing the problems when the config does not fit the table. */
export function planChannels(channels: readonly Channel[], config: Config): ChannelPlan[] {
  const { plans, findings } = planChannelsWithFindings(channels, config);
  if (hasErrors(findings)) throw planError(findings);
  return plans;
}

export function planChannelsWithFindings(
  channels: readonly Channel[],
  config: Config,
  sources: PlanSources = {},
): PlanResult {
  const findings: Finding[] = [];
  const add = (severity: Finding['severity'], property: string, ch: Channel | null, message: string, fromConfig: boolean): void => {
    const file = fromConfig ? sources.config : sources.deviceTree;
    findings.push({
      severity,
      property,
      ...(ch === null ? {} : { channel: { index: ch.index, name: ch.name } }),
      message,
      ...(file === undefined ? {} : { file }),
    });
  };

  const base = parseIpv4Net(config.addressing.subnet)!;
  const subnetSize = 2 ** (32 - base.prefix);
  const { linuxHost, peerHost } = config.addressing;
  for (const [key, host] of [['linuxHost', linuxHost], ['peerHost', peerHost]] as const) {
    if (base.prefix < 31 && host >= subnetSize - 1) {
      add('error', `addressing.${key}`, null, `host ${host} does not fit a /${base.prefix} subnet (1..${subnetSize - 2})`, true);
    }
  }
  if (linuxHost === peerHost) add('error', 'addressing.peerHost', null, 'is the same as addressing.linuxHost', true);

  const plans: ChannelPlan[] = [];
  const nets = new Map<ChannelPlan, Ipv4Net>();
  for (const ch of channels) {
    const key = String(ch.channel);
    const override = config.channels[key] ?? {};
    const at = (field: string): string => `channels.${key}.${field}`;

    const ifname = config.interfaces.namePattern.replaceAll('{channel}', key).replaceAll('{index}', String(ch.index));
    const badName = ifnameProblem(ifname);
    if (badName) add('error', 'interfaces.namePattern', ch, `gives "${ifname}", not a valid interface name: ${badName}`, true);

    const maxPayload = ch.bufSize - RPMSG_HEADER_SIZE;
    const bufferMtu = maxPayload - ETH_HEADER_SIZE;
    const framing = override.framing ?? config.framing;
    let mtu = bufferMtu;
    if (framing === 'frag') {
      // Frames span messages: 1500 by default, or the most one fragment carries if that is more.
      mtu = Math.max(FRAG_DEFAULT_MTU, Math.min(FRAG_MAX_MTU, maxPayload - FRAG_HEADER_SIZE - ETH_HEADER_SIZE));
      if (maxPayload < FRAG_MIN_PAYLOAD) {
        add('error', override.framing !== undefined ? at('framing') : 'framing', ch, `frag needs rpmsg buffers of at least ${FRAG_MIN_PAYLOAD + RPMSG_HEADER_SIZE} bytes, this channel has ${ch.bufSize}`, true);
      }
    }
    if (override.mtu !== undefined) {
      if (framing === 'frag' && override.mtu > FRAG_MAX_MTU) {
        add('error', at('mtu'), ch, `${override.mtu} is above ${FRAG_MAX_MTU}, the most frag framing carries`, true);
      } else if (framing === 'frag') {
        mtu = override.mtu;
      } else if (override.mtu > bufferMtu) {
        add('error', at('mtu'), ch, `${override.mtu} is above ${bufferMtu}, the most a ${ch.bufSize}-byte rpmsg buffer carries (buffer - 16 rpmsg header - 14 Ethernet header); an MTU may only be lowered`, true);
      } else {
        mtu = override.mtu;
      }
    }
    // MTUs below 1280 (no IPv6) are summarised over the channels that come up: ipv6Findings().

    // Linux side: the override, else host linuxHost of the channel's own subnet.
    let net: Ipv4Net;
    if (override.address !== undefined) {
      net = parseIpv4Net(override.address, base.prefix)!;
    } else {
      const network = networkOf(base) + ch.channel * subnetSize;
      if (network + subnetSize > 2 ** 32) {
        add('error', at('address'), ch, `channel ${ch.channel} has no default address (subnet ${config.addressing.subnet} + ${ch.channel} runs past 255.255.255.255): set ${at('address')}`, true);
        net = { addr: 0, prefix: base.prefix };
      } else {
        net = { addr: network + linuxHost, prefix: base.prefix };
        if (subnetsOverlap(base, LINK_LOCAL) && !sameSubnet(LINK_LOCAL, net.addr)) {
          add('error', at('address'), ch, `the default address ${formatIpv4(net.addr)} for channel ${ch.channel} leaves 169.254.0.0/16: set ${at('address')} and ${at('peerAddress')}`, true);
        }
      }
    }
    const peer = override.peerAddress !== undefined ? parseIpv4(override.peerAddress)! : (networkOf(net) + peerHost) >>> 0;
    const peerAt = override.peerAddress !== undefined ? at('peerAddress') : at('address');
    if (net.prefix > 31) {
      add('error', at('address'), ch, `${formatIpv4(net.addr)}/${net.prefix} leaves no room for the peer: the subnet must hold two hosts (/31 at most)`, true);
    }
    const kind = reservedKind(net.addr);
    if (kind) add('error', at('address'), ch, `${formatIpv4(net.addr)} is ${kind}, not a host address`, true);
    const peerKind = reservedKind(peer);
    if (peerKind) add('error', peerAt, ch, `peer ${formatIpv4(peer)} is ${peerKind}, not a host address`, true);
    if (peer === net.addr) {
      add('error', peerAt, ch, `Linux and VxWorks sides would both be ${formatIpv4(peer)}`, true);
    } else if (net.prefix <= 31 && !sameSubnet(net, peer)) {
      // The peer's side gets the same subnet: outside it, the two ends cannot reach each other, and the
      // peer's subnet could overlap another channel's.
      add('error', peerAt, ch, `peer ${formatIpv4(peer)} is outside ${formatIpv4(networkOf(net))}/${net.prefix}, the channel's subnet`, true);
    }
    for (const [addr, what, where] of [[net.addr, '', at('address')], [peer, 'peer ', peerAt]] as const) {
      if (net.prefix < 31 && (addr === networkOf(net) || addr === broadcastOf(net))) {
        add('error', where, ch, `${what}${formatIpv4(addr)}/${net.prefix} is the network or broadcast address of its subnet`, true);
      }
    }

    const plan: ChannelPlan = {
      channel: ch.channel,
      index: ch.index,
      name: ch.name,
      ifname,
      ethEndpoint: ch.ethEndpoint,
      remoteEndpoint: override.remoteEndpoint ?? ch.ethEndpoint,
      bufSize: ch.bufSize,
      numBufs: ch.numBufs,
      maxPayload,
      framing,
      mtu,
      address: `${formatIpv4(net.addr)}/${net.prefix}`,
      peerAddress: formatIpv4(peer),
      enabled: override.enabled ?? true,
    };
    plans.push(plan);
    nets.set(plan, net);
  }

  // Interfaces that come up together must not share a name or a subnet.
  const up = plans.filter((p) => p.enabled);
  for (let i = 0; i < up.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = up[i]!;
      const b = up[j]!;
      const ch = channels.find((c) => c.index === a.index)!;
      if (a.ifname === b.ifname) {
        add('error', 'interfaces.namePattern', ch, `interface name ${a.ifname} is also channel ${b.channel}'s`, true);
      }
      if (subnetsOverlap(nets.get(a)!, nets.get(b)!)) {
        add('error', `channels.${a.channel}.address`, ch, `${a.address} overlaps ${b.address} of channel ${b.channel} (${b.ifname})`, true);
      }
      // Disjoint subnets already keep addresses apart; these catch a peer placed in another channel's subnet.
      for (const [mine, myKey] of [[a.address.split('/')[0], 'address'], [a.peerAddress, 'peerAddress']] as const) {
        for (const [theirs, whose] of [[b.address.split('/')[0], 'address'], [b.peerAddress, 'peer address']] as const) {
          if (mine === theirs) add('error', `channels.${a.channel}.${myKey}`, ch, `${mine} is also channel ${b.channel}'s ${whose} (${b.ifname})`, true);
        }
      }
    }
  }

  for (const key of Object.keys(config.channels)) {
    if (!channels.some((c) => String(c.channel) === key)) {
      add('warning', `channels.${key}`, null, `there is no channel ${key} in the device tree (channels: ${channels.map((c) => c.channel).join(', ')})`, true);
    }
  }
  return { plans, findings };
}

export interface LoadPlanOptions {
  /** Device-tree source; overrides the config's deviceTree. Relative to cwd. */
  deviceTree?: string;
  /** Include folders for a .dts (`--include`), searched before the config's deviceTreeIncludes. Relative to cwd. */
  includeDirs?: readonly string[];
  /** Framing for every channel (`up --framing`), overriding the config's global and per-channel keys. */
  framing?: 'raw' | 'frag';
  /** Config file (`--config`), relative to cwd; default: found by locateConfig (src/config/locate.ts). */
  configPath?: string;
  cwd?: string;
  /** Where to look for the config when configPath is not given (tests). */
  locate?: LocateOptions;
}

export interface LoadedPlan {
  config: Config;
  configPath: string;
  /** How configPath was found: --config, $RPMSG_ETH_CONFIG, /etc or the packaged default. */
  configSource: ConfigSource;
  deviceTreePath: string;
  channels: Channel[];
  plans: ChannelPlan[];
  /** Warnings (errors throw); each carries the file it is about. */
  findings: Finding[];
}

/**
 * Config → device tree → channel table → validation → plan. Throws a UserError naming the file when
 * an input is malformed (exit 2) or when the table or the config has errors (exit 1), so the daemon
 * never starts on a broken table.
 */
export async function loadPlan(opts: LoadPlanOptions = {}): Promise<LoadedPlan> {
  const cwd = opts.cwd ?? process.cwd();
  const location = locateConfig(opts.configPath, { ...opts.locate, cwd });
  const loaded = loadConfig(location.path, cwd);
  const deviceTreePath =
    opts.deviceTree !== undefined ? resolve(cwd, opts.deviceTree) : resolveFromConfig(loaded, loaded.config.deviceTree);
  const dtName = opts.deviceTree ?? deviceTreePath;
  const configName = opts.configPath ?? location.path;

  const includeDirs = [
    ...(opts.includeDirs ?? []).map((d) => resolve(cwd, d)),
    ...loaded.config.deviceTreeIncludes.map((d) => resolveFromConfig(loaded, d)),
  ];
  const { root } = await loadDeviceTree(deviceTreePath, { name: dtName, includeDirs });
  const node = findRpmsgNode(root, dtName);
  const table = readChannelTable(node, dtName);
  const findings: Finding[] = [...table.findings, ...validateChannels(table.channels)].map((f) => ({ ...f, file: dtName }));
  if (hasErrors(findings)) throw planError(findings);

  const config = opts.framing === undefined ? loaded.config : withFraming(loaded.config, opts.framing);
  const planned = planChannelsWithFindings(table.channels, config, { deviceTree: dtName, config: configName });
  findings.push(...planned.findings);
  if (hasErrors(findings)) throw planError(findings);
  return {
    config: loaded.config,
    configPath: location.path,
    configSource: location.source,
    deviceTreePath,
    channels: table.channels,
    plans: planned.plans,
    findings,
  };
}

function withFraming(config: Config, framing: 'raw' | 'frag'): Config {
  const channels = Object.fromEntries(Object.entries(config.channels).map(([k, c]) => [k, { ...c, framing }]));
  return { ...config, framing, channels };
}

function planError(findings: readonly Finding[]): UserError {
  const errors = findings.filter((f) => f.severity === 'error');
  const lines = errors.map((f) => `  ${formatFinding(f)}`);
  return new UserError(`cannot plan the interfaces: ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${lines.join('\n')}`, 1);
}

/**
 * Why the kernel (dev_valid_name) or the tools would refuse an interface name, or null. Counted in bytes,
 * as IFNAMSIZ is; '%' would make TUNSETIFF pick a name of its own ("rp%d" -> rp0). Printable ASCII only,
 * so every tool shows the name as it is.
 */
export function ifnameProblem(name: string): string | null {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) return 'it is empty';
  if (bytes > MAX_IFNAME) return `${bytes} bytes, at most ${MAX_IFNAME} (IFNAMSIZ 16 with the NUL)`;
  if (name === '.' || name === '..') return `"${name}" is reserved`;
  const bad = [...name].find((c) => !/^[\x21-\x7e]$/.test(c) || '/:%'.includes(c));
  if (bad !== undefined) return `${JSON.stringify(bad)} is not allowed (printable ASCII without '/', ':', '%' or spaces)`;
  return null;
}

/** Ranges that are never a host address on a point-to-point link, or null. */
function reservedKind(addr: number): string | null {
  const top = addr >>> 24;
  if (addr === 0) return 'the unspecified address';
  if (top === 0) return 'in 0.0.0.0/8 ("this network")';
  if (top === 127) return 'a loopback address';
  if (top >= 224 && top < 240) return 'a multicast address';
  if (top >= 240) return addr === 0xffffffff ? 'the broadcast address' : 'in the reserved range 240.0.0.0/4';
  return null;
}

function broadcastOf(net: Ipv4Net): number {
  return (networkOf(net) | ~netmask(net.prefix)) >>> 0;
}
