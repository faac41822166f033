// The counters of an interface the kernel forwards for (the netdev transport: rpmsg_eth's own `rpmsgN`),
// in the schema `stats`, `status` and the metrics use for every transport (src/bridge/counters.ts):
//   tx/rx packets and bytes   the interface's statistics (IFLA_STATS64 = /sys/class/net/IF/statistics)
//   drops by reason           the module's drop counters (`ethtool -S`: kmod/rpmsg_eth_main.c,
//                             rpmsg_eth_counter_names), each under the reason below
//   link                      the carrier (the module's carrier follows the remote)
// An interface whose driver has none of the module's counters (a stand-in, another driver) reports no
// drops by reason; what the kernel counts regardless — rx/tx_dropped and rx/tx_errors, the driver's
// counters by their own names — is in `kernel`, never folded into a reason it may not be.
import { DROP_REASONS, type ChannelCounters, type DropCounters, type DropReason } from '../bridge/counters.js';
import type { KernelLinkState } from '../native/index.js';

/**
 * The module's drop counters and the reason each is, as the daemon's own data plane counts the same
 * losses (native/dataplane/channel.cc):
 *   rx_drop_overflow, rx_drop_nomem  no room for the frame on the Linux side        busy
 *   rx_drop_closed                   the interface was down (not open)               interfaceDown
 *   rx_drop_empty, rx_drop_runt      shorter than an Ethernet header                 runt
 *   rx_drop_flushed                  discarded when the channel went away            linkDown
 *   rx_drop_oversize                 longer than the interface takes                 oversize
 *   tx_drop_error, tx_drop_nomem     the rpmsg core refused it / no memory for it    busy
 *   tx_drop_dead                     the remote went away before it was sent         linkDown
 *   tx_drop_oversize                 larger than a message (raw framing)             oversize
 *   frag_frames_oversize, _runt      frag could not send the frame                   oversize, runt
 *   frag_lost ... frag_timeout       failed reassemblies (frag/wire-spec.md §4)      framing (rx)
 * The first eight are rpmsg_eth_counter_names (kmod/rpmsg_eth_main.c), the others the netdev front
 * end's (kmod/rpmsg_eth_netdev.c). tx_ring_full and tx_stalls count waits, not lost frames, and the
 * frag_* traffic counters are not drops: they stay in `kernel.driver` only.
 * Units: drops by reason count frames. The counters in MESSAGE_COUNTERS count rpmsg messages (or mix
 * messages and frames); a message is a frame only under raw framing, so on a frag channel they stay in
 * `kernel.driver` only.
 */
export const MODULE_DROP_COUNTERS: Readonly<Record<string, { direction: 'rx' | 'tx'; reason: DropReason }>> = {
  rx_drop_overflow: { direction: 'rx', reason: 'busy' },
  rx_drop_nomem: { direction: 'rx', reason: 'busy' },
  rx_drop_closed: { direction: 'rx', reason: 'interfaceDown' },
  rx_drop_empty: { direction: 'rx', reason: 'runt' },
  rx_drop_runt: { direction: 'rx', reason: 'runt' },
  rx_drop_flushed: { direction: 'rx', reason: 'linkDown' },
  rx_drop_oversize: { direction: 'rx', reason: 'oversize' },
  tx_drop_error: { direction: 'tx', reason: 'busy' },
  tx_drop_nomem: { direction: 'tx', reason: 'busy' },
  tx_drop_dead: { direction: 'tx', reason: 'linkDown' },
  tx_drop_oversize: { direction: 'tx', reason: 'oversize' },
  frag_frames_oversize: { direction: 'tx', reason: 'oversize' },
  frag_frames_runt: { direction: 'tx', reason: 'runt' },
  frag_lost: { direction: 'rx', reason: 'framing' },
  frag_duplicate: { direction: 'rx', reason: 'framing' },
  frag_truncated: { direction: 'rx', reason: 'framing' },
  frag_overlong: { direction: 'rx', reason: 'framing' },
  frag_bad_version: { direction: 'rx', reason: 'framing' },
  frag_bad_header: { direction: 'rx', reason: 'framing' },
  frag_timeout: { direction: 'rx', reason: 'framing' },
};

/**
 * Counted per rpmsg message by the link the char device and netdev mode share (kmod/rpmsg_eth_link.c):
 *   tx_drop_error     the rpmsg core refused a message (a fragment, a probe reply)
 *   tx_drop_dead      messages purged when the remote went away (plus frames refused while unbound)
 *   rx_drop_empty, rx_drop_oversize   a received message, before any reassembly
 * Under frag framing one frame is several messages: counting these as frames would overstate the drops.
 */
export const MESSAGE_COUNTERS: ReadonlySet<string> = new Set(['tx_drop_error', 'tx_drop_dead', 'rx_drop_empty', 'rx_drop_oversize']);

/** The `kernel` object of a netdev channel in `stats --json`: what the kernel counts beyond the schema. */
export interface KernelCounters {
  /** The interface's rx_dropped, tx_dropped, rx_errors, tx_errors (/sys/class/net/IF/statistics). */
  rxDropped: number;
  txDropped: number;
  rxErrors: number;
  txErrors: number;
  /** The driver's own counters by name (`ethtool -S`), or null when it has none. */
  driver: Record<string, number> | null;
  /** Whether the driver has the module's drop counters: false = drops by reason are not known (all 0). */
  dropsByReason: boolean;
}

/** The link as the daemon followed it: the carrier, when it last changed. */
export interface CarrierHistory {
  linkChangedAt: string;
}

function noDrops(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
}

/**
 * The schema's counters and the `kernel` object, from one RTM_GETLINK and one ETHTOOL_GSTATS; `framing`
 * is the channel's (frag: the message-level counters are not frames, see MESSAGE_COUNTERS).
 */
export function kernelChannelCounters(
  state: Pick<KernelLinkState, 'carrier' | 'carrierChanges' | 'stats'>,
  driver: Record<string, number> | null,
  history: CarrierHistory,
  framing: 'raw' | 'frag' = 'raw',
): { counters: ChannelCounters; kernel: KernelCounters } {
  const s = state.stats;
  const txDrops = noDrops();
  const rxDrops = noDrops();
  let dropsByReason = false;
  for (const [name, value] of Object.entries(driver ?? {})) {
    const known = Object.hasOwn(MODULE_DROP_COUNTERS, name) ? MODULE_DROP_COUNTERS[name] : undefined;
    if (!known) continue;
    dropsByReason = true;
    if (framing === 'frag' && MESSAGE_COUNTERS.has(name)) continue;
    (known.direction === 'tx' ? txDrops : rxDrops)[known.reason] += value;
  }
  return {
    counters: {
      tx: { packets: s?.txPackets ?? 0, bytes: s?.txBytes ?? 0 },
      rx: { packets: s?.rxPackets ?? 0, bytes: s?.rxBytes ?? 0 },
      drops: Object.fromEntries(DROP_REASONS.map((r) => [r, txDrops[r] + rxDrops[r]])) as DropCounters,
      txDrops,
      rxDrops,
      link: state.carrier ? 'up' : 'down',
      linkChangedAt: history.linkChangedAt,
      linkChanges: state.carrierChanges,
    },
    kernel: {
      rxDropped: s?.rxDropped ?? 0,
      txDropped: s?.txDropped ?? 0,
      rxErrors: s?.rxErrors ?? 0,
      txErrors: s?.txErrors ?? 0,
      driver,
      dropsByReason,
    },
  };
}
