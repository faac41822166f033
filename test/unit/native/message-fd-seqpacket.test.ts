// MessageFd over SOCK_SEQPACKET pairs: batched receive and send, oversize detection, back-pressure,
// hangup, and the listen/connect/accept rendezvous.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FdWatch,
  MessageFd,
  closeFd,
  seqpacketAccept,
  seqpacketConnect,
  seqpacketListen,
  seqpacketPair,
} from '../../../src/native/index.js';

const { EAGAIN, ECONNRESET } = constants.errno;

/** Resolves with the first event matching `take`, or rejects after `ms`. */
function waitFor<T>(register: (done: (value: T) => void) => void, ms = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** A batch of `count` messages in a slot arena; message i is `size(i)` bytes of (i + j) & 0xff. */
function makeBatch(count: number, slotSize: number, size: (i: number) => number) {
  const buffer = Buffer.alloc(count * slotSize);
  const lengths = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    lengths[i] = size(i);
    for (let j = 0; j < lengths[i]!; j++) buffer[i * slotSize + j] = (i + j) & 0xff;
  }
  return { buffer, lengths };
}

const opened: MessageFd[] = [];
const rawFds: number[] = [];
afterEach(() => {
  for (const m of opened.splice(0)) m.close();
  for (const fd of rawFds.splice(0)) closeFd(fd);
});

function open(fd: number, options: ConstructorParameters<typeof MessageFd>[1]): MessageFd {
  const m = new MessageFd(fd, options);
  opened.push(m);
  return m;
}

describe('MessageFd on a seqpacket pair', () => {
  it('delivers a batch written in one writeBatch as one onReadable, bytes and lengths exact', async () => {
    const [a, b] = seqpacketPair();
    const calls: { count: number; messages: Buffer[]; lengths: number[] }[] = [];
    let notify: (() => void) | undefined;
    const reader = open(b, {
      slotSize: 600,
      batch: 32,
      onReadable(count) {
        const messages: Buffer[] = [];
        const lengths: number[] = [];
        for (let i = 0; i < count; i++) {
          lengths.push(reader.rx.lengths[i]!);
          messages.push(Buffer.from(reader.rx.buffer.subarray(i * 600, i * 600 + reader.rx.lengths[i]!)));
        }
        calls.push({ count, messages, lengths });
        notify?.();
      },
    });
    const writer = open(a, { slotSize: 600, batch: 1, onReadable() {} });
    const batch = makeBatch(20, 600, (i) => 1 + i * 29); // 1 .. 552 bytes
    const delivered = waitFor<void>((done) => (notify = done));
    expect(writer.writeBatch(batch.buffer, 600, batch.lengths, 0, 20)).toBe(20);
    expect(writer.lastErrno).toBe(0);
    await delivered;
    expect(calls).toHaveLength(1);
    expect(calls[0]!.count).toBe(20);
    for (let i = 0; i < 20; i++) {
      expect(calls[0]!.lengths[i]).toBe(batch.lengths[i]);
      expect(calls[0]!.messages[i]!.equals(batch.buffer.subarray(i * 600, i * 600 + batch.lengths[i]!))).toBe(true);
    }
  });

  it('caps a wakeup at `batch` messages and gets the rest on the next wakeup', async () => {
    const [a, b] = seqpacketPair();
    const counts: number[] = [];
    let notify: (() => void) | undefined;
    open(b, {
      slotSize: 64,
      batch: 8,
      onReadable(count) {
        counts.push(count);
        if (counts.reduce((s, c) => s + c, 0) === 20) notify?.();
      },
    });
    const writer = open(a, { slotSize: 64, batch: 1, onReadable() {} });
    const batch = makeBatch(20, 64, () => 60);
    const all = waitFor<void>((done) => (notify = done));
    expect(writer.writeBatch(batch.buffer, 64, batch.lengths, 0, 20)).toBe(20);
    await all;
    expect(counts).toEqual([8, 8, 4]);
  });

  it('writes only start..end-1', async () => {
    const [a, b] = seqpacketPair();
    const seen: number[] = [];
    let notify: (() => void) | undefined;
    const reader = open(b, {
      slotSize: 100,
      batch: 16,
      onReadable(count) {
        for (let i = 0; i < count; i++) seen.push(reader.rx.buffer[i * 100]!);
        notify?.();
      },
    });
    const writer = open(a, { slotSize: 100, batch: 1, onReadable() {} });
    const batch = makeBatch(10, 100, () => 10);
    const got = waitFor<void>((done) => (notify = done));
    expect(writer.writeBatch(batch.buffer, 100, batch.lengths, 3, 7)).toBe(4);
    await got;
    expect(seen).toEqual([3, 4, 5, 6]); // first byte of message i is i
  });

  it('reports a message longer than slotSize with its true length', async () => {
    const [a, b] = seqpacketPair();
    let lengths: number[] = [];
    let notify: (() => void) | undefined;
    const reader = open(b, {
      slotSize: 100,
      batch: 4,
      onReadable(count) {
        lengths = Array.from(reader.rx.lengths.subarray(0, count));
        notify?.();
      },
    });
    const writer = open(a, { slotSize: 1000, batch: 1, onReadable() {} });
    const batch = makeBatch(3, 1000, (i) => [50, 700, 100][i]!);
    const got = waitFor<void>((done) => (notify = done));
    expect(writer.writeBatch(batch.buffer, 1000, batch.lengths, 0, 3)).toBe(3);
    await got;
    expect(lengths).toEqual([50, 700, 100]);
    // The message after the oversize one is intact.
    expect(reader.rx.buffer.subarray(200, 300).equals(batch.buffer.subarray(2000, 2100))).toBe(true);
  });

  it('stops at EAGAIN when the peer does not read, and calls onWritable once it drains', async () => {
    const [a, b] = seqpacketPair();
    let received = 0;
    const reader = open(b, {
      slotSize: 2048,
      batch: 64,
      onReadable(count) {
        received += count;
      },
    });
    reader.pauseRead();
    let writableCalls = 0;
    let notify: (() => void) | undefined;
    const writer = open(a, {
      slotSize: 2048,
      batch: 1,
      onReadable() {},
      onWritable() {
        writableCalls++;
        notify?.();
      },
    });
    const batch = makeBatch(4096, 2048, () => 1500);
    const written = writer.writeBatch(batch.buffer, 2048, batch.lengths, 0, 4096);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(4096);
    expect(writer.lastErrno).toBe(EAGAIN);
    expect(writer.writeBatch(batch.buffer, 2048, batch.lengths, written, 4096)).toBe(0);
    expect(writer.lastErrno).toBe(EAGAIN);

    writer.waitWritable();
    await new Promise((r) => setTimeout(r, 50));
    expect(writableCalls).toBe(0); // still full: no wakeup
    const writable = waitFor<void>((done) => (notify = done));
    reader.resumeRead();
    await writable;
    expect(writableCalls).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(writableCalls).toBe(1); // armed once, fired once
    expect(received).toBe(written);
  });

  it('calls onHangup(0) after the queued messages when the peer closes, then stays silent', async () => {
    const [a, b] = seqpacketPair();
    let received = 0;
    const events: string[] = [];
    let notify: ((errno: number) => void) | undefined;
    const reader = open(b, {
      slotSize: 100,
      batch: 16,
      onReadable(count) {
        received += count;
        events.push('readable');
      },
      onHangup(errno) {
        events.push('hangup');
        notify?.(errno);
      },
    });
    const batch = makeBatch(5, 100, () => 10);
    const writer = new MessageFd(a, { slotSize: 100, batch: 1, onReadable() {} });
    expect(writer.writeBatch(batch.buffer, 100, batch.lengths, 0, 5)).toBe(5);
    const hangup = waitFor<number>((done) => (notify = done));
    writer.close();
    writer.close(); // twice is fine
    expect(await hangup).toBe(0);
    expect(received).toBe(5);
    expect(events).toEqual(['readable', 'hangup']);
    reader.resumeRead();
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toHaveLength(2);
  });

  it('notices the peer closing while reading is paused', async () => {
    const [a, b] = seqpacketPair();
    let notify: ((errno: number) => void) | undefined;
    const reader = open(b, { slotSize: 100, batch: 16, onReadable() {}, onHangup: (e) => notify?.(e) });
    reader.pauseRead();
    const hangup = waitFor<number>((done) => (notify = done));
    closeFd(a);
    expect(await hangup).toBe(0);
  });

  it('reports ECONNRESET when the peer closes with messages unread on its side', async () => {
    const [a, b] = seqpacketPair();
    let notify: ((errno: number) => void) | undefined;
    const reader = open(b, { slotSize: 100, batch: 16, onReadable() {}, onHangup: (e) => notify?.(e) });
    const batch = makeBatch(1, 100, () => 10);
    expect(reader.writeBatch(batch.buffer, 100, batch.lengths, 0, 1)).toBe(1); // into a's queue
    const hangup = waitFor<number>((done) => (notify = done));
    closeFd(a);
    expect(await hangup).toBe(ECONNRESET);
  });

  it('delivers no callback after close(), even with data already waiting', async () => {
    const [a, b] = seqpacketPair();
    let calls = 0;
    const reader = new MessageFd(b, { slotSize: 100, batch: 4, onReadable: () => calls++, onHangup: () => calls++ });
    const writer = open(a, { slotSize: 100, batch: 1, onReadable() {} });
    const batch = makeBatch(2, 100, () => 10);
    expect(writer.writeBatch(batch.buffer, 100, batch.lengths, 0, 2)).toBe(2);
    reader.close(); // before the event loop could deliver
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(0);
    // The reader's end is closed: the writer now gets an error, not a crash.
    expect(writer.writeBatch(batch.buffer, 100, batch.lengths, 0, 2)).toBe(0);
    expect(writer.lastErrno).not.toBe(0);
  });

  it('keeps a zero-length message apart from end of stream', async () => {
    const [a, b] = seqpacketPair();
    const lengths: number[] = [];
    let hangups = 0;
    let notify: (() => void) | undefined;
    const reader = open(b, {
      slotSize: 100,
      batch: 8,
      onReadable(count) {
        lengths.push(...reader.rx.lengths.subarray(0, count));
        if (lengths.length === 3) notify?.();
      },
      onHangup: () => hangups++,
    });
    // writeBatch skips empty messages, so a peer process sends this one (fd 3 = our end a).
    const got = waitFor<void>((done) => (notify = done));
    const peer = spawnSync(
      'python3',
      ['-c', "import socket; s = socket.socket(fileno=3); s.send(b'x' * 10); s.send(b''); s.send(b'y' * 20)"],
      { stdio: ['ignore', 'inherit', 'inherit', a] },
    );
    rawFds.push(a);
    expect(peer.status).toBe(0);
    await got;
    expect(lengths).toEqual([10, 0, 20]);
    expect(hangups).toBe(0);
  });

  it('skips entries of length 0 in writeBatch and counts them as consumed', async () => {
    const [a, b] = seqpacketPair();
    const lengths: number[] = [];
    let notify: (() => void) | undefined;
    const reader = open(b, {
      slotSize: 100,
      batch: 8,
      onReadable(count) {
        lengths.push(...reader.rx.lengths.subarray(0, count));
        notify?.();
      },
    });
    const writer = open(a, { slotSize: 100, batch: 1, onReadable() {} });
    const batch = makeBatch(4, 100, (i) => [10, 0, 20, 0][i]!);
    const got = waitFor<void>((done) => (notify = done));
    expect(writer.writeBatch(batch.buffer, 100, batch.lengths, 0, 4)).toBe(4);
    expect(writer.lastErrno).toBe(0);
    await got;
    expect(lengths).toEqual([10, 20]);
  });

  it('refuses bad arguments with an error instead of crashing', () => {
    const [a, b] = seqpacketPair();
    rawFds.push(b);
    const m = open(a, { slotSize: 100, batch: 2, onReadable() {} });
    const buf = Buffer.alloc(200);
    expect(() => m.writeBatch(buf, 100, new Uint32Array([101]), 0, 1)).toThrow(/outside its slot/);
    expect(() => m.writeBatch(buf, 100, new Uint32Array([10, 10, 10]), 0, 3)).toThrow(/outside its slot/);
    expect(() => m.writeBatch(buf, 100, new Uint32Array([10]), 0, 2)).toThrow(RangeError);
    expect(() => m.writeBatch(buf, 100, new Float64Array([10]) as unknown as Uint32Array, 0, 1)).toThrow(TypeError);
    expect(() => new MessageFd(b, { slotSize: 0, batch: 2, onReadable() {} })).toThrow(RangeError);
    expect(() => new MessageFd(-1, { slotSize: 10, batch: 2, onReadable() {} })).toThrow(RangeError);
    expect(() => new MessageFd(999_999, { slotSize: 10, batch: 2, onReadable() {} })).toThrow(/EBADF/);
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

      let got = '';
      let done: (() => void) | undefined;
      const s = open(server!, {
        slotSize: 64,
        batch: 4,
        onReadable(count) {
          got = s.rx.buffer.toString('utf8', 0, s.rx.lengths[0]) + `/${count}`;
          done?.();
        },
      });
      const c = open(client, { slotSize: 64, batch: 1, onReadable() {} });
      const arrived = waitFor<void>((d) => (done = d));
      expect(c.writeBatch(Buffer.from('hello'), 64, new Uint32Array([5]), 0, 1)).toBe(1);
      await arrived;
      expect(got).toBe('hello/1');
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
