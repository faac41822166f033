// The soak's leak check: the heap probe (memory after a full GC, from a preload) and the line fit.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { fitLine, HEAP_PROBE_NODE_ARGS, MemoryProbe } from '../../helpers/memory.js';

describe('fitLine', () => {
  it('finds the slope and intercept of points on a line, with no error', () => {
    const fit = fitLine([0, 1, 2, 3, 4].map((x) => [x, 3 + 0.5 * x] as const));
    expect(fit.slope).toBeCloseTo(0.5, 12);
    expect(fit.intercept).toBeCloseTo(3, 12);
    expect(fit.slopeError).toBeCloseTo(0, 12);
  });

  it('gives a flat series with noise a slope near 0 and an error that covers it', () => {
    const noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.3, -0.3, 0.1];
    const fit = fitLine(noise.map((y, x) => [x, 10 + y] as const));
    expect(Math.abs(fit.slope)).toBeLessThan(0.05);
    expect(fit.slopeError).toBeGreaterThan(Math.abs(fit.slope));
  });

  it('refuses points that do not span two x values', () => {
    expect(() => fitLine([[1, 2], [1, 3]])).toThrow(/two distinct x/);
  });
});

describe('MemoryProbe', () => {
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  it('reports heap used after a full GC: retained memory shows, garbage does not', async () => {
    // Each line on stdin: "keep" retains half a million objects (>= 8 MiB of heap), "drop" allocates as
    // much again several times over and lets it go.
    const script =
      "const kept = []; require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {" +
      " if (l === 'keep') kept.push(Array.from({ length: 500000 }, (_, i) => ({ i })));" +
      " else for (let i = 0; i < 8; i++) Array.from({ length: 500000 }, (_, i) => ({ i })); process.stdout.write('done\\n'); });";
    child = spawn(process.execPath, [...HEAP_PROBE_NODE_ARGS, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const probe = new MemoryProbe(child);
    const step = (cmd: string) =>
      new Promise<void>((resolve) => {
        child?.stdout?.once('data', () => resolve());
        child?.stdin?.write(`${cmd}\n`);
      });
    const before = await probe.sample();
    await step('drop');
    const afterGarbage = await probe.sample();
    await step('keep');
    const afterKeep = await probe.sample();
    expect(Math.abs(afterGarbage.heapUsed - before.heapUsed)).toBeLessThan(2 * 1024 * 1024);
    expect(afterKeep.heapUsed - before.heapUsed).toBeGreaterThan(8 * 1024 * 1024);
    expect(afterKeep.rss).toBeGreaterThan(before.rss);
    // The kernel's split adds up to the RSS read a moment apart; the kept objects are anonymous memory.
    const parts = (afterKeep.rssAnon ?? NaN) + (afterKeep.rssFile ?? NaN) + (afterKeep.rssShmem ?? NaN);
    expect(Math.abs(parts - afterKeep.rss)).toBeLessThan(4 * 1024 * 1024);
    expect((afterKeep.rssAnon ?? 0) - (before.rssAnon ?? 0)).toBeGreaterThan(8 * 1024 * 1024);
  });
});
