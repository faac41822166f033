// A channel's ICMP probes to its peer (src/health/), with the transitions logged: the same for a channel
// the daemon bridges (channel.ts) and one whose interface the kernel module runs (netdev-channel.ts).
import type { ChannelPlan } from '../src/channels/types.js';
import { PeerHealth } from '../src/health/peer-health.js';
import type { Logger } from '../src/log.js';

/** Started probes for `plan`, or undefined when they are off for it. */
export function startPeerHealth(
  plan: ChannelPlan,
  netns: string | undefined,
  settings: { intervalMs: number; failAfter: number } | undefined,
  log: Logger,
): PeerHealth | undefined {
  if (!settings) return undefined;
  const { ifname, channel, peerAddress } = plan;
  const health = new PeerHealth({
    ifname,
    peerAddress,
    netns,
    intervalMs: settings.intervalMs,
    failAfter: settings.failAfter,
    onChange: (reachable, state) => {
      const fields = { ifname, channel, peer: peerAddress, rttMs: state.rttMs };
      if (reachable) log.info(fields, `${ifname}: peer ${peerAddress} reachable`);
      else log.warn({ ...fields, error: state.lastError }, `${ifname}: peer ${peerAddress} unreachable`);
    },
  });
  health.start();
  return health;
}
