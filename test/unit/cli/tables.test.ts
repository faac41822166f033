import { describe, expect, it } from 'vitest';
import type { ChannelCounters } from '../../../src/bridge/counters.js';
import { formatStats } from '../../../daemon/commands/stats.js';
import { formatStatus, type ChannelStatus } from '../../../daemon/commands/status.js';
import { formatDrops, formatTable } from '../../../daemon/commands/table.js';

function newCounters(): ChannelCounters {
  const noDrops = () => ({ oversize: 0, busy: 0, linkDown: 0, runt: 0, framing: 0 });
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

function channel(over: Partial<ChannelStatus>): ChannelStatus {
  return {
    ...newCounters(),
    channel: 3,
    ifname: 'rpmsg3',
    name: 'nokia-swm1-channel',
    mtu: 482,
    address: '169.254.103.1/24',
    peerAddress: '169.254.103.2',
    carrier: true,
    link: 'up',
    ...over,
  };
}

describe('command tables', () => {
  it('aligns columns and trims trailing blanks', () => {
    expect(formatTable(['A', 'BB'], [['xyz', ''], ['1', '22']])).toBe('A    BB\nxyz\n1    22');
  });

  it('lists only non-zero drops', () => {
    expect(formatDrops({ oversize: 0, busy: 2, runt: 1 })).toBe('busy=2 runt=1');
    expect(formatDrops({ oversize: 0 })).toBe('-');
  });

  it('status shows peer state, rates with units, and drops', () => {
    const text = formatStatus([
      channel({ peer: { reachable: true, rttMs: 0.42 }, rates: { txPps: 1500, txBps: 2_500_000, rxPps: 3, rxBps: 300 } }),
      channel({ channel: 4, ifname: 'rpmsg4', link: 'down', carrier: false, peer: { reachable: false, rttMs: null } }),
    ]);
    const [head, up, down] = text.split('\n');
    expect(head).toMatch(/^IFACE\s+CHANNEL\s+LINK\s+CARRIER\s+MTU/);
    expect(up).toMatch(/rpmsg3\s+3 nokia-swm1-channel\s+up\s+yes\s+482\s+169\.254\.103\.1\/24\s+169\.254\.103\.2\s+ok 0\.42ms\s+1\.5kp\/s 2\.5MB\/s\s+3p\/s 300B\/s\s+-/);
    expect(down).toMatch(/rpmsg4 .* down\s+no .* unreachable/);
  });

  it('stats shows counters per channel', () => {
    const c = channel({});
    c.tx.packets = 7;
    c.drops.oversize = 1;
    expect(formatStats({ channels: [c] }).split('\n')[1]).toMatch(/^rpmsg3\s+3\s+up\s+7\s+0\s+0\s+0\s+oversize=1$/);
  });
});
