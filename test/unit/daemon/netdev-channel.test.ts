// A netdev channel's monitor, stop and reload against a fake kernel (the native binding's rtnetlink calls
// replaced): errors that say nothing about the interface must not be taken for "gone", a stop must not
// throw when the interface cannot be read, and a reload that comes before the monitor noticed a vanished
// interface must leave the channel waiting for it, not broken.
import { beforeEach, afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelPlan } from '../../../src/channels/types.js';
import type { Logger } from '../../../src/log.js';

interface FakeLink {
  index: number;
  mtu: number;
  adminUp: boolean;
  carrier: boolean;
  addrs: Set<string>;
}

const kernel = vi.hoisted(() => ({
  links: new Map<string, FakeLink>(),
  /** linkState() throws this errno (the namespace cannot be entered, ENOBUFS, ...) while set. */
  failWith: undefined as string | undefined,
  nextIndex: 10,
}));

vi.mock('../../../src/native/index.js', async (importOriginal) => {
  const errno = (code: string) => Object.assign(new Error(`${code} (fake kernel)`), { code });
  const link = (name: string): FakeLink => {
    const l = kernel.links.get(name);
    if (!l) throw errno('ENODEV');
    return l;
  };
  return {
    ...(await importOriginal<object>()),
    linkState: (name: string) => {
      if (kernel.failWith) throw errno(kernel.failWith);
      const l = link(name);
      return { operstate: l.adminUp && l.carrier ? 'up' : 'down', carrier: l.carrier, adminUp: l.adminUp, index: l.index, mtu: l.mtu, carrierChanges: 0, stats: null };
    },
    linkSet: (name: string, s: { up?: boolean; mtu?: number }) => {
      const l = link(name);
      if (s.up !== undefined) l.adminUp = s.up;
      if (s.mtu !== undefined) l.mtu = s.mtu;
    },
    addressChange: (name: string, _netns: string | undefined, change: 'add' | 'del', cidr: string) => {
      const l = link(name);
      if (change === 'add') {
        if (l.addrs.has(cidr)) throw errno('EEXIST');
        l.addrs.add(cidr);
      } else if (!l.addrs.delete(cidr)) throw errno('EADDRNOTAVAIL');
    },
    ethtoolStats: () => null,
  };
});

const { NetdevChannel } = await import('../../../daemon/netdev-channel.js');
const { NetdevTransport } = await import('../../../src/transport/netdev.js');
const { applyReload } = await import('../../../daemon/reload.js');
type Channel = InstanceType<typeof NetdevChannel>;

const plan: ChannelPlan = {
  channel: 1, index: 1, name: 'test-channel', ifname: 'rpmsg1', ethEndpoint: 1024, remoteEndpoint: 1024, bufSize: 512,
  numBufs: 256, maxPayload: 496, framing: 'raw', mtu: 482, address: '169.254.101.1/24', peerAddress: '169.254.101.2', enabled: true,
};

/** The module's rpmsg1: down, no address, as rpmsg_eth registers it. */
function moduleLink(): FakeLink {
  const l = { index: kernel.nextIndex++, mtu: 482, adminUp: false, carrier: true, addrs: new Set<string>() };
  kernel.links.set('rpmsg1', l);
  return l;
}

function setup() {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_o: unknown, msg: string) => void lines.push({ level, msg });
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger;
  const ctx = { netns: undefined, transport: new NetdevTransport({ log, moduleDir: '/nonexistent' }), log, health: () => undefined, mtuLowered: () => false };
  return { lines, log, newChannel: (p: ChannelPlan): Channel => new NetdevChannel(p, ctx) };
}

describe('netdev channel against a fake kernel', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    kernel.links.clear();
    kernel.failWith = undefined;
  });
  afterEach(() => vi.useRealTimers());

  it('an error reading the interface (ENOBUFS) skips a tick: the channel stays adopted, and stop takes its address back', async () => {
    const { lines, newChannel } = setup();
    const link = moduleLink();
    const ch = newChannel(plan);
    await ch.start();
    expect([...link.addrs]).toEqual(['169.254.101.1/24']);
    kernel.failWith = 'ENOBUFS';
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(1000);
    expect(ch.down).toBeNull();
    expect(lines.filter((l) => l.msg.includes('cannot read the interface'))).toHaveLength(1); // once, not per tick
    kernel.failWith = undefined;
    vi.advanceTimersByTime(1000);
    expect(ch.down).toBeNull();
    expect(lines.some((l) => /is gone|is back/.test(l.msg))).toBe(false);
    await ch.stop();
    expect([...link.addrs]).toEqual([]);
    expect(link.adminUp).toBe(false); // found down: put back down
  });

  it('stop() does not throw when the interface cannot be read (its namespace gone): the problem is logged', async () => {
    const { lines, newChannel } = setup();
    moduleLink();
    const ch = newChannel(plan);
    await ch.start();
    kernel.failWith = 'ENOENT';
    await expect(ch.stop()).resolves.toBeUndefined();
    expect(ch.down).toBe('stopped');
    expect(lines.some((l) => l.level === 'error' && /cannot read it to take back .*169\.254\.101\.1\/24.*ENOENT/.test(l.msg))).toBe(true);
  });

  it('a reload just after the interface vanished (before a tick): the channel waits for it and is adopted again when it is back', async () => {
    const { log, newChannel } = setup();
    moduleLink();
    const channels = new Map<number, Channel>([[1, newChannel(plan)]]);
    await channels.get(1)?.start();
    kernel.links.delete('rpmsg1'); // rmmod: no tick has seen it yet
    const moved = { ...plan, address: '169.254.201.1/24', peerAddress: '169.254.201.2' };
    const result = await applyReload({ channels, newChannel, netns: undefined, log }, [moved]);
    expect(result).toMatchObject({ changed: [1], restarted: [] });
    expect(channels.get(1)?.waiting).toBe(true);
    const back = moduleLink();
    vi.advanceTimersByTime(1000);
    expect(channels.get(1)?.down).toBeNull();
    expect([...back.addrs]).toEqual(['169.254.201.1/24']);
    await channels.get(1)?.stop();
  });
});
