// The `netdev` transport: rpmsg_eth in netdev mode registers `rpmsg<channel-num>` itself and the kernel
// forwards the frames; the daemon has no data plane here. It adopts each planned interface instead of
// making a TAP (daemon/netdev-channel.ts): the interface must exist, under the plan's name, in the
// daemon's namespace (--netns, else its own), with the plan's MTU.
//
// MTU: the module sets it (the rpmsg buffer's payload − 14, or the frag MTU). The daemon does not
// guess which side is right: a different MTU is a one-line error (exit 1), except that a config that
// lowers the channel's MTU on purpose (`channels.N.mtu`) gets it — the kernel takes a lower MTU.
import { existsSync } from 'node:fs';
import type { ChannelPlan } from '../channels/types.js';
import { AdoptedInterface } from '../iface/adopted.js';
import { inNamespace } from '../iface/tap.js';
import type { Logger } from '../log.js';
import { UserError } from '../util/errors.js';
import type { ChannelLink, Transport } from './transport.js';

export interface NetdevOptions {
  log: Logger;
  /** The module's sysfs directory, present while it is loaded (default /sys/module/rpmsg_eth). */
  moduleDir?: string;
}

/** What adopting a channel's interface needs besides its plan. */
export interface AdoptRequest {
  plan: ChannelPlan;
  netns: string | undefined;
  /** The config lowers this channel's MTU on purpose (channels.N.mtu): set it rather than refuse. */
  mtuLowered: boolean;
}

/** The checked interface: adopt() has changed nothing yet; `mtu` is the one to set, if any. */
export interface AdoptPlan {
  iface: AdoptedInterface;
  setMtu: number | undefined;
}

export class NetdevTransport implements Transport {
  readonly name = 'netdev' as const;
  private readonly moduleDir: string;

  constructor(opts: NetdevOptions) {
    this.moduleDir = opts.moduleDir ?? '/sys/module/rpmsg_eth';
  }

  /** Never called: the daemon runs a NetdevChannel, with no link, for a transport that adopts. */
  async open(plan: ChannelPlan): Promise<ChannelLink> {
    throw new Error(`netdev transport: channel ${plan.channel} has no data plane to open`);
  }

  /**
   * Finds the channel's interface and checks it against the plan; a UserError (one line, exit 1) names
   * the channel and what to do when it is missing or its MTU differs.
   */
  adopt(req: AdoptRequest): AdoptPlan {
    const { plan, netns } = req;
    const where = `${plan.ifname}${inNamespace(netns)}`;
    const found = AdoptedInterface.find(plan.ifname, netns);
    if (!found) {
      const loaded = existsSync(this.moduleDir);
      throw new UserError(
        `channel ${plan.channel} (${plan.name}): there is no interface ${where}: ` +
          (loaded
            ? `rpmsg_eth is loaded but does not serve channel ${plan.channel} as an interface — load it with ` +
              `netdev=${plan.channel} (or netdev=all), or set eth-dev-mode = "netdev" for the channel in the device tree` +
              (netns ? `; or the interface is in another namespace (ip link set ${plan.ifname} netns ${netns})` : '')
            : 'the rpmsg_eth kernel module is not loaded — load it with netdev=all (or netdev=' +
              `${plan.channel}; see kmod/README.md)`) +
          ` (or leave channel ${plan.channel} out: --channels, or channels.${plan.channel}.enabled: false)`,
        1,
      );
    }
    const iface = AdoptedInterface.adopt(plan.ifname, netns, found);
    if (found.mtu === plan.mtu) return { iface, setMtu: undefined };
    if (req.mtuLowered && plan.mtu < found.mtu) return { iface, setMtu: plan.mtu };
    const hint =
      plan.framing === 'frag'
        ? `the plan has frag framing (MTU ${plan.mtu}): load rpmsg_eth with frag=${plan.channel} (and frag_mtu=${plan.mtu}), or set framing: raw for the channel`
        : found.mtu > plan.mtu
          ? `the module frames it differently (frag?): set framing: frag for the channel, or channels.${plan.channel}.mtu: ${plan.mtu} to lower it on purpose`
          : `the module's buffers carry less than the device tree's rpmsg-buf-size says: set channels.${plan.channel}.mtu: ${found.mtu} in the config`;
    throw new UserError(`channel ${plan.channel} (${plan.name}): ${where} has MTU ${found.mtu}, the plan says ${plan.mtu}: ${hint}`, 1);
  }

  async close(): Promise<void> {}
}
