// The `frag` framing inside the native data plane (native/dataplane/channel.cc over frag/):
// negotiation and fallback, the raw-mode rules, back-pressure in the middle of a frame, renegotiation,
// and the receive side's faults. The test plays the peer on a stand-in device, building and reading
// frag messages by hand from frag/wire-spec.md §2 (the vectors cover the byte-level rules).
import { readSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PlaneRig, drain, frame, put, until } from '../../helpers/plane-rig.js';

const rigs: PlaneRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

const SIG = [0x03, 0x72, 0x70, 0x6d, 0x73, 0x67];
const F = 480; // fragment payload over 496-byte messages

function header(flags: number, seq: number, total: number, offset: number): Buffer {
  const h = Buffer.from([...SIG, 1, flags, 0, 0, 0, 0, 0x88, 0xb5, 0, 0]);
  h.writeUInt16BE(seq, 8);
  h.writeUInt16BE(total, 10);
  h.writeUInt16BE(offset, 14);
  return h;
}

function control(type: 1 | 2, maxFrame: number, nonce: number): Buffer {
  const body = Buffer.alloc(44);
  body[0] = type;
  body[1] = 1;
  body.writeUInt16BE(maxFrame, 2);
  body.writeUInt32BE(nonce >>> 0, 4);
  return Buffer.concat([header(0x80, 0, 0, 0), body]);
}

function fragments(f: Buffer, seq: number): Buffer[] {
  const n = Math.ceil(f.length / F);
  return Array.from({ length: n }, (_, i) =>
    Buffer.concat([header((i === 0 ? 1 : 0) | (i === n - 1 ? 2 : 0), seq, f.length, i * F), f.subarray(i * F, Math.min(f.length, (i + 1) * F))]));
}

const isFrag = (m: Buffer) => m.length >= 16 && SIG.every((b, i) => m[i] === b) && m[12] === 0x88 && m[13] === 0xb5;
const isControl = (m: Buffer) => isFrag(m) && m[7] === 0x80;
const probeOf = (m: Buffer) => ({ type: m[16], maxFrame: m.readUInt16BE(18), nonce: m.readUInt32BE(20) });

/** Reassembles what the plane sent, checking fragments of a frame come back to back. */
function frames(messages: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let parts: Buffer[] | undefined;
  for (const m of messages) {
    if (isControl(m)) {
      expect(parts, 'a control message between fragments').toBeUndefined();
      continue;
    }
    if (!isFrag(m)) {
      out.push(m);
      continue;
    }
    if (m[7]! & 1) parts = [];
    expect(parts, 'a fragment without its FIRST').toBeDefined();
    parts!.push(m.subarray(16));
    if (m[7]! & 2) {
      out.push(Buffer.concat(parts!));
      parts = undefined;
    }
  }
  return out;
}

function rig(timings: { probeResendMs?: number; probeGiveUpMs?: number; reassemblyTimeoutMs?: number } = {}, maxFrame = 1514): PlaneRig {
  const r = new PlaneRig({ tapSlot: maxFrame, frag: true, maxFrame, probeResendMs: 50, probeGiveUpMs: 150, ...timings });
  rigs.push(r);
  r.attachDevice();
  return r;
}

/** Everything the peer has received so far, accumulated. */
function collector(r: PlaneRig) {
  const got: Buffer[] = [];
  return () => (got.push(...drain(r.remote)), got);
}

async function negotiated(r: PlaneRig, peerMaxFrame = 9014): Promise<() => Buffer[]> {
  const sent = collector(r);
  await until('a PROBE', () => sent().some(isControl));
  const probe = probeOf(sent().find(isControl)!);
  put(r.remote, [control(2, peerMaxFrame, probe.nonce)]);
  await until('frag mode', () => r.modes.length > 0);
  return sent;
}

describe('frag negotiation in the data plane', () => {
  it('probes on link up, holds frames back until the peer answers, then sends a 1514-byte frame as 4 fragments', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
    const sent = collector(r);
    await until('a PROBE', () => sent().length > 0);
    expect(sent().map(probeOf)).toEqual([{ type: 1, maxFrame: 1514, nonce: expect.any(Number) }]);
    const f = frame(1514, 1);
    put(r.tap, [f]);
    await new Promise((res) => setTimeout(res, 50));
    expect(sent()).toHaveLength(1); // held back while negotiating
    expect(r.frag().mode).toBe(0);
    put(r.remote, [control(2, 9014, probeOf(sent()[0]!).nonce)]);
    await until('4 fragments', () => sent().length >= 5);
    await until('the mode change', () => r.modes.length > 0); // events reach JavaScript a loop turn later
    expect(r.modes).toEqual([['frag', 1500]]);
    expect(sent().slice(1).map((m) => m.length)).toEqual([496, 496, 496, 16 + 74]);
    expect(frames(sent())).toEqual([f]);
    expect(r.frag()).toMatchObject({ mode: 1, peerMaxFrame: 9014, negotiations: 1, framesSent: 1, fragmentsSent: 4, controlSent: 1 });
    expect(r.counters()).toMatchObject({ txPackets: 1, txBytes: 1514 });
  });

  it('answers a PROBE from the peer and switches to frag, limited to the peer maxFrame', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
    const sent = collector(r);
    put(r.remote, [control(1, 1014, 0x1234)]);
    await until('frag mode', () => r.modes.length > 0);
    expect(r.modes).toEqual([['frag', 1000]]);
    await until('the reply', () => sent().some((m) => isControl(m) && m[16] === 2));
    expect(probeOf(sent().find((m) => isControl(m) && m[16] === 2)!)).toEqual({ type: 2, maxFrame: 1514, nonce: 0x1234 });
    put(r.tap, [frame(1014, 1), frame(1015, 2), frame(100, 3)]);
    await until('two frames', () => frames(sent()).length >= 2);
    expect(frames(sent())).toEqual([frame(1014, 1), frame(100, 3)]);
    expect(r.counters().txOversize).toBe(1);
    expect(r.frag().framesOversize).toBe(1);
  });

  it('falls back to raw without a reply: probe resent, MTU 482, frames sent whole, oversize dropped', async () => {
    const r = rig();
    const sent = collector(r);
    await until('fallback', () => r.modes.length > 0, 2000);
    expect(r.modes).toEqual([['raw', 482]]);
    expect(sent().filter(isControl).length).toBeGreaterThanOrEqual(2); // resent
    expect(r.frag()).toMatchObject({ mode: 2, fallbacks: 1, peerMaxFrame: 0 });
    put(r.tap, [frame(496, 1), frame(497, 2)]);
    await until('a frame', () => sent().some((m) => !isFrag(m)));
    await new Promise((res) => setTimeout(res, 20));
    expect(sent().filter((m) => !isFrag(m))).toEqual([frame(496, 1)]);
    expect(r.counters().txOversize).toBe(1);
  });

  it('in raw mode drops (and counts, and captures) a frame that carries the frag signature (spec rule 3.8)', async () => {
    const r = rig();
    await until('fallback', () => r.modes.length > 0, 2000);
    r.capture(true);
    const evil = frame(100, 1);
    Buffer.from(SIG).copy(evil, 0);
    evil.writeUInt16BE(0x88b5, 12);
    const sent = collector(r);
    put(r.tap, [frame(60, 1), evil, frame(60, 2)]);
    await until('two frames', () => sent().filter((m) => !isFrag(m)).length >= 2);
    expect(sent().filter((m) => !isFrag(m))).toEqual([frame(60, 1), frame(60, 2)]);
    expect(r.frag().rawSignatureDrops).toBe(1);
    expect(r.counters().txFraming).toBe(1);
    await until('captured', () => r.captured.length >= 3);
    expect(r.captured.filter((c) => c.reason).map((c) => [c.direction, c.reason, c.data.length])).toEqual([['tx', 'framing', 100]]);
  });

  it('switches from the raw fallback to frag when the peer probes later (it booted late)', async () => {
    const r = rig();
    await until('fallback', () => r.modes.length > 0, 2000);
    put(r.remote, [control(1, 9014, 7)]);
    await until('frag', () => r.modes.length > 1);
    expect(r.modes).toEqual([['raw', 482], ['frag', 1500]]);
    expect(r.frag().mode).toBe(1);
  });

  it('renegotiates on every link up; fragments queued when the link goes down are abandoned, not sent later', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
    await negotiated(r);
    // The device stops taking messages: fill it, then offer more frames than fit.
    const filler = Array.from({ length: 400 }, (_, i) => frame(1514, i));
    put(r.tap, filler);
    await until('the device is full', () => r.counters().txPackets! > 0 && r.plane.txIdle === false, 3000);
    r.detach();
    const f = r.frag();
    expect(f.fragmentsAbandoned).toBeGreaterThan(0);
    r.attachDevice();
    const sent = collector(r);
    await until('a new PROBE', () => sent().length > 0);
    expect(sent().every(isControl)).toBe(true); // stale fragments are not sent after the probe
    expect(r.frag().negotiations).toBe(2);
    expect(r.frag().mode).toBe(0);
  });

  it('counts a frame as sent once its last fragment is, and one whose fragments are abandoned at link down as a linkDown drop', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
    await negotiated(r);
    // The device stops taking messages with frames queued, some of them half sent; then the link goes down.
    const offered = put(r.tap, Array.from({ length: 400 }, (_, i) => frame(1514, i)));
    await until('the device is full', () => r.count('txWaits') > 0 && r.plane.txIdle === false, 3000);
    r.detach();
    expect(r.frag()['fragmentsAbandoned']).toBeGreaterThan(0);
    await until('every frame read from the TAP', () => r.count('txPackets') + r.count('txLinkDown') === offered);
    // What the device took before the link went down (read up to its end: drain() would loop at EOF).
    let arrived = 0;
    const buf = Buffer.alloc(2048);
    for (let n; (n = readSync(r.remote, buf)) > 0; ) if (n > 16 && isFrag(buf) && !isControl(buf) && (buf[7]! & 2) !== 0) arrived++;
    expect(r.counters().txPackets).toBe(arrived);
    expect(r.counters().txBytes).toBe(arrived * 1514);
  });

  it('keeps the rest of a half-sent frame while the device is full and sends it before anything else', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
    const sent = await negotiated(r);
    const list = Array.from({ length: 300 }, (_, i) => {
      const f = frame(1514 - (i % 50), i);
      f.writeUInt32BE(i, 14);
      return f;
    });
    let offered = put(r.tap, list);
    // A PROBE from the peer arrives while frames are half sent: its reply must not split a frame.
    put(r.remote, [control(1, 9014, 99)]);
    await until('every frame', () => {
      if (offered < list.length) offered += put(r.tap, list.slice(offered));
      return frames(sent()).length >= list.length;
    }, 10_000);
    expect(frames(sent())).toEqual(list); // and frames() checked that fragments were back to back
    expect(sent().some((m) => isControl(m) && m[16] === 2)).toBe(true);
  });

  it('follows a restarted peer that announces another maxFrame in its PROBE while in frag mode (spec §6.3, §6.5)', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 }, 9014);
    const sent = await negotiated(r, 9014);
    expect(r.modes).toEqual([['frag', 9000]]);
    put(r.remote, [control(1, 1514, 0x777)]); // the peer came back with MTU 1500
    await until('the new MTU', () => r.modes.length > 1);
    expect(r.modes).toEqual([['frag', 9000], ['frag', 1500]]);
    expect(r.frag().peerMaxFrame).toBe(1514);
    put(r.tap, [frame(3000, 1), frame(1514, 2)]);
    await until('a frame', () => frames(sent()).length >= 1);
    await new Promise((res) => setTimeout(res, 20));
    expect(frames(sent())).toEqual([frame(1514, 2)]); // never more than the peer accepts
    expect(r.counters().txOversize).toBe(1);
    put(r.remote, [control(1, 9014, 0x778)]); // and back to jumbo frames
    await until('the jumbo MTU', () => r.modes.length > 2);
    expect(r.modes[2]).toEqual(['frag', 9000]);
    put(r.tap, [frame(3000, 3)]);
    await until('the 3000-byte frame', () => frames(sent()).length >= 2);
    expect(frames(sent())[1]).toEqual(frame(3000, 3));
  });
});

describe('frag receive side in the data plane', () => {
  const cases: Array<[string, (m: Buffer[]) => Buffer[], string]> = [
    ['a dropped fragment', (m) => [m[0]!, m[1]!, m[3]!], 'lost'],
    ['a duplicated fragment', (m) => [m[0]!, m[1]!, m[1]!, m[2]!, m[3]!], 'duplicate'],
    ['a truncated fragment', (m) => [m[0]!, m[1]!.subarray(0, 300), m[2]!, m[3]!], 'truncated'],
  ];
  for (const [name, fault, reason] of cases) {
    it(`${name}: the frame is dropped and counted once as ${reason} (a framing drop); the frames around it arrive intact`, async () => {
      const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
      await negotiated(r);
      const [a, b, c] = [frame(1514, 1), frame(1514, 2), frame(1514, 3)];
      put(r.remote, [...fragments(a, 10), ...fault(fragments(b, 11)), ...fragments(c, 12)]);
      const got: Buffer[] = [];
      await until('two frames', () => (got.push(...drain(r.tap)), got.length >= 2));
      await new Promise((res) => setTimeout(res, 20));
      got.push(...drain(r.tap));
      expect(got).toEqual([a, c]);
      const f = r.frag();
      expect(f[reason]).toBe(1);
      expect(['lost', 'duplicate', 'truncated', 'overlong', 'badVersion', 'badHeader', 'timeout'].reduce((n, k) => n + (f[k] as number), 0)).toBe(1);
      expect(r.counters().rxFraming).toBe(1);
    });
  }

  it('delivers raw messages from the peer in frag mode (spec §5)', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000 });
    await negotiated(r);
    put(r.remote, [frame(60, 1), frame(496, 2)]);
    const got: Buffer[] = [];
    await until('two frames', () => (got.push(...drain(r.tap)), got.length >= 2));
    expect(got).toEqual([frame(60, 1), frame(496, 2)]);
    expect(r.frag().rawFrames).toBe(2);
  });

  it('counts a frame whose tail never comes as a timeout, without any further message', async () => {
    const r = rig({ probeGiveUpMs: 10_000, probeResendMs: 10_000, reassemblyTimeoutMs: 50 });
    await negotiated(r);
    put(r.remote, fragments(frame(1514, 1), 5).slice(0, 2));
    await until('two fragments in', () => r.frag().fragmentsReceived === 2);
    await new Promise((res) => setTimeout(res, 80));
    expect(r.frag().timeout).toBe(1);
    expect(r.counters().rxFraming).toBe(1);
    expect(drain(r.tap)).toEqual([]);
  });
});

describe('frag limits in the data plane', () => {
  it('sends jumbo frames over small messages: a frame needs more fragments than the default queue has slots', async () => {
    // bufSize 128 (maxPayload 112, F = 96) with MTU 9000: a 9014-byte frame is 94 fragments.
    const r = new PlaneRig({ tapSlot: 9014, frag: true, maxFrame: 9014, probeResendMs: 10_000, probeGiveUpMs: 10_000 });
    rigs.push(r);
    r.attachDevice({ maxPayload: 112 });
    const sent = await negotiated(r);
    const big = frame(9014, 1);
    put(r.tap, [frame(200, 2), big]);
    await until('both frames', () => frames(sent()).length >= 2);
    expect(frames(sent())).toEqual([frame(200, 2), big]);
    expect(sent().filter((m) => !isControl(m))).toHaveLength(3 + 94);
    expect(r.counters()).toMatchObject({ txPackets: 2, txBytes: 9214 });
  });
});
