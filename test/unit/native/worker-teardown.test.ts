// The binding inside worker threads (where the sim peer may run): open fds and active polls must not
// keep a terminated worker alive or abort the process when its event loop is torn down.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addon } from '../../../src/native/addon.js';

describe('native binding in a worker thread', () => {
  it('is torn down cleanly when the worker is terminated with a running DataPlane', async () => {
    addon(); // make sure it is built, with the usual message if not
    const file = resolve('build/Release/rpmsg_eth_native.node');
    const worker = new Worker(
      `
      const { createRequire } = require('node:module');
      const { parentPort } = require('node:worker_threads');
      const native = createRequire(${JSON.stringify(file)})(${JSON.stringify(file)});
      const fs = require('node:fs');
      const [tapOurs, tap] = native.seqpacketPair();
      const [devOurs, remote] = native.seqpacketPair();
      const plane = new native.DataPlane(tapOurs, { tapSlot: 100, frag: false },
        { onLinkLost() {}, onModeChange() {}, onCapture() {}, onTapHangup() {} });
      plane.attachDevice(devOurs, { maxPayload: 100, batchIoctl: false, room: 'pollout', busyErrnos: [11], dropErrnos: [], retryMinMs: 2, retryMaxMs: 50 });
      fs.writeSync(tap, Buffer.alloc(60, 2));
      const poll = setInterval(() => {
        try {
          const n = fs.readSync(remote, Buffer.alloc(200));
          clearInterval(poll);
          parentPort.postMessage('read ' + n);
        } catch {}
      }, 5);
      `,
      { eval: true },
    );
    const first = await new Promise<string>((res, rej) => {
      worker.once('message', res);
      worker.once('error', rej);
    });
    expect(first).toBe('read 60');
    const code = await worker.terminate();
    expect(code).toBe(1); // terminated, not crashed
    // The main thread's binding still works afterwards.
    const [a, b] = addon().seqpacketPair();
    addon().closeFd(a);
    addon().closeFd(b);
  });
});
