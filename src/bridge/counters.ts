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
  link: 'up' | 'down';
  /** ISO time of the last link state change. */
  linkChangedAt: string;
  linkChanges: number;
}

export function newCounters(): ChannelCounters {
  return {
    tx: { packets: 0, bytes: 0 },
    rx: { packets: 0, bytes: 0 },
    drops: { oversize: 0, busy: 0, linkDown: 0, runt: 0, framing: 0 },
    link: 'down',
    linkChangedAt: new Date().toISOString(),
    linkChanges: 0,
  };
}
