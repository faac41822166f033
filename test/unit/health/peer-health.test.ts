// Peer health for real: two namespaces joined by a veth pair (no daemon). The peer answers, goes away
// (address removed, link down) and comes back; reachability follows within a few intervals.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerHealth, type PeerHealthState } from '../../../src/health/peer-health.js';
import { addon } from '../../../src/native/addon.js';
import { createTestNetns, deleteTestNetns, requireRoot, sh } from '../../helpers/netns.js';

const LINUX_NS = `rpmsg-hc-l-${process.pid}`;
const PEER_NS = `rpmsg-hc-p-${process.pid}`;
const IFNAME = 'rpmsg9';
const PEER_IF = 'vx9';
const LOCAL = '169.254.109.1';
const PEER = '169.254.109.2';
const INTERVAL = 150;
const CHILD = fileURLToPath(new URL('./probe-child.mjs', import.meta.url));

const peerAddr = (op: 'add' | 'del'): string => sh('ip', ['-n', PEER_NS, 'addr', op, `${PEER}/24`, 'dev', PEER_IF]);
const peerLink = (state: 'up' | 'down'): string => sh('ip', ['-n', PEER_NS, 'link', 'set', PEER_IF, state]);
/** Puts the peer back as beforeAll left it, whatever a failed test did to it. */
function restorePeer(): void {
  sh('ip', ['-n', PEER_NS, 'addr', 'flush', 'dev', PEER_IF]);
  peerAddr('add');
  peerLink('up');
}

beforeAll(() => {
  requireRoot();
  createTestNetns(LINUX_NS);
  createTestNetns(PEER_NS);
  sh('ip', ['-n', LINUX_NS, 'link', 'add', IFNAME, 'type', 'veth', 'peer', 'name', PEER_IF, 'netns', PEER_NS]);
  sh('ip', ['-n', LINUX_NS, 'addr', 'add', `${LOCAL}/24`, 'dev', IFNAME]);
  sh('ip', ['-n', LINUX_NS, 'link', 'set', IFNAME, 'up']);
  peerAddr('add');
  peerLink('up');
});

afterAll(() => {
  deleteTestNetns(LINUX_NS);
  deleteTestNetns(PEER_NS);
});

/** Resolves with the first defined value `poll()` returns, or rejects after `ms`. */
function waitFor<T>(what: string, ms: number, poll: () => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const v = poll();
      if (v !== undefined) {
        clearInterval(timer);
        resolve(v);
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }
    }, 10);
  });
}

interface ChangeEvent {
  event: 'change' | 'stopped';
  reachable?: boolean;
  state: PeerHealthState;
}

/** Drives the reachability scenario against any health check that reports changes into `events`. */
async function scenario(events: ChangeEvent[]): Promise<void> {
  const next = async (reachable: boolean, within: number): Promise<ChangeEvent> => {
    const from = events.length;
    const ev = await waitFor(`reachable=${reachable}`, within, () => events.slice(from).find((e) => e.event === 'change'));
    expect(ev.reachable).toBe(reachable);
    return ev;
  };
  // Up: reachable with a plausible RTT.
  const up = events.find((e) => e.event === 'change') ?? (await next(true, 20 * INTERVAL));
  expect(up.reachable).toBe(true);
  expect(up.state.rttMs).toBeGreaterThan(0);
  expect(up.state.rttMs).toBeLessThan(INTERVAL);
  expect(up.state.received).toBeGreaterThanOrEqual(1);
  expect(up.state.lastChange).toMatch(/^\d{4}-\d\d-\d\dT/);

  // The peer's address goes away: echoes go unanswered, false after 3 misses (a few intervals).
  peerAddr('del');
  const gone = await next(false, 8 * INTERVAL);
  expect(gone.state.rttMs).toBeNull();
  expect(gone.state.sent).toBeGreaterThan(gone.state.received);
  peerAddr('add');
  await next(true, 8 * INTERVAL);

  // The peer's link goes down (carrier lost on our side too), then comes back.
  peerLink('down');
  await next(false, 8 * INTERVAL);
  peerLink('up');
  const back = await next(true, 30 * INTERVAL);
  expect(back.state.rttMs).toBeGreaterThan(0);
}

describe('PeerHealth on a veth pair', () => {
  it('follows the peer going away and coming back (health check running inside the namespace)', async () => {
    expect(existsSync(new URL('../../../dist/src/health/peer-health.js', import.meta.url))).toBe(true);
    const child: ChildProcessWithoutNullStreams = spawn('ip', [
      'netns', 'exec', LINUX_NS, process.execPath, CHILD, IFNAME, PEER, String(INTERVAL),
    ]);
    const events: ChangeEvent[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l) as ChangeEvent));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await scenario(events);
      child.stdin.write('stop\n');
      // stop() leaves no socket and no timer: the child's event loop empties and it exits by itself.
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 3000))]);
      expect(code, stderr).toBe(0);
      const stopped = events.find((e) => e.event === 'stopped');
      expect(stopped?.state.sent).toBeGreaterThanOrEqual(stopped?.state.received ?? Infinity);
      // Transitions only, no repeats: true, false, true, false, true.
      expect(events.filter((e) => e.event === 'change').map((e) => e.reachable)).toEqual([true, false, true, false, true]);
    } finally {
      child.kill();
      restorePeer();
    }
  });

  const hasWithNetns = (() => {
    try {
      return typeof (addon() as unknown as { withNetns?: unknown }).withNetns === 'function';
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasWithNetns)('probes an interface in another namespace from the daemon\'s own (netns option)', async () => {
    const events: ChangeEvent[] = [];
    const changes: boolean[] = [];
    const health = new PeerHealth({
      ifname: IFNAME,
      peerAddress: PEER,
      netns: LINUX_NS,
      intervalMs: INTERVAL,
      timeoutMs: INTERVAL,
      failAfter: 3,
      onChange: (reachable, state) => {
        changes.push(reachable);
        events.push({ event: 'change', reachable, state: { ...state } });
      },
    });
    try {
      expect(health.state.reachable).toBeNull();
      health.start();
      await scenario(events);
      expect(changes).toEqual([true, false, true, false, true]);
    } finally {
      health.stop();
      restorePeer();
    }
    expect(health.running).toBe(false);
    const sent = health.state.sent;
    await new Promise((r) => setTimeout(r, 3 * INTERVAL));
    expect(health.state.sent).toBe(sent);
  });

  it('reports a missing interface as lastError and turns unreachable, sending nothing', async () => {
    // Binding fails before anything is sent, so this may run in the test's own namespace.
    const changes: boolean[] = [];
    const health = new PeerHealth({
      ifname: 'rpmsg-nope',
      peerAddress: PEER,
      intervalMs: 50,
      failAfter: 2,
      onChange: (r) => changes.push(r),
    });
    try {
      health.start();
      await waitFor('unreachable', 2000, () => (changes.length ? changes : undefined));
      expect(changes).toEqual([false]);
      expect(health.state.lastError).toMatch(/binding the ICMP socket to rpmsg-nope: No such device/);
      expect(health.state.sent).toBe(0);
    } finally {
      health.stop();
    }
  });
});

describe('PeerHealth options', () => {
  it('rejects a peer address that is not IPv4 and nonsense timings', () => {
    expect(() => new PeerHealth({ ifname: 'rpmsg0', peerAddress: 'vx-peer' })).toThrow(/"vx-peer" is not an IPv4 address/);
    expect(() => new PeerHealth({ ifname: 'rpmsg0', peerAddress: PEER, intervalMs: 0 })).toThrow(/interval must be >= 10 ms/);
    expect(() => new PeerHealth({ ifname: 'rpmsg0', peerAddress: PEER, failAfter: 0 })).toThrow(/failAfter/);
  });
});
