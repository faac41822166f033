// The transports by name: what `--transport` and the config's `transport` choose from. Each entry opens
// its transport with what it needs; what only one of them can do (sim: restart its peer, follow a
// reload on the peer's side) is an optional method of Transport and ChannelLink, never an instanceof.
import type { Logger } from '../log.js';
import { SimTransport } from '../../sim/transport.js';
import { UserError } from '../util/errors.js';
import { KmodTransport } from './kmod.js';
import { NetdevTransport } from './netdev.js';
import { RpmsgCharTransport } from './rpmsg-char.js';
import type { Transport, TransportName } from './transport.js';

export interface TransportContext {
  log: Logger;
  /** The daemon's interfaces' namespace (--netns), if any. */
  netns?: string;
  /** sim: the namespace of the simulated peers. */
  peerNetns: string;
  /** Creates a namespace the daemon will remove at exit (unless it existed). */
  ensureNamespace(name: string): Promise<void>;
  /** sim, debug and tests: channels whose peer speaks only raw framing. */
  simRawOnlyPeers?: readonly number[];
}

const TRANSPORTS: Record<TransportName, (ctx: TransportContext) => Promise<Transport>> = {
  sim: async (ctx) => {
    if (ctx.netns && ctx.netns === ctx.peerNetns) {
      throw new UserError(`--netns and --peer-netns must differ (both are "${ctx.peerNetns}")`, 1);
    }
    await ctx.ensureNamespace(ctx.peerNetns);
    return new SimTransport({ peerNetns: ctx.peerNetns, log: ctx.log, rawOnlyPeers: ctx.simRawOnlyPeers });
  },
  kmod: async (ctx) => new KmodTransport({ log: ctx.log }),
  'rpmsg-char': async (ctx) => new RpmsgCharTransport({ log: ctx.log }),
  netdev: async (ctx) => new NetdevTransport({ log: ctx.log }),
};

export const TRANSPORT_NAMES = Object.keys(TRANSPORTS) as TransportName[];

export function openTransport(name: string, ctx: TransportContext): Promise<Transport> {
  if (!Object.hasOwn(TRANSPORTS, name)) throw new UserError(`unknown transport "${name}" (${TRANSPORT_NAMES.join(', ')})`, 2);
  return TRANSPORTS[name as TransportName](ctx);
}
