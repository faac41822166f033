// Preloaded into a daemon under test (`node --expose-gc --require test/helpers/heap-probe.cjs ...`; see
// memory.ts), never in production: on SIGUSR2, a full garbage collection, then one JSON line on stdout
// (the daemon logs to stderr) with the process's memory after it. Heap used after a full GC is what the
// program still holds, without the garbage of the moment; RSS at the same instant is taken with it.
// A preload keeps the daemon free of any debug hook: without it, SIGUSR2 is not handled at all.
'use strict';
if (typeof globalThis.gc !== 'function') throw new Error('heap-probe.cjs needs node --expose-gc');
process.on('SIGUSR2', () => {
  globalThis.gc();
  const m = process.memoryUsage();
  const sample = { time: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
});
// Until this line, SIGUSR2 would still kill the process (its default action).
process.stdout.write(`${JSON.stringify({ probe: 'ready' })}\n`);
