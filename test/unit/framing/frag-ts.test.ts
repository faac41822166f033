// The TypeScript `frag` framing against the shared vectors, plus the properties vectors cannot show:
// arena use without allocation, no-room behaviour, and "never a corrupt frame" under random faults.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MessageBatch } from '../../../src/transport/transport.js';
import {
  ENCODE_DROPPED,
  ENCODE_NO_ROOM,
  FAILURE_REASONS,
  FRAG_HEADER_LEN,
  FragEncoder,
  PushResult,
  Reassembler,
  buildProbe,
  buildProbeReply,
  encodeProbe,
  parseProbe,
  rawFrameLooksLikeFrag,
} from '../../../src/framing/index.js';
import { loadFragVectors } from './frag-vectors.js';

const V = loadFragVectors();
const RESULT_NAME = ['none', 'frame', 'control'] as const;

function arena(slots: number, slotSize: number): MessageBatch {
  return { buffer: Buffer.alloc(slots * slotSize), slotSize, lengths: new Uint32Array(slots), count: 0 };
}

function messagesOf(b: MessageBatch, from = 0): string[] {
  const out: string[] = [];
  for (let i = from; i < b.count; i++) {
    const start = i * b.slotSize;
    out.push(b.buffer.subarray(start, start + (b.lengths[i] ?? 0)).toString('hex'));
  }
  return out;
}

describe('vectors file', () => {
  it('is what the generator produces (not edited by hand, not stale)', () => {
    const gen = fileURLToPath(new URL('../../vectors/generate-frag-vectors.mjs', import.meta.url));
    execFileSync(process.execPath, [gen, '--check'], { stdio: 'pipe' });
  });
  it('covers every failure reason', () => {
    const seen = new Set(V.decode.flatMap((c) => c.steps.flatMap((s) => s.failures)));
    for (const r of FAILURE_REASONS) expect(seen, r).toContain(r);
  });
});

describe('FragEncoder against the vectors', () => {
  for (const v of V.encode) {
    it(v.name, () => {
      const enc = new FragEncoder({ maxPayload: v.maxPayload, initialSeq: v.seq });
      const frame = Buffer.from(v.frame, 'hex');
      // Start at slot 1 with junk in the arena: the encoder must append and overwrite exactly.
      const out = arena(v.messages.length + 2, v.maxPayload);
      out.buffer.fill(0xa5);
      out.count = 1;
      // Offset the frame inside a larger buffer to check offset handling.
      const src = Buffer.concat([Buffer.alloc(3, 0xee), frame, Buffer.alloc(5, 0xee)]);
      expect(enc.encode(src, 3, frame.length, out)).toBe(v.messages.length);
      expect(out.count).toBe(1 + v.messages.length);
      expect(messagesOf(out, 1)).toEqual(v.messages);
      expect(enc.counters.fragmentsSent).toBe(v.messages.length);
      expect(enc.counters.framesSent).toBe(1);
      expect(enc.nextSeq).toBe((v.seq + 1) & 0xffff);
      expect(enc.fragmentCount(frame.length)).toBe(v.messages.length);
    });
  }
  for (const r of V.encodeRejects) {
    it(`refuses ${r.name}`, () => {
      const enc = new FragEncoder({ maxPayload: r.maxPayload });
      const out = arena(32, r.maxPayload);
      expect(enc.encode(Buffer.alloc(r.length), 0, r.length, out)).toBe(ENCODE_DROPPED);
      expect(out.count).toBe(0);
      expect(r.reason === 'runt' ? enc.counters.framesRunt : enc.counters.framesOversize).toBe(1);
      expect(enc.nextSeq).toBe(0);
    });
  }
});

describe('Reassembler against the vectors', () => {
  for (const v of V.decode) {
    it(v.name, () => {
      const rx = new Reassembler({ maxFrame: v.maxFrame, timeoutMs: v.timeoutMs });
      v.steps.forEach((s, i) => {
        const before = { ...rx.counters.failures };
        const discardedBefore = rx.counters.fragmentsDiscarded;
        const where = `step ${i}`;
        if (s.tick) {
          rx.tick(s.at);
        } else {
          const m = Buffer.from(s.message ?? '', 'hex');
          const r = rx.push(m, 0, m.length, s.at);
          expect(RESULT_NAME[r], where).toBe(s.expect);
          if (s.expect === 'frame') {
            const got = rx.frameBuffer.subarray(rx.frameOffset, rx.frameOffset + rx.frameLength);
            expect(got.toString('hex'), where).toBe(s.frame);
          }
        }
        const increased: string[] = [];
        for (const reason of FAILURE_REASONS) {
          for (let k = before[reason]; k < rx.counters.failures[reason]; k++) increased.push(reason);
        }
        expect(increased.sort(), where).toEqual([...s.failures].sort());
        expect(rx.counters.fragmentsDiscarded - discardedBefore, where).toBe(s.discarded ? 1 : 0);
      });
      expect(rx.counters).toEqual(v.counters);
    });
  }
});

describe('probe helpers against the vectors', () => {
  for (const v of V.probes.encode) {
    it(`encodes ${v.name}`, () => {
      const buf = Buffer.alloc(64, 0xff);
      expect(encodeProbe(buf, 2, v.fields as Parameters<typeof encodeProbe>[2])).toBe(60);
      expect(buf.subarray(2, 62).toString('hex')).toBe(v.message);
      expect(buf[0]).toBe(0xff);
      expect(buf[62]).toBe(0xff);
    });
  }
  for (const v of V.probes.parse) {
    it(`parses ${v.name}`, () => {
      const m = Buffer.from(v.message, 'hex');
      expect(parseProbe(m, 0, m.length)).toEqual(v.fields);
    });
  }
  it('builds a reply that answers the probe', () => {
    const probe = parseProbe(buildProbe(0xdeadbeef, 1514), 0, 60);
    expect(probe).toEqual({ type: 1, version: 1, maxFrame: 1514, nonce: 0xdeadbeef });
    const reply = parseProbe(buildProbeReply(probe!, 9014), 0, 60);
    expect(reply).toEqual({ type: 2, version: 1, maxFrame: 9014, nonce: 0xdeadbeef });
  });
});

describe('FragEncoder arena behaviour', () => {
  it('writes nothing and keeps the sequence number when the arena is short of slots', () => {
    const enc = new FragEncoder({ maxPayload: 496 });
    const out = arena(4, 496);
    expect(enc.encode(Buffer.alloc(1514, 1), 0, 1514, out)).toBe(4);
    expect(enc.encode(Buffer.alloc(100, 2), 0, 100, out)).toBe(ENCODE_NO_ROOM);
    expect(out.count).toBe(4);
    expect(enc.nextSeq).toBe(1);
    out.count = 0;
    expect(enc.encode(Buffer.alloc(100, 2), 0, 100, out)).toBe(1);
    expect(out.buffer.readUInt16BE(8)).toBe(1);
  });
  it('honours the peer maxFrame announced in the probe reply', () => {
    const enc = new FragEncoder({ maxPayload: 496 });
    enc.maxFrame = 1514;
    const out = arena(8, 496);
    expect(enc.encode(Buffer.alloc(1515), 0, 1515, out)).toBe(ENCODE_DROPPED);
    expect(enc.counters.framesOversize).toBe(1);
    expect(enc.encode(Buffer.alloc(1514), 0, 1514, out)).toBe(4);
  });
  it('refuses an arena whose slots are smaller than a message (programming error)', () => {
    const enc = new FragEncoder({ maxPayload: 496 });
    expect(() => enc.encode(Buffer.alloc(1000), 0, 1000, arena(4, 256))).toThrow(RangeError);
  });
  it('refuses buffers too small for frag', () => {
    expect(() => new FragEncoder({ maxPayload: 63 })).toThrow(RangeError);
  });
  it('flags raw frames that carry the frag signature', () => {
    const probe = buildProbe(1);
    expect(rawFrameLooksLikeFrag(probe, 0, 60)).toBe(true);
    expect(rawFrameLooksLikeFrag(Buffer.alloc(60), 0, 60)).toBe(false);
  });
});

describe('Reassembler memory and copying', () => {
  it('hands a single-fragment frame up from the message itself and reuses one buffer otherwise', () => {
    const enc = new FragEncoder({ maxPayload: 496 });
    const rx = new Reassembler();
    const out = arena(8, 496);
    enc.encode(Buffer.alloc(100, 7), 0, 100, out);
    expect(rx.push(out.buffer, 0, out.lengths[0]!, 0)).toBe(PushResult.frame);
    expect(rx.frameBuffer).toBe(out.buffer);
    expect(rx.frameOffset).toBe(FRAG_HEADER_LEN);
    out.count = 0;
    enc.encode(Buffer.alloc(1000, 8), 0, 1000, out);
    let internal: Buffer | undefined;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) rx.push(out.buffer, i * 496, out.lengths[i]!, 0);
      internal ??= rx.frameBuffer;
      expect(rx.frameBuffer).toBe(internal);
      expect(rx.frameBuffer.length).toBe(9014);
      // Same frame again is a duplicate by design: make the second round a new frame.
      out.count = 0;
      enc.encode(Buffer.alloc(1000, 9), 0, 1000, out);
    }
  });
  it('rejects a maxFrame outside 14..9014', () => {
    expect(() => new Reassembler({ maxFrame: 9015 })).toThrow(RangeError);
    expect(() => new Reassembler({ maxFrame: 13 })).toThrow(RangeError);
  });
});

// Deterministic PRNG so a failure reproduces.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

describe('never a corrupt frame (random faults)', () => {
  it('delivers only frames that were sent, each at most once per send, under loss, duplication, truncation and corruption', () => {
    const rand = rng(12345);
    const enc = new FragEncoder({ maxPayload: 496 });
    const rx = new Reassembler({ maxFrame: 9014, timeoutMs: 1000 });
    const out = arena(32, 496);
    const sent = new Map<string, number>();
    let delivered = 0;
    let clean = 0;
    for (let f = 0; f < 3000; f++) {
      const len = 14 + Math.floor(rand() * 3000);
      const frame = Buffer.alloc(len);
      for (let i = 0; i < len; i++) frame[i] = Math.floor(rand() * 256);
      const key = frame.toString('hex');
      sent.set(key, (sent.get(key) ?? 0) + 1);
      out.count = 0;
      const n = enc.encode(frame, 0, len, out);
      expect(n).toBeGreaterThan(0);
      const faulty = rand() < 0.5;
      const msgs: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const m = Buffer.from(out.buffer.subarray(i * 496, i * 496 + out.lengths[i]!));
        if (!faulty) {
          msgs.push(m);
          continue;
        }
        const fault = rand();
        if (fault < 0.15) continue; // lost
        if (fault < 0.3) msgs.push(m, m); // duplicated
        else if (fault < 0.45) msgs.push(m.subarray(0, Math.floor(rand() * m.length))); // truncated
        else if (fault < 0.6) {
          const c = Buffer.from(m); // a header byte flipped
          const at = Math.floor(rand() * FRAG_HEADER_LEN);
          c[at] = c[at]! ^ (1 << Math.floor(rand() * 8));
          msgs.push(c);
        } else if (fault < 0.7 && msgs.length > 0) msgs.splice(msgs.length - 1, 0, m); // reordered
        else msgs.push(m);
      }
      for (const m of msgs) {
        const rawBefore = rx.counters.rawFrames;
        if (rx.push(m, 0, m.length, f) !== PushResult.frame) continue;
        // A flipped signature bit turns a message into a raw frame, delivered whole by the raw
        // framing's contract (spec §5); everything reassembled must be a frame that was sent.
        if (rx.counters.rawFrames !== rawBefore) continue;
        const got = rx.frameBuffer.subarray(rx.frameOffset, rx.frameOffset + rx.frameLength).toString('hex');
        const left = sent.get(got) ?? 0;
        expect(left, 'delivered frame was never sent (or delivered twice)').toBeGreaterThan(0);
        sent.set(got, left - 1);
        delivered++;
      }
      if (!faulty) clean++;
    }
    // Every fault-free frame whose predecessor did not leave the receiver mid-frame gets through;
    // at least the clean ones minus those hit by a preceding fault.
    expect(delivered).toBeGreaterThan(clean * 0.6);
    const c = rx.counters;
    const failures = FAILURE_REASONS.reduce((a, r) => a + c.failures[r], 0);
    expect(failures).toBeGreaterThan(0);
    expect(c.failures.lost + c.failures.duplicate + c.failures.truncated).toBeGreaterThan(0);
  });
});
