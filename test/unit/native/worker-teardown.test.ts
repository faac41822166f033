// The binding inside worker threads (where the sim peer may run): open fds and active polls must not
// keep a terminated worker alive or abort the process when its event loop is torn down.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addon } from '../../../src/native/addon.js';

describe('native binding in a worker thread', () => {
  it('is torn down cleanly when the worker is terminated with open MessageFd and FdWatch', async () => {
    addon(); // make sure it is built, with the usual message if not
    const file = resolve('build/Release/rpmsg_eth_native.node');
    const worker = new Worker(
      `
      const { createRequire } = require('node:module');
      const { parentPort } = require('node:worker_threads');
      const native = createRequire(${JSON.stringify(file)})(${JSON.stringify(file)});
      const [a, b] = native.seqpacketPair();
      const arena = Buffer.alloc(4 * 100 + 1);
      const lengths = new Uint32Array(4);
      const m = new native.MessageFd(b, 100, 4, arena, lengths, (n) => parentPort.postMessage('read ' + n), () => {}, () => {});
      const w = new native.FdWatch(native.seqpacketListen('@rpmsg-eth-worker-' + process.pid), () => {});
      const out = new native.MessageFd(a, 100, 1, Buffer.alloc(101), new Uint32Array(1), () => {}, () => {}, () => {});
      out.writeBatch(Buffer.alloc(100), 100, new Uint32Array([7]), 0, 1);
      `,
      { eval: true },
    );
    const first = await new Promise<string>((res, rej) => {
      worker.once('message', res);
      worker.once('error', rej);
    });
    expect(first).toBe('read 1');
    const code = await worker.terminate();
    expect(code).toBe(1); // terminated, not crashed
    // The main thread's binding still works afterwards.
    const [a, b] = addon().seqpacketPair();
    addon().closeFd(a);
    addon().closeFd(b);
  });
});
