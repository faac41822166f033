// No frame lost or reordered across a million frames each way on one channel with the ring window held
// full, and the JS heap does not grow with traffic: frames never enter JavaScript. The daemon's bridge
// and sim transport run in a child node (test/e2e/million/child.mjs, with --expose-gc to measure the
// heap); a small C tool (million/seqflood.c) sends numbered frames into both TAPs as fast as they take
// them (a frame the TAP's queue refuses is sent again) and checks order and count where they arrive.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../helpers/netns.js';

const COUNT = 1_000_000;
const here = resolve('test/e2e/million');
let dir: string;
let r: {
  toPeer: { received: number; inOrder: boolean; firstBad: number; expected: number; socketDrops: number };
  toLinux: { received: number; inOrder: boolean; firstBad: number; expected: number; socketDrops: number };
  sentL: { sent: number; retries: number };
  sentV: { sent: number; retries: number };
  seconds: number;
  heapBefore: number;
  heapAfter: number;
  counters: { tx: { packets: number; bytes: number }; rx: { packets: number; bytes: number }; drops: Record<string, number> };
  txWaits: number;
  peer: { tx: number; rx: number; windowWaits: number; tapDrops: number; refusedOversize: number };
};

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'rpe-million-'));
  const flood = join(dir, 'seqflood');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', flood, join(here, 'seqflood.c')]);
  const child = spawnSync(process.execPath, ['--expose-gc', join(here, 'child.mjs'), flood, String(COUNT)], { encoding: 'utf8', timeout: 240_000 });
  if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
  r = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  process.stdout.write(
    `million frames each way in ${r.seconds.toFixed(1)} s (${((2 * COUNT) / r.seconds / 1000).toFixed(0)}k frames/s in total); ` +
      `ring window full: daemon ${r.txWaits} times, peer ${r.peer.windowWaits} times; TAP refusals resent ${r.sentL.retries} / ${r.sentV.retries}; ` +
      `JS heap ${(r.heapBefore / 1048576).toFixed(2)} -> ${(r.heapAfter / 1048576).toFixed(2)} MiB\n`,
  );
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a million frames each way on one channel', () => {
  it('arrive, every one, in order, on both sides', () => {
    expect(r.toPeer).toEqual({ received: COUNT, inOrder: true, firstBad: 0, expected: 0, socketDrops: 0 });
    expect(r.toLinux).toEqual({ received: COUNT, inOrder: true, firstBad: 0, expected: 0, socketDrops: 0 });
  });

  it('are counted exactly, with no drop, by the daemon and by the peer', () => {
    expect(r.counters.tx).toEqual({ packets: COUNT, bytes: 60 * COUNT });
    expect(r.counters.rx).toEqual({ packets: COUNT, bytes: 60 * COUNT });
    expect(Object.values(r.counters.drops).every((n) => n === 0)).toBe(true);
    expect(r.peer).toMatchObject({ tx: COUNT, rx: COUNT, tapDrops: 0, refusedOversize: 0 });
  });

  it('ran with the ring window held full in both directions', () => {
    // Each time a sender found num-bufs/2 frames in flight it waited for a kick: thousands of times.
    expect(r.txWaits).toBeGreaterThan(1000);
    expect(r.peer.windowWaits).toBeGreaterThan(1000);
  });

  it('leaves the JS heap where it was: frames never enter JavaScript', () => {
    expect(r.heapAfter - r.heapBefore).toBeLessThan(512 * 1024);
  });
});
