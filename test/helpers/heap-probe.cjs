// Preloaded into a daemon under test (`node --expose-gc --require test/helpers/heap-probe.cjs ...`; see
// memory.ts), never in production: on SIGUSR2, a full garbage collection, then one JSON line on stdout
// (the daemon logs to stderr) with the process's memory after it. Heap used after a full GC is what the
// program still holds, without the garbage of the moment; RSS at the same instant is taken with it, also
// split as the kernel counts it (/proc/self/status): anonymous pages (V8's heap, malloc, thread stacks:
// where a leak grows), file pages (mostly node's own binary and libraries, paged in as code first runs:
// shared and clean, the kernel drops them under pressure) and shared memory (the sim rings' memfds).
// A preload keeps the daemon free of any debug hook: without it, SIGUSR2 is not handled at all.
'use strict';
const { readFileSync } = require('node:fs');

/** A "Key:  N kB" line of /proc/self/status, in bytes. */
function statusBytes(status, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

if (typeof globalThis.gc !== 'function') throw new Error('heap-probe.cjs needs node --expose-gc');
process.on('SIGUSR2', () => {
  globalThis.gc();
  const m = process.memoryUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const sample = {
    time: Date.now(),
    rss: m.rss,
    rssAnon: statusBytes(status, 'RssAnon'),
    rssFile: statusBytes(status, 'RssFile'),
    rssShmem: statusBytes(status, 'RssShmem'),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
});
// Until this line, SIGUSR2 would still kill the process (its default action).
process.stdout.write(`${JSON.stringify({ probe: 'ready' })}\n`);
