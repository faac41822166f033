// Packets/s and bytes/s per direction, from counters sampled once a second (nothing per frame).
import type { ChannelCounters } from './counters.js';

export interface Rates {
  txPps: number;
  txBps: number;
  rxPps: number;
  rxBps: number;
}

export class RateMeter {
  private last: { at: number; txp: number; txb: number; rxp: number; rxb: number } | undefined;
  rates: Rates = { txPps: 0, txBps: 0, rxPps: 0, rxBps: 0 };

  constructor(private readonly counters: ChannelCounters) {}

  sample(now = Date.now()): void {
    const c = this.counters;
    const cur = { at: now, txp: c.tx.packets, txb: c.tx.bytes, rxp: c.rx.packets, rxb: c.rx.bytes };
    const prev = this.last;
    this.last = cur;
    if (!prev || cur.at <= prev.at) return;
    const s = (cur.at - prev.at) / 1000;
    this.rates = {
      txPps: (cur.txp - prev.txp) / s,
      txBps: (cur.txb - prev.txb) / s,
      rxPps: (cur.rxp - prev.rxp) / s,
      rxBps: (cur.rxb - prev.rxb) / s,
    };
  }
}
