// Capture in the native data plane against the control plane's life cycle: a capture that outlives
// its channel, a JavaScript thread that falls behind.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PlaneRig, frame, put, until } from '../../helpers/plane-rig.js';

const rigs: PlaneRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

describe('capture in the data plane', () => {
  it('can be stopped after the plane was closed (a reload removed the channel while the capture ran)', async () => {
    const r = new PlaneRig({ tapSlot: 496, frag: false });
    rigs.push(r);
    r.attachDevice();
    r.capture(true);
    put(r.tap, [frame(100, 1)]);
    await until('a captured frame', () => r.captured.length === 1);
    r.plane.close();
    // runCapture's clean-up stops every channel's capture in turn: a closed one must not stop it.
    expect(() => r.capture(false)).not.toThrow();
  });

  it('holds a bounded backlog of records while JavaScript is busy, and counts the frames it could not keep', async () => {
    const r = new PlaneRig({ tapSlot: 1500, frag: false });
    rigs.push(r);
    r.attachDevice({ maxPayload: 1500 });
    r.capture(true);
    // A worker plays the remote side and Linux at full speed while this thread is blocked.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const fs = require('node:fs'); const { workerData } = require('node:worker_threads');
       const { remote, tap, stop } = workerData; const f = Buffer.alloc(1500, 7); const b = Buffer.alloc(2000);
       while (!Atomics.load(stop, 0)) {
         for (let i = 0; i < 64; i++) { try { fs.writeSync(remote, f); } catch { break; } }
         for (let i = 0; i < 64; i++) { try { fs.readSync(tap, b); } catch { break; } }
       }`,
      { eval: true, workerData: { remote: r.remote, tap: r.tap, stop } },
    );
    let grown: number;
    let during: number;
    try {
      await until('frames flowing', () => r.count('rxPackets') > 1000, 5000);
      const rss0 = process.memoryUsage().rss;
      const during0 = r.count('rxPackets');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000); // this thread is busy for 2 s
      grown = process.memoryUsage().rss - rss0;
      during = r.count('rxPackets') - during0;
    } finally {
      Atomics.store(stop, 0, 1);
      await worker.terminate();
    }
    expect(during).toBeGreaterThan(5000); // ~10 MB of frames arrived while nobody took the records
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    const rx = ['rxPackets', 'rxOversize', 'rxBusy', 'rxLinkDown', 'rxRunt', 'rxFraming', 'rxInterfaceDown', 'rxTapGone']
      .reduce((sum, name) => sum + r.count(name), 0); // each one captured
    await until('every record delivered or counted', () => r.captured.length + r.count('captureMissed') === rx);
    expect(r.count('captureMissed')).toBeGreaterThan(0);
  });
});
