// limitMallocRetention (native/malloc_tuning.cc), each case in a fresh Node.js process: after a freed
// 4 MiB block has raised glibc's thresholds, a freed 3 MiB block stays resident; with the thresholds
// fixed first, it goes back to the kernel. The first case is the control: it shows the measurement
// sees the memory the second case says is returned.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/daemon.js';

const addonFile = join(repoRoot, 'build', 'Release', 'rpmsg_eth_native.node');
const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

// argv: the addon, then "limit" or "default". Prints { set, retained } (bytes of anonymous RSS kept).
const child = `
const fs = require('node:fs');
const addon = require(process.argv[1]);
const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function allocateAndFree(bytes) {
  let b = Buffer.allocUnsafeSlow(bytes);
  b.fill(1);
  b = null;
  for (let i = 0; i < 3; i++) { globalThis.gc(); await sleep(20); }  // ArrayBuffers may be freed after the GC
}
(async () => {
  const set = process.argv[2] === 'limit' ? addon.limitMallocRetention() : null;
  await allocateAndFree(4 << 20);
  const before = anon();
  await allocateAndFree(3 << 20);
  process.stdout.write(JSON.stringify({ set, retained: anon() - before }));
})();
`;

function run(mode: 'limit' | 'default'): { set: boolean | null; retained: number } {
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', child, addonFile, mode], { encoding: 'utf8' })) as {
    set: boolean | null;
    retained: number;
  };
}

const MiB = 1024 * 1024;

describe('limitMallocRetention', () => {
  it('returns a freed block to the kernel that glibc keeps once a larger one has raised its thresholds', () => {
    if (!glibc) {
      expect(run('limit').set).toBe(false); // nothing to set: the C library is not glibc
      return;
    }
    expect(run('default').retained).toBeGreaterThan(2 * MiB);
    const limited = run('limit');
    expect(limited.set).toBe(true);
    expect(limited.retained).toBeLessThan(0.5 * MiB);
  });
});
