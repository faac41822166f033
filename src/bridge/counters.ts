// Per-channel counters kept by the bridge and served by `rpmsg-eth stats`.
import type { DropReason } from '../transport/transport.js';

export interface DirectionCounters {
  packets: number;
  bytes: number;
}

export type DropCounters = Record<DropReason, number>;

export interface ChannelCounters {
  /** Linux -> remote. */
  tx: DirectionCounters;
  /** Remote -> Linux. */
  rx: DirectionCounters;
  /** Frames not delivered, by reason, both directions together. */
  drops: DropCounters;
  /** The same, Linux -> remote only (frames read from the TAP that did not reach the endpoint). */
  txDrops: DropCounters;
  /** The same, remote -> Linux only (messages from the endpoint that did not reach the TAP). */
  rxDrops: DropCounters;
  link: 'up' | 'down';
  /** ISO time of the last link state change. */
  linkChangedAt: string;
  linkChanges: number;
}

function noDrops(): DropCounters {
  return { oversize: 0, busy: 0, linkDown: 0, runt: 0, framing: 0 };
}

export function newCounters(): ChannelCounters {
  return {
    tx: { packets: 0, bytes: 0 },
    rx: { packets: 0, bytes: 0 },
    drops: noDrops(),
    txDrops: noDrops(),
    rxDrops: noDrops(),
    link: 'down',
    linkChangedAt: new Date().toISOString(),
    linkChanges: 0,
  };
}
