// SOCK_SEQPACKET socket pairs of the binding keep messages whole.
import { readSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeFd, seqpacketPair } from '../../../src/native/index.js';

const rawFds: number[] = [];
afterEach(() => {
  for (const fd of rawFds.splice(0)) closeFd(fd);
});

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
