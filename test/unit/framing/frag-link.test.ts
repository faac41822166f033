// FragLink between a fake bridge and a fake inner link: negotiation and fallback, back-pressure in the
// middle of a frame, raw-mode rules, and the receive side against every decode vector (each fault
// dropped and counted, nothing corrupt delivered, memory bounded).
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/log.js';
import { FragLink, type FragLinkOptions } from '../../../src/framing/frag-link.js';
import {
  FAILURE_REASONS,
  FragEncoder,
  PROBE,
  PROBE_REPLY,
  PushResult,
  Reassembler,
  buildProbe,
  buildProbeReply,
  parseProbe,
} from '../../../src/framing/index.js';
import type { ChannelLink, DropReason, FrameRef, LinkEvents, MessageBatch, SendResult } from '../../../src/transport/transport.js';
import { loadFragVectors } from './frag-vectors.js';

const V = loadFragVectors();

/** The transport side: takes at most `room` messages, then reports busy until given more room. */
class FakeInner implements ChannelLink {
  up = true;
  room = Infinity;
  readonly sent: Buffer[] = [];
  waiting = false;
  constructor(
    readonly maxPayload: number,
    private readonly events: () => LinkEvents,
  ) {}
  send(batch: MessageBatch, start: number): SendResult {
    let i = start;
    for (; i < batch.count; i++) {
      const len = batch.lengths[i] as number;
      if (len === 0) continue;
      if (len > this.maxPayload) {
        this.events().onDrop('oversize', 'tx', len, { batch, index: i });
        continue;
      }
      if (this.room <= 0) {
        this.waiting = true;
        return { consumed: i - start, busy: true };
      }
      this.room--;
      this.sent.push(Buffer.from(batch.buffer.subarray(i * batch.slotSize, i * batch.slotSize + len)));
    }
    return { consumed: i - start, busy: false };
  }
  giveRoom(n: number): void {
    this.room += n;
    if (this.waiting) {
      this.waiting = false;
      this.events().onWritable();
    }
  }
  pauseReceive(): void {}
  resumeReceive(): void {}
  async close(): Promise<void> {}
}

/** The bridge side: records frames, drops, wakeups and link changes. */
class FakeBridge implements LinkEvents {
  readonly frames: Buffer[] = [];
  /** false: only count frames and their longest length (for the memory test). */
  keep = true;
  delivered = 0;
  longest = 0;
  readonly drops: Array<{ reason: DropReason; direction: 'tx' | 'rx'; bytes: number; batch?: MessageBatch; index?: number }> = [];
  writable = 0;
  readonly linkChanges: boolean[] = [];
  onMessages(batch: MessageBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const len = batch.lengths[i] as number;
      if (!len) continue;
      this.delivered++;
      this.longest = Math.max(this.longest, len);
      if (this.keep) this.frames.push(Buffer.from(batch.buffer.subarray(i * batch.slotSize, i * batch.slotSize + len)));
    }
  }
  onWritable(): void {
    this.writable++;
  }
  onLinkChange(up: boolean): void {
    this.linkChanges.push(up);
  }
  onDrop(reason: DropReason, direction: 'tx' | 'rx', bytes: number, frame?: FrameRef): void {
    this.drops.push({ reason, direction, bytes, batch: frame?.batch, index: frame?.index });
  }
  dropCount(reason: DropReason, direction: 'tx' | 'rx'): number {
    return this.drops.filter((d) => d.reason === reason && d.direction === direction).length;
  }
}

function fakeLog(): { log: Logger; warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  const log = {
    warn: (_o: unknown, msg: string) => warnings.push(msg),
    info: (_o: unknown, msg: string) => infos.push(msg),
    error: () => undefined,
    debug: () => undefined,
  } as unknown as Logger;
  return { log, warnings, infos };
}

interface Rig {
  link: FragLink;
  inner: FakeInner;
  bridge: FakeBridge;
  clock: { now: number };
  modes: Array<[string, number]>;
  warnings: string[];
}

function rig(opts: { maxPayload?: number; maxFrame?: number; timeoutMs?: number; negotiate?: 'frag' | 'raw' | 'none' } = {}): Rig {
  const clock = { now: 1000 };
  const bridge = new FakeBridge();
  const modes: Array<[string, number]> = [];
  const { log, warnings } = fakeLog();
  const o: FragLinkOptions = {
    channel: 1,
    ifname: 'rpmsg1',
    maxFrame: opts.maxFrame ?? 1514,
    log,
    now: () => clock.now,
    tickMs: 1_000_000, // the tests call tick() themselves
    reassemblyTimeoutMs: opts.timeoutMs,
    onModeChange: (mode, mtu) => modes.push([mode, mtu]),
  };
  const link = new FragLink(bridge, o);
  const inner = new FakeInner(opts.maxPayload ?? 496, () => link);
  link.onLinkChange(true); // as the transport does while it opens
  link.attach(inner);
  const r = { link, inner, bridge, clock, modes, warnings };
  if (opts.negotiate === 'frag') answerProbe(r);
  if (opts.negotiate === 'raw') {
    clock.now += 1500;
    link.tick();
  }
  return r;
}

/** The peer answers the daemon's last PROBE. */
function answerProbe(r: Rig, peerMaxFrame = 9014): void {
  const probe = r.inner.sent.map((m) => parseProbe(m, 0, m.length)).filter((p) => p?.type === PROBE).at(-1);
  if (!probe) throw new Error('no PROBE sent');
  feed(r.link, [buildProbeReply(probe, peerMaxFrame)]);
}

/** Hands messages to the FragLink as one inner batch. */
function feed(link: FragLink, messages: Buffer[], slotSize = Math.max(496, ...messages.map((m) => m.length))): void {
  const batch: MessageBatch = { buffer: Buffer.alloc(slotSize * messages.length), slotSize, lengths: new Uint32Array(messages.length), count: messages.length };
  messages.forEach((m, i) => {
    m.copy(batch.buffer, i * slotSize);
    batch.lengths[i] = m.length;
  });
  link.onMessages(batch);
}

/** A batch of frames as the bridge builds it (slot = the frame limit). */
function frames(list: Buffer[], slotSize = 1514): MessageBatch {
  const b: MessageBatch = { buffer: Buffer.alloc(slotSize * list.length), slotSize, lengths: new Uint32Array(list.length), count: list.length };
  list.forEach((f, i) => {
    f.copy(b.buffer, i * slotSize);
    b.lengths[i] = f.length;
  });
  return b;
}

/** An Ethernet frame of `len` bytes whose content depends on `tag`. */
function frame(len: number, tag: number): Buffer {
  const f = Buffer.alloc(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + tag * 13) & 0xff;
  f.writeUIntBE(0x020000000002, 0, 6);
  f.writeUIntBE(0x020000000001 + tag, 6, 6);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

/** Reassembles what the inner link carried, as the peer would; control messages are skipped. */
function peerReceives(messages: Buffer[]): Buffer[] {
  const rx = new Reassembler({ maxFrame: 9014 });
  const out: Buffer[] = [];
  for (const m of messages) {
    if (rx.push(m, 0, m.length, 0) === PushResult.frame) out.push(Buffer.from(rx.frameBuffer.subarray(rx.frameOffset, rx.frameOffset + rx.frameLength)));
  }
  return out;
}

const dataMessages = (r: Rig) => r.inner.sent.filter((m) => parseProbe(m, 0, m.length) === null);

describe('FragLink negotiation', () => {
  it('probes on link up, holds frames back until the peer answers, then sends 1514-byte frames as 4 fragments', () => {
    const r = rig();
    expect(r.inner.sent).toHaveLength(1);
    expect(parseProbe(r.inner.sent[0]!, 0, 60)).toMatchObject({ type: PROBE, maxFrame: 1514 });
    expect(r.link.sendingMode).toBe('negotiating');

    const f = frame(1514, 1);
    const batch = frames([f]);
    expect(r.link.send(batch, 0)).toEqual({ consumed: 0, busy: true });
    expect(dataMessages(r)).toHaveLength(0);

    answerProbe(r);
    expect(r.link.sendingMode).toBe('frag');
    expect(r.modes).toEqual([['frag', 1500]]);
    expect(r.bridge.writable).toBe(1);
    expect(r.link.send(batch, 0)).toEqual({ consumed: 1, busy: false });
    const msgs = dataMessages(r);
    expect(msgs.map((m) => m.length)).toEqual([496, 496, 496, 16 + 74]);
    expect(peerReceives(msgs)).toEqual([f]);
    expect(r.link.stats().tx).toMatchObject({ framesSent: 1, fragmentsSent: 4, controlSent: 1 });
  });

  it('answers a PROBE from the peer and switches to frag, limited to the peer maxFrame', () => {
    const r = rig();
    feed(r.link, [buildProbe(0x1234, 1014)]);
    const reply = r.inner.sent.map((m) => parseProbe(m, 0, m.length)).find((p) => p?.type === PROBE_REPLY);
    expect(reply).toMatchObject({ nonce: 0x1234, maxFrame: 1514 });
    expect(r.modes).toEqual([['frag', 1000]]);
    // 1015..1514-byte frames exceed what the peer accepts: dropped and counted, not sent.
    const b = frames([frame(1014, 1), frame(1015, 2)]);
    expect(r.link.send(b, 0)).toEqual({ consumed: 2, busy: false });
    expect(peerReceives(dataMessages(r))).toEqual([frame(1014, 1)]);
    expect(r.bridge.dropCount('oversize', 'tx')).toBe(1);
  });

  it('falls back to raw after 1.5 s without a reply: warning, MTU 482, frames sent whole', () => {
    const r = rig();
    r.clock.now += 500;
    r.link.tick();
    expect(r.inner.sent.filter((m) => parseProbe(m, 0, m.length)?.type === PROBE)).toHaveLength(2); // resent
    r.clock.now += 1000;
    r.link.tick();
    expect(r.link.sendingMode).toBe('raw');
    expect(r.modes).toEqual([['raw', 482]]);
    expect(r.warnings.join('\n')).toMatch(/rpmsg1: peer did not answer the frag probe; falling back to raw framing, mtu 482/);
    expect(r.link.stats().fallbacks).toBe(1);

    const ok = frame(496, 1);
    const b = frames([ok, frame(497, 2)]);
    expect(r.link.send(b, 0)).toEqual({ consumed: 2, busy: false });
    expect(dataMessages(r)).toEqual([ok]);
    expect(r.bridge.drops).toEqual([{ reason: 'oversize', direction: 'tx', bytes: 497, batch: b, index: 1 }]);
  });

  it('in raw mode drops (and counts) a frame that carries the frag signature (spec rule 3.8)', () => {
    const r = rig({ negotiate: 'raw' });
    const evil = frame(100, 1);
    Buffer.from([0x03, 0x72, 0x70, 0x6d, 0x73, 0x67]).copy(evil, 0);
    evil.writeUInt16BE(0x88b5, 12);
    const b = frames([frame(60, 1), evil, frame(60, 2)]);
    expect(r.link.send(b, 0)).toEqual({ consumed: 3, busy: false });
    expect(dataMessages(r)).toEqual([frame(60, 1), frame(60, 2)]);
    expect(r.link.stats().tx.rawSignatureDrops).toBe(1);
    // The drop names the frame in the bridge's own batch, so a capture can record it.
    expect(r.bridge.drops).toEqual([{ reason: 'framing', direction: 'tx', bytes: 100, batch: b, index: 1 }]);
  });

  it('switches from the raw fallback to frag when the peer probes later (it booted late)', () => {
    const r = rig({ negotiate: 'raw' });
    feed(r.link, [buildProbe(7, 9014)]);
    expect(r.modes).toEqual([['raw', 482], ['frag', 1500]]);
    expect(r.link.sendingMode).toBe('frag');
  });

  it('renegotiates on every link up, and forgets half-sent frames on link down', () => {
    const r = rig({ negotiate: 'frag' });
    r.inner.room = 2;
    const b = frames([frame(1514, 1)]);
    expect(r.link.send(b, 0)).toEqual({ consumed: 1, busy: true });
    r.inner.up = false;
    r.link.onLinkChange(false);
    expect(r.link.stats().tx.fragmentsAbandoned).toBe(2);
    expect(r.bridge.linkChanges).toEqual([true, false]);
    // Frames offered while the link is down are dropped as linkDown, not held.
    expect(r.link.send(b, 0)).toEqual({ consumed: 1, busy: false });
    expect(r.bridge.dropCount('linkDown', 'tx')).toBe(1);

    r.inner.up = true;
    r.inner.room = Infinity;
    const before = r.inner.sent.length;
    r.link.onLinkChange(true);
    expect(r.link.sendingMode).toBe('negotiating');
    expect(parseProbe(r.inner.sent[before]!, 0, 60)?.type).toBe(PROBE);
    expect(r.inner.sent).toHaveLength(before + 1); // the stale fragments are not sent after the probe
    answerProbe(r);
    expect(r.link.stats().negotiations).toBe(2);
  });
});

describe('FragLink link loss during a send', () => {
  it('drops the frames not yet taken as linkDown when the link goes away in the middle of a send', () => {
    const r = rig({ negotiate: 'frag' });
    const inner = r.inner;
    const send = inner.send.bind(inner);
    let calls = 0;
    inner.send = (batch, start) => {
      if (calls++ === 0) return send(batch, start);
      // The second flush finds the endpoint gone: the transport reports link down from inside send().
      inner.up = false;
      r.link.onLinkChange(false);
      return { consumed: batch.count - start, busy: false };
    };
    // 40 frames of 4 fragments take three 64-slot arenas (16 frames each); the link dies in the second.
    const b = frames(Array.from({ length: 40 }, (_, i) => frame(1514, i)));
    expect(r.link.send(b, 0)).toEqual({ consumed: 40, busy: false });
    expect(r.bridge.dropCount('linkDown', 'tx')).toBe(40 - 16 * 2);
    expect(r.bridge.linkChanges).toEqual([true, false]);
  });
});

describe('FragLink back-pressure', () => {
  it('keeps the rest of a half-sent frame, reports busy, and finishes it first when the link has room', () => {
    const r = rig({ negotiate: 'frag' });
    const list = [frame(1514, 1), frame(1000, 2), frame(60, 3)];
    const b = frames(list);
    r.inner.room = 2;
    const first = r.link.send(b, 0);
    expect(first.busy).toBe(true);
    expect(dataMessages(r)).toHaveLength(2);

    // A PROBE from the peer arrives while a frame is half sent: its reply must not split the frame.
    feed(r.link, [buildProbe(99, 9014)]);
    r.inner.giveRoom(1);
    expect(r.bridge.writable).toBe(0); // still busy: two fragments and the reply wait
    r.inner.giveRoom(100);
    expect(r.bridge.writable).toBe(1);
    const rest = r.link.send(b, first.consumed);
    expect(rest.busy).toBe(false);
    expect(first.consumed + rest.consumed).toBe(3);

    const sent = r.inner.sent.slice(1);
    // Fragments of one frame are back to back: between FIRST and LAST only continuation fragments.
    let open = -1;
    for (const m of sent) {
      const probe = parseProbe(m, 0, m.length);
      if (probe) {
        expect(open, 'control message between fragments').toBe(-1);
        continue;
      }
      const flags = m[7]!;
      const seq = m.readUInt16BE(8);
      if (flags & 1) open = seq;
      expect(seq).toBe(open);
      if (flags & 2) open = -1;
    }
    expect(peerReceives(sent)).toEqual(list);
  });

  it('takes a full TAP batch of 64 maximum frames through a link that accepts 3 messages at a time', () => {
    const r = rig({ negotiate: 'frag' });
    const list = Array.from({ length: 64 }, (_, i) => frame(1514 - i, i));
    const b = frames(list);
    r.inner.room = 3;
    let start = 0;
    let wakeups = 0;
    for (;;) {
      const { consumed, busy } = r.link.send(b, start);
      start += consumed;
      if (!busy) break;
      const w = r.bridge.writable;
      r.inner.giveRoom(3);
      while (r.bridge.writable === w) r.inner.giveRoom(3);
      wakeups++;
    }
    expect(start).toBe(64);
    expect(wakeups).toBeGreaterThan(0);
    expect(peerReceives(dataMessages(r))).toEqual(list);
  });
});

describe('FragLink receive side against the decode vectors', () => {
  for (const v of V.decode) {
    it(v.name, () => {
      const maxPayload = Math.max(496, ...v.steps.map((s) => (s.message?.length ?? 0) / 2));
      const r = rig({ maxPayload, maxFrame: v.maxFrame, timeoutMs: v.timeoutMs, negotiate: 'frag' });
      const base = r.link.stats().rx;
      const expected: Buffer[] = [];
      for (const s of v.steps) {
        r.clock.now = 10_000 + s.at;
        if (s.tick) r.link.tick();
        if (s.message !== undefined) feed(r.link, [Buffer.from(s.message, 'hex')], maxPayload);
        if (s.expect === 'frame') expected.push(Buffer.from(s.frame as string, 'hex'));
      }
      // Exactly the frames the vector delivers, byte for byte; each failure is one counted drop.
      expect(r.bridge.frames).toEqual(expected);
      const rx = r.link.stats().rx;
      const failures = FAILURE_REASONS.reduce((n, k) => n + rx.failures[k], 0);
      for (const k of FAILURE_REASONS) expect(rx.failures[k] - base.failures[k], k).toBe(v.counters.failures[k] ?? 0);
      expect(rx.framesReassembled - base.framesReassembled).toBe(v.counters.framesReassembled);
      expect(rx.fragmentsDiscarded - base.fragmentsDiscarded).toBe(v.counters.fragmentsDiscarded);
      expect(r.bridge.dropCount('framing', 'rx')).toBe(failures);
    });
  }
});

describe('FragLink receive faults', () => {
  /** The 4 fragments of a 1514-byte frame (seq `seq`), as a peer sends them. */
  function fragmentsOf(f: Buffer, seq: number): Buffer[] {
    const enc = new FragEncoder({ maxPayload: 496, initialSeq: seq });
    const out: MessageBatch = { buffer: Buffer.alloc(8 * 496), slotSize: 496, lengths: new Uint32Array(8), count: 0 };
    enc.encode(f, 0, f.length, out);
    return Array.from({ length: out.count }, (_, i) => Buffer.from(out.buffer.subarray(i * 496, i * 496 + (out.lengths[i] as number))));
  }

  const cases: Array<[string, (m: Buffer[]) => Buffer[], string]> = [
    ['a dropped fragment', (m) => [m[0]!, m[1]!, m[3]!], 'lost'],
    ['a duplicated fragment', (m) => [m[0]!, m[1]!, m[1]!, m[2]!, m[3]!], 'duplicate'],
    ['a truncated fragment', (m) => [m[0]!, m[1]!.subarray(0, 300), m[2]!, m[3]!], 'truncated'],
    [
      'an overlong total',
      (m) =>
        m.map((x) => {
          const y = Buffer.from(x);
          y.writeUInt16BE(9015, 10);
          return y;
        }),
      'overlong',
    ],
  ];
  for (const [name, fault, reason] of cases) {
    it(`${name}: the frame is dropped and counted once as ${reason}; the frames around it arrive intact`, () => {
      const r = rig({ negotiate: 'frag' });
      const [a, b, c] = [frame(1514, 1), frame(1514, 2), frame(1514, 3)];
      feed(r.link, [...fragmentsOf(a, 10), ...fault(fragmentsOf(b, 11)), ...fragmentsOf(c, 12)]);
      expect(r.bridge.frames).toEqual([a, c]);
      const rx = r.link.stats().rx;
      expect(rx.failures[reason as keyof typeof rx.failures]).toBe(1);
      expect(FAILURE_REASONS.reduce((n, k) => n + rx.failures[k], 0)).toBe(1);
      expect(r.bridge.dropCount('framing', 'rx')).toBe(1);
    });
  }

  it('times out a frame whose tail never comes, from the timer alone', () => {
    const r = rig({ negotiate: 'frag' });
    feed(r.link, fragmentsOf(frame(1514, 1), 5).slice(0, 2));
    r.clock.now += 1001;
    r.link.tick();
    expect(r.link.stats().rx.failures.timeout).toBe(1);
    expect(r.bridge.dropCount('framing', 'rx')).toBe(1);
    expect(r.bridge.frames).toEqual([]);
  });

  it('delivers raw messages from the peer in frag mode (spec §5)', () => {
    const r = rig({ negotiate: 'frag' });
    feed(r.link, [frame(60, 1), frame(496, 2)]);
    expect(r.bridge.frames).toEqual([frame(60, 1), frame(496, 2)]);
  });

  it('keeps memory bounded under a flood of never-finished frames and random garbage', () => {
    const r = rig({ negotiate: 'frag' });
    r.bridge.keep = false;
    const msgs = fragmentsOf(frame(1514, 1), 0).slice(0, 3);
    const slot = 496;
    const batch: MessageBatch = { buffer: Buffer.alloc(slot * 64), slotSize: slot, lengths: new Uint32Array(64), count: 64 };
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
    const fill = (round: number) => {
      for (let i = 0; i < 64; i++) {
        const m = msgs[i % 3]!;
        m.copy(batch.buffer, i * slot);
        batch.buffer.writeUInt16BE((round * 64 + Math.floor(i / 3)) & 0xffff, i * slot + 8);
        if (rand() % 4 === 0) batch.buffer[i * slot + 16 + (rand() % 16)] = rand() & 0xff; // payload noise
        if (rand() % 8 === 0) batch.buffer[i * slot + 6 + (rand() % 10)] = rand() & 0xff; // header noise
        batch.lengths[i] = rand() % 16 === 0 ? rand() % 496 : m.length;
      }
    };
    fill(0);
    r.link.onMessages(batch);
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    for (let round = 1; round < 3000; round++) {
      fill(round);
      r.link.onMessages(batch);
    }
    global.gc?.();
    // ~190k messages: no frame delivered is longer than the limit, and no buffer grew per message.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    expect(r.bridge.longest).toBeLessThanOrEqual(1514);
    expect(r.bridge.dropCount('framing', 'rx')).toBeGreaterThan(10_000);
  });
});
