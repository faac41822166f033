import { describe, expect, it } from 'vitest';
import { DROP_REASONS, type ChannelCounters, type DropCounters } from '../../../src/bridge/counters.js';
import type { ChannelStatus } from '../../../src/control/protocol.js';
import type { PeerHealthState } from '../../../src/health/peer-health.js';
import { formatStats } from '../../../daemon/commands/stats.js';
import { formatStatus, statusLine } from '../../../daemon/commands/status.js';
import { formatDrops, formatTable } from '../../../daemon/commands/table.js';

function newCounters(): ChannelCounters {
  const noDrops = () => Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
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
    operstate: 'up',
    carrier: true,
    adminUp: true,
    link: 'up',
    notCaptured: 0,
    rates: { txPps: 0, txBps: 0, rxPps: 0, rxBps: 0 },
    peer: null,
    down: null,
    ...over,
  };
}

function peer(over: Partial<PeerHealthState>): PeerHealthState {
  return { reachable: null, rttMs: null, lastChange: null, sent: 0, received: 0, lastError: null, ...over };
}

describe('command tables', () => {
  it('aligns columns and trims trailing blanks', () => {
    expect(formatTable(['A', 'BB'], [['xyz', ''], ['1', '22']])).toBe('A    BB\nxyz\n1    22');
  });

  it('lists only non-zero drops', () => {
    expect(formatDrops({ oversize: 0, busy: 2, runt: 1 })).toBe('busy=2 runt=1');
    expect(formatDrops({ oversize: 0 })).toBe('-');
  });

  it('status shows the kernel\'s operstate and carrier, peer state, rates in bit/s and packets/s, and drops', () => {
    const lines = [
      channel({ peer: peer({ reachable: true, rttMs: 0.42 }), rates: { txPps: 1500, txBps: 2_500_000, rxPps: 3, rxBps: 300 } }),
      // Set down by an administrator: the channel's link to the peer is still up.
      channel({ channel: 4, ifname: 'rpmsg4', operstate: 'down', adminUp: false, link: 'up', carrier: true, peer: peer({ reachable: false, rttMs: null }) }),
    ].map(statusLine);
    expect(lines[0]!.rates).toEqual({ txPacketsPerSecond: 1500, txBitsPerSecond: 20_000_000, rxPacketsPerSecond: 3, rxBitsPerSecond: 2400 });
    const [head, up, down] = formatStatus(lines).split('\n');
    expect(head).toMatch(/^IFACE\s+CHANNEL\s+LINK\s+CARRIER\s+MTU/);
    expect(up).toMatch(/rpmsg3\s+3 nokia-swm1-channel\s+up\s+yes\s+482\s+169\.254\.103\.1\/24\s+169\.254\.103\.2\s+ok 0\.42ms\s+20\.0Mbit\/s 1\.5kpkt\/s\s+2\.4kbit\/s 3pkt\/s\s+-/);
    expect(down).toMatch(/rpmsg4 .* admin-down\s+yes .* unreachable\s+0bit\/s 0pkt\/s/);
  });

  it('stats shows counters per channel', () => {
    const c = channel({});
    c.tx.packets = 7;
    c.drops.oversize = 1;
    expect(formatStats({ channels: [c] }).split('\n')[1]).toMatch(/^rpmsg3\s+3\s+up\s+7\s+0\s+0\s+0\s+oversize=1$/);
  });
});
