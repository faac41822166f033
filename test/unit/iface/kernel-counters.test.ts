// The netdev transport's counters: the kernel's interface statistics and rpmsg_eth's drop counters
// (ethtool -S) in the schema every transport's `stats --json` has.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DROP_REASONS } from '../../../src/bridge/counters.js';
import { MODULE_DROP_COUNTERS, kernelChannelCounters } from '../../../src/iface/kernel-counters.js';
import { repoRoot } from '../../helpers/daemon.js';

const stats = { rxPackets: 10, txPackets: 20, rxBytes: 1000, txBytes: 2000, rxErrors: 1, txErrors: 2, rxDropped: 3, txDropped: 4 };
const history = { linkChangedAt: '2026-01-01T00:00:00.000Z' };

describe('kernel counters in the stats schema', () => {
  it('takes packets and bytes from the interface statistics, the link from the carrier', () => {
    const { counters, kernel } = kernelChannelCounters({ carrier: true, carrierChanges: 5, stats }, null, history);
    expect(counters.tx).toEqual({ packets: 20, bytes: 2000 });
    expect(counters.rx).toEqual({ packets: 10, bytes: 1000 });
    expect(counters.link).toBe('up');
    expect(counters.linkChanges).toBe(5);
    expect(counters.linkChangedAt).toBe(history.linkChangedAt);
    expect(kernel).toEqual({ rxDropped: 3, txDropped: 4, rxErrors: 1, txErrors: 2, driver: null, dropsByReason: false });
    expect(kernelChannelCounters({ carrier: false, carrierChanges: 6, stats }, null, history).counters.link).toBe('down');
  });

  it('maps every rpmsg_eth drop counter onto its reason and direction; waits are not drops', () => {
    const driver = {
      rx_packets: 10, rx_bytes: 1000, tx_packets: 20, tx_bytes: 2000,
      rx_drop_overflow: 1, rx_drop_nomem: 2, rx_drop_closed: 4, rx_drop_empty: 8, rx_drop_flushed: 16,
      tx_drop_error: 32, tx_drop_dead: 64, tx_ring_full: 1000, rx_drop_oversize: 128, tx_stalls: 7,
    };
    const { counters, kernel } = kernelChannelCounters({ carrier: true, carrierChanges: 1, stats }, driver, history);
    expect(counters.rxDrops).toEqual({ oversize: 128, busy: 3, linkDown: 16, runt: 8, framing: 0, interfaceDown: 4, tapGone: 0 });
    expect(counters.txDrops).toEqual({ oversize: 0, busy: 32, linkDown: 64, runt: 0, framing: 0, interfaceDown: 0, tapGone: 0 });
    expect(counters.drops).toEqual({ oversize: 128, busy: 35, linkDown: 80, runt: 8, framing: 0, interfaceDown: 4, tapGone: 0 });
    // Every drop counted once: the reasons add up to the module's drop counters, not its waits.
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(sum(counters.drops)).toBe(1 + 2 + 4 + 8 + 16 + 32 + 64 + 128);
    expect(kernel.driver).toBe(driver);
    expect(kernel.dropsByReason).toBe(true);
  });

  it('on a frag channel, counters of rpmsg messages (fragments) are not counted as dropped frames; they stay in kernel.driver', () => {
    const driver = { tx_drop_error: 30, tx_drop_dead: 60, rx_drop_empty: 7, rx_drop_oversize: 9, tx_drop_nomem: 2, rx_drop_overflow: 3, frag_lost: 1 };
    const frag = kernelChannelCounters({ carrier: true, carrierChanges: 1, stats }, driver, history, 'frag');
    expect(frag.counters.txDrops).toMatchObject({ busy: 2, linkDown: 0 });
    expect(frag.counters.rxDrops).toMatchObject({ busy: 3, runt: 0, oversize: 0, framing: 1 });
    expect(frag.kernel.driver).toBe(driver);
    expect(frag.kernel.dropsByReason).toBe(true);
    // Under raw framing a message is a frame: the same counters are drops by reason.
    const raw = kernelChannelCounters({ carrier: true, carrierChanges: 1, stats }, driver, history, 'raw');
    expect(raw.counters.txDrops).toMatchObject({ busy: 32, linkDown: 60 });
    expect(raw.counters.rxDrops).toMatchObject({ busy: 3, runt: 7, oversize: 9, framing: 1 });
  });

  it('maps the frag receiver\'s failures to framing, its unsendable frames to oversize and runt; traffic is not a drop', () => {
    const driver = {
      frag_lost: 1, frag_duplicate: 2, frag_truncated: 4, frag_overlong: 8, frag_bad_version: 16, frag_bad_header: 32, frag_timeout: 64,
      frag_frames_oversize: 128, frag_frames_runt: 256, frag_fragments_received: 1000, frag_frames_sent: 500,
      rx_drop_runt: 512, tx_drop_oversize: 1024, tx_drop_nomem: 2048,
    };
    const { counters } = kernelChannelCounters({ carrier: true, carrierChanges: 1, stats }, driver, history);
    expect(counters.rxDrops).toMatchObject({ framing: 127, runt: 512 });
    expect(counters.txDrops).toMatchObject({ oversize: 128 + 1024, runt: 256, busy: 2048 });
    expect(Object.values(counters.drops).reduce((a, b) => a + b, 0)).toBe(127 + 128 + 256 + 512 + 1024 + 2048);
  });

  it('covers every drop counter the module names (kmod/rpmsg_eth_main.c, and the netdev front end where there is one)', () => {
    const names = (file: string, table: RegExp): string[] => {
      const path = join(repoRoot, 'kmod', file);
      if (!existsSync(path)) return [];
      const body = table.exec(readFileSync(path, 'utf8'))?.[1] ?? '';
      return [...body.matchAll(/"([a-z_]+)"/g)].map((m) => m[1] as string);
    };
    const main = names('rpmsg_eth_main.c', /rpmsg_eth_counter_names\[RPMSG_ETH_NR_COUNTERS\] = \{([^}]*)\}/);
    expect(main).toContain('rx_drop_overflow'); // the table was found
    const netdev = [
      ...names('rpmsg_eth_netdev.c', /rpmsg_eth_nd_stat_names\[[A-Z_]+\] = \{([^}]*)\}/),
      ...names('rpmsg_eth_netdev.c', /rpmsg_eth_frag_failure_stat_names\[\] = \{([^}]*)\}/),
    ];
    const drops = [...main, ...netdev].filter((n) => /_drop_|^frag_(lost|duplicate|truncated|overlong|bad_|timeout)/.test(n));
    for (const name of drops) expect(Object.keys(MODULE_DROP_COUNTERS), name).toContain(name);
    for (const { direction, reason } of Object.values(MODULE_DROP_COUNTERS)) {
      expect(DROP_REASONS).toContain(reason);
      expect(['rx', 'tx']).toContain(direction);
    }
  });

  it('a driver without the module\'s counters (veth) gives no drops by reason, and says so', () => {
    const veth = { peer_ifindex: 2, rx_queue_0_xdp_packets: 0, rx_queue_0_drops: 9, tx_queue_0_xdp_xmit_errors: 0 };
    const { counters, kernel } = kernelChannelCounters({ carrier: true, carrierChanges: 1, stats }, veth, history);
    for (const r of DROP_REASONS) expect(counters.drops[r]).toBe(0);
    expect(kernel.dropsByReason).toBe(false);
    // Its own counters are kept by name, and the kernel's totals stand beside them.
    expect(kernel.driver).toEqual(veth);
    expect(kernel.rxDropped).toBe(3);
  });

  it('no statistics from the kernel: zeros, not a failure', () => {
    const { counters, kernel } = kernelChannelCounters({ carrier: false, carrierChanges: 0, stats: null }, null, history);
    expect(counters.tx).toEqual({ packets: 0, bytes: 0 });
    expect(counters.rx).toEqual({ packets: 0, bytes: 0 });
    expect(kernel).toMatchObject({ rxDropped: 0, txDropped: 0, driver: null, dropsByReason: false });
  });
});
