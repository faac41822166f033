// limitMallocRetention (native/malloc_tuning.cc), in fresh Node.js processes and in the daemon's order:
// first a freed 12 MiB block raises glibc's thresholds, then the call (or none), then an 8 MiB block is
// allocated and freed. Without the call it stays resident (the control: the measurement sees it); with
// the call it goes back to the kernel. Memory is Anonymous in /proc/self/smaps_rollup (exact, unlike
// RssAnon), read once the process's ArrayBuffer memory shows the block freed. The trim threshold's part
// (small blocks at an arena's top) depends on what else sits in the heap; the soak measures it.
// 64-bit only for the measurement: 32-bit glibc raises its mmap threshold to 512 KiB at most.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon } from '../../../src/native/addon.js';
import { limitMallocRetention } from '../../../src/native/malloc-tuning.js';
import { repoRoot } from '../../helpers/daemon.js';

const addonFile = join(repoRoot, 'build', 'Release', 'rpmsg_eth_native.node');
const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
const glibc = Boolean(report.header?.glibcVersionRuntime);
const wide = process.arch === 'x64' || process.arch === 'arm64' || process.arch === 'ppc64' || process.arch === 's390x';

// argv: the addon, then "limit" or "default". Prints { set, retained } (bytes of anonymous memory kept).
const child = `
const fs = require('node:fs');
const [addonFile, mode] = process.argv.slice(-2);
const anon = () => Number(/^Anonymous:\\s+(\\d+) kB/m.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) * 1024;
const arrayBuffers = () => process.memoryUsage().arrayBuffers;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Its own function: no register of the async caller keeps the block alive.
function allocate(bytes) {
  return Buffer.allocUnsafeSlow(bytes).fill(1).length;
}
async function allocateAndFree(bytes) {
  const before = arrayBuffers();
  allocate(bytes);
  for (let i = 0; arrayBuffers() > before + bytes / 2; i++) {
    if (i === 200) throw new Error('the block was not freed after 200 garbage collections');
    globalThis.gc();
    await sleep(10);
  }
}
(async () => {
  await allocateAndFree(12 << 20);
  const set = mode === 'limit' ? require(addonFile).limitMallocRetention() : null;
  const before = anon();
  await allocateAndFree(8 << 20);
  process.stdout.write(JSON.stringify({ set, retained: anon() - before }));
})();
`;

function run(mode: 'limit' | 'default'): { set: boolean | null; retained: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', child, addonFile, mode], { encoding: 'utf8' });
  return JSON.parse(out) as { set: boolean | null; retained: number };
}

const MiB = 1024 * 1024;

describe('limitMallocRetention', () => {
  it('returns a freed block to the kernel that glibc keeps once a larger one has raised its thresholds', () => {
    addon(); // a missing build says how to make it
    if (!glibc) {
      expect(run('limit').set).toBe(false); // nothing to set: the C library is not glibc
      return;
    }
    const limited = run('limit');
    expect(limited.set).toBe(true);
    if (!wide) return;
    // Both include what the garbage collections themselves leave (0.4-0.8 MiB, by Node.js version).
    expect(run('default').retained).toBeGreaterThan(6 * MiB);
    expect(limited.retained).toBeLessThan(2 * MiB);
  });

  it("leaves the thresholds to an operator's environment (MALLOC_*_THRESHOLD_, GLIBC_TUNABLES), saying so", () => {
    expect(limitMallocRetention({ MALLOC_TRIM_THRESHOLD_: '131072' })).toBe('MALLOC_TRIM_THRESHOLD_ in the environment chooses them');
    expect(limitMallocRetention({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536' })).toBe(
      'GLIBC_TUNABLES in the environment chooses them',
    );
    expect(limitMallocRetention({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe(glibc ? undefined : 'the C library is not glibc');
  });
});
