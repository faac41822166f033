// SOCK_SEQPACKET sockets of the binding: pairs keep messages whole; the listen/connect/accept
// rendezvous and FdWatch.
import { readSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FdWatch, closeFd, seqpacketAccept, seqpacketConnect, seqpacketListen, seqpacketPair } from '../../../src/native/index.js';

const rawFds: number[] = [];
afterEach(() => {
  for (const fd of rawFds.splice(0)) closeFd(fd);
});

/** Resolves with the first event, or rejects after `ms`. */
function waitFor<T>(register: (done: (value: T) => void) => void, ms = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('seqpacket pair', () => {
  it('keeps messages whole, one per read, non-blocking', () => {
    const [a, b] = seqpacketPair();
    rawFds.push(a, b);
    writeSync(a, Buffer.from('one'));
    writeSync(a, Buffer.from('second'));
    const buf = Buffer.alloc(64);
    expect(buf.toString('utf8', 0, readSync(b, buf))).toBe('one');
    expect(buf.toString('utf8', 0, readSync(b, buf))).toBe('second');
    expect(() => readSync(b, buf)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });
});

describe('seqpacket rendezvous', () => {
  it('listen, watch, connect, accept (null when nothing waits), then exchange messages', async () => {
    const path = `@rpmsg-eth-test-${process.pid}`;
    const listener = seqpacketListen(path);
    rawFds.push(listener);
    expect(seqpacketAccept(listener)).toBeNull();
    let notify: (() => void) | undefined;
    const watch = new FdWatch(listener, () => notify?.());
    try {
      const readable = waitFor<void>((done) => (notify = done));
      const client = seqpacketConnect(path);
      await readable;
      const server = seqpacketAccept(listener);
      expect(server).not.toBeNull();
      expect(seqpacketAccept(listener)).toBeNull();

      rawFds.push(client, server!);
      writeSync(client, Buffer.from('hello'));
      const buf = Buffer.alloc(64);
      expect(buf.toString('utf8', 0, readSync(server!, buf))).toBe('hello');
    } finally {
      watch.close();
      watch.close();
    }
  });

  it('names the path in connect and listen errors', () => {
    expect(() => seqpacketConnect('/nonexistent/rpmsg-eth.sock')).toThrow(
      /connecting to \/nonexistent\/rpmsg-eth.sock: connect: .*ENOENT/,
    );
    const path = `@rpmsg-eth-dup-${process.pid}`;
    rawFds.push(seqpacketListen(path));
    expect(() => seqpacketListen(path)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
  });
});
