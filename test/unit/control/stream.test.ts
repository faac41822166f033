// The streaming side of the control socket: records (messages and frames) split at any byte, requests
// validated before the daemon acts on them, limits on what a peer may announce, and a client that gets
// the daemon's start, frames and end.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, encodeMessage, MAX_FRAME, RecordError, RecordParser, type StreamFrame } from '../../../src/control/records.js';
import { ControlServer, type StreamContext } from '../../../src/control/server.js';
import { openStream } from '../../../src/control/stream-client.js';
import type { StreamRequest } from '../../../src/control/protocol.js';

function parseAll(bytes: Buffer, chunk: number): { messages: string[]; frames: StreamFrame[] } {
  const out = { messages: [] as string[], frames: [] as StreamFrame[] };
  const p = new RecordParser({ message: (m) => out.messages.push(m), frame: (f) => out.frames.push(f) });
  for (let at = 0; at < bytes.length; at += chunk) p.push(bytes.subarray(at, at + chunk));
  expect(p.idle).toBe(true);
  return out;
}

describe('records', () => {
  const frameA = Buffer.alloc(1514, 0xab);
  const stream = Buffer.concat([
    encodeMessage({ type: 'start', interfaces: [{ channel: 3, ifname: 'rpmsg3', name: 'x' }] }),
    encodeFrame({ channel: 3, direction: 'tx', originalLength: 1514, timestampNs: 1_700_000_000_123_456_789n }, frameA),
    encodeFrame({ channel: 65535, direction: 'rx', originalLength: 600, timestampNs: 0n, dropReason: 'oversize' }, Buffer.alloc(0)),
    encodeMessage({ type: 'end', ok: true, result: { frames: 2 } }),
  ]);

  it.each([1, 7, 64, 65536])('round-trips messages and frames split every %i bytes', (chunk) => {
    const { messages, frames } = parseAll(stream, chunk);
    expect(messages.map((m) => JSON.parse(m) as { type: string }).map((m) => m.type)).toEqual(['start', 'end']);
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatchObject({ channel: 3, direction: 'tx', originalLength: 1514, timestampNs: 1_700_000_000_123_456_789n, dropReason: undefined });
    expect(Buffer.from(frames[0]!.data).equals(frameA)).toBe(true);
    expect(frames[1]).toMatchObject({ channel: 65535, direction: 'rx', originalLength: 600, dropReason: 'oversize' });
    expect(frames[1]!.data.length).toBe(0);
  });

  it('refuses records larger than the limits, unknown kinds and bad frame headers before reading them', () => {
    const header = (len: number, kind: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(len, 0);
      b[4] = kind;
      return b;
    };
    const p = () => new RecordParser({ message: () => undefined, frame: () => undefined });
    expect(() => p().push(header(64 * 1024 + 1, 1))).toThrow(RecordError);
    expect(() => p().push(header(16 + MAX_FRAME + 1, 2))).toThrow(RecordError);
    expect(() => p().push(header(8, 2))).toThrow(RecordError);
    expect(() => p().push(header(4, 9))).toThrow(/bad record \(kind 9/);
    const badDir = encodeFrame({ channel: 0, direction: 'tx', originalLength: 1, timestampNs: 0n }, Buffer.alloc(1));
    badDir[8] = 7;
    expect(() => p().push(badDir)).toThrow(/bad frame record header/);
    expect(() => encodeFrame({ channel: 0, direction: 'tx', originalLength: 0, timestampNs: 0n }, Buffer.alloc(MAX_FRAME + 1))).toThrow(RecordError);
  });
});

describe('streaming requests on the control socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-eth-stream-'));
  const path = join(dir, 'control.sock');
  const handled: StreamRequest[] = [];
  let server: ControlServer;

  beforeAll(async () => {
    server = new ControlServer(path, () => ({ channels: [] }), {
      stream: async (req: StreamRequest, ctx: StreamContext) => {
        handled.push(req);
        if (req.cmd === 'capture') {
          // The start and a frame in one write: the client reads them in one chunk.
          const frame = encodeFrame({ channel: 1, direction: 'rx', originalLength: 60, timestampNs: 5n }, Buffer.alloc(60, 1));
          ctx.sock.write(Buffer.concat([encodeMessage({ type: 'start', interfaces: [{ channel: 1, ifname: 'rpmsg1', name: 'x' }] }), frame]));
          return { frames: 1 };
        }
        ctx.sock.write(encodeMessage({ type: 'start' }));
        // replay: count the frames the client sends until it ends its side.
        let frames = 0;
        const parser = new RecordParser({ message: () => undefined, frame: () => frames++ });
        parser.push(ctx.rest);
        for await (const chunk of ctx.sock.iterator({ destroyOnReturn: false })) parser.push(chunk as Buffer);
        return { frames };
      },
    });
    await server.start();
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a capture: start (handled before the frames that follow it in the same read), frames, end', async () => {
    const seen: string[] = [];
    const frames: StreamFrame[] = [];
    const s = openStream(path, { cmd: 'capture', channels: [1], count: 1 }, {
      start: (m) => seen.push(`start ${m.interfaces?.map((i) => i.ifname).join(',')}`),
      frame: (f) => {
        seen.push('frame');
        frames.push(f);
      },
    });
    await s.started;
    expect(await s.result).toEqual({ frames: 1 });
    expect(seen).toEqual(['start rpmsg1', 'frame']);
    expect(frames.map((f) => [f.channel, f.direction, f.data.length, f.timestampNs])).toEqual([[1, 'rx', 60, 5n]]);
  });

  it('a replay: the client streams frames, then ends its side', async () => {
    const s = openStream(path, { cmd: 'replay', channel: 2 });
    await s.started;
    for (let i = 0; i < 1000; i++) s.sock.write(encodeFrame({ channel: 2, direction: 'tx', originalLength: 100, timestampNs: 0n }, Buffer.alloc(100, i)));
    s.sock.end();
    expect(await s.result).toEqual({ frames: 1000 });
  });

  it.each<[string, unknown, RegExp]>([
    ['a negative count', { cmd: 'capture', count: -5 }, /invalid request: count: Too small/],
    ['a fractional count', { cmd: 'capture', count: 1.5 }, /invalid request: count:/],
    ['a duration past the timer limit', { cmd: 'capture', durationMs: 2 ** 31 }, /invalid request: durationMs: Too big/],
    ['a file for the daemon to open', { cmd: 'capture', file: '/tmp/x.pcapng' }, /invalid request: request: Unrecognized key: "file"/],
    ['a channel out of range', { cmd: 'replay', channel: 70000 }, /invalid request: channel: Too big/],
    ['an absurd channel list', { cmd: 'capture', channels: Array<number>(5000).fill(1) }, /invalid request: channels: Too big/],
  ])('refuses %s before acting on it', async (_what, req, why) => {
    const before = handled.length;
    const s = openStream(path, req as StreamRequest);
    await expect(s.result).rejects.toThrow(why);
    expect(handled.length).toBe(before);
  });

  it('drops a connection whose request line never ends', async () => {
    const sock = createConnection(path);
    await new Promise((r) => sock.once('connect', r));
    sock.write(Buffer.alloc(70 * 1024, 0x61));
    await new Promise((r) => sock.once('close', r));
    expect(sock.destroyed).toBe(true);
  });

  it('line requests are answered as before', async () => {
    const { controlRequest } = await import('../../../src/control/client.js');
    expect(await controlRequest(path, { cmd: 'stats' })).toEqual({ channels: [] });
  });
});
