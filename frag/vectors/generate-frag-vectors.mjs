#!/usr/bin/env node
// Generates frag/vectors/frag-v1.json, the shared test vectors of the `frag` framing
// (frag/wire-spec.md). Deliberately independent of any implementation: messages are built
// by hand from the spec's byte layout, and every expected receiver outcome is written out per step here,
// reasoned from the spec's rules, never computed by an implementation.
//
//   node frag/vectors/generate-frag-vectors.mjs            # rewrite frag-v1.json
//   node frag/vectors/generate-frag-vectors.mjs --check    # exit 1 if frag-v1.json is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('./frag-v1.json', import.meta.url));
const FIRST = 0x01, LAST = 0x02, CONTROL = 0x80;

// One frag message: header fields written byte by byte, as a driver developer would read §2.
function msg({ version = 1, flags, seq = 0, total = 0, offset = 0, payload = Buffer.alloc(0) }) {
  const h = [0x03, 0x72, 0x70, 0x6d, 0x73, 0x67, version, flags,
    (seq >> 8) & 0xff, seq & 0xff, (total >> 8) & 0xff, total & 0xff, 0x88, 0xb5,
    (offset >> 8) & 0xff, offset & 0xff];
  return Buffer.concat([Buffer.from(h), payload]);
}

// An Ethernet frame of `len` bytes: unicast IPv4-looking header, then a pattern that differs per seed,
// so a fragment of one frame can never pass for a fragment of another.
function frame(len, seed) {
  const b = Buffer.alloc(len);
  Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]).copy(b, 0, 0, Math.min(14, len));
  for (let i = 14; i < len; i++) b[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}

// The spec's §3 cut, written as plainly as possible.
function fragments(fr, seq, maxPayload = 496) {
  const F = maxPayload - 16;
  const n = Math.ceil(fr.length / F);
  const out = [];
  for (let i = 0; i < n; i++) {
    const flags = (i === 0 ? FIRST : 0) | (i === n - 1 ? LAST : 0);
    out.push(msg({ flags, seq, total: fr.length, offset: i * F, payload: fr.subarray(i * F, Math.min((i + 1) * F, fr.length)) }));
  }
  return out;
}

function probe(type, maxFrame, nonce, version = 1) {
  const body = Buffer.alloc(44);
  body[0] = type; body[1] = version; body.writeUInt16BE(maxFrame, 2); body.writeUInt32BE(nonce, 4);
  return msg({ flags: CONTROL, payload: body });
}

const hex = (b) => b.toString('hex');
const cut = (m, len) => m.subarray(0, len);
function withByte(m, index, value) { const c = Buffer.from(m); c[index] = value; return c; }
function withU16(m, index, value) { const c = Buffer.from(m); c.writeUInt16BE(value, index); return c; }

// The ARP request of the spec's worked example (§7).
const ARP = Buffer.from('ffffffffffff020000000001080600010800060400010200000000' + '01a9fe6701000000000000a9fe6702', 'hex');
const ARP_MSG_SPEC = '0372706d73670103' + '0007002a88b50000' + hex(ARP); // as printed in §7
if (hex(msg({ flags: FIRST | LAST, seq: 7, total: 42, payload: ARP })) !== ARP_MSG_SPEC) throw new Error('ARP example mismatch');

// ---------------------------------------------------------------------------------------------------
// Encoder vectors: frame + sender parameters -> exact messages.
const encode = [];
function enc(name, maxPayload, seq, fr, note) {
  encode.push({ name, note, maxPayload, seq, frame: hex(fr), messages: fragments(fr, seq, maxPayload).map(hex) });
}
enc('spec example: 42-byte ARP request, single fragment', 496, 7, ARP, 'docs §7: one 58-byte message, flags FIRST|LAST');
enc('spec example: 1000-byte frame, 3 fragments', 496, 8, frame(1000, 8), 'docs §7: 496 + 496 + 56 bytes, offsets 0, 480, 960');
enc('shortest frame, 14 bytes', 496, 0, frame(14, 1));
enc('frame of exactly F = 480 bytes fits one message', 496, 1, frame(480, 2));
enc('frame of F + 1 = 481 bytes needs two messages, the last carrying 1 byte', 496, 2, frame(481, 3));
enc('MTU 1500 frame (1514 bytes), 4 fragments, seq 65535', 496, 65535, frame(1514, 4));
enc('IPv6 minimum MTU frame (1294 bytes), 3 fragments', 496, 300, frame(1294, 5));
enc('MTU 9000 frame (9014 bytes) over 512-byte buffers, 19 fragments', 496, 9, frame(9014, 6));
enc('MTU 9000 frame over 8192-byte buffers (maxPayload 8176), 2 fragments', 8176, 10, frame(9014, 7));
enc('smallest allowed buffers (maxPayload 64, F = 48), 100-byte frame', 64, 11, frame(100, 8));
const encodeRejects = [
  { name: 'runt: 13 bytes', maxPayload: 496, length: 13, reason: 'runt' },
  { name: 'one byte above the 9014-byte limit', maxPayload: 496, length: 9015, reason: 'oversize' },
];

// ---------------------------------------------------------------------------------------------------
// Decoder vectors: message sequences and what the receiver must do at each step.
//   expect: "frame" (with the frame's hex) | "none" | "control"
//   failures: failure counters increased by this step (a reason twice = counted twice)
//   discarded: true when the message is thrown away silently as part of an already dropped frame
const decode = [];
function dec(name, steps, opts = {}) {
  decode.push({ name, note: opts.note, maxFrame: opts.maxFrame ?? 9014, timeoutMs: opts.timeoutMs ?? 1000, steps });
}
const clock = 0;
const S = {
  frame: (m, fr, at) => ({ at: at ?? clock, message: hex(m), expect: 'frame', frame: hex(fr), failures: [] }),
  none: (m, failures = [], at) => ({ at: at ?? clock, message: hex(m), expect: 'none', failures }),
  discard: (m, at, failures = []) => ({ at: at ?? clock, message: hex(m), expect: 'none', failures, discarded: true }),
  control: (m, failures = [], at) => ({ at: at ?? clock, message: hex(m), expect: 'control', failures }),
  tick: (at, failures = []) => ({ at, tick: true, failures }),
};
// All fragments of fr delivered in order: none..., frame.
const whole = (fr, seq, mp) => fragments(fr, seq, mp).map((m, i, a) => (i === a.length - 1 ? S.frame(m, fr) : S.none(m)));

const F1000 = frame(1000, 8), [A1, A2, A3] = fragments(F1000, 8);
const F1000b = frame(1000, 9), [B1, B2, B3] = fragments(F1000b, 9);
const F1514 = frame(1514, 4);
const F9014 = frame(9014, 6);
const RAW60 = frame(60, 42);

dec('single-fragment frame (spec ARP example)', [S.frame(msg({ flags: 3, seq: 7, total: 42, payload: ARP }), ARP)]);
dec('1000-byte frame, 3 fragments in order', whole(F1000, 8));
dec('1514-byte frame, 4 fragments', whole(F1514, 4));
dec('9014-byte frame, 19 fragments over 512-byte buffers', whole(F9014, 6));
dec('9014-byte frame, 2 fragments over 8192-byte buffers', whole(F9014, 6, 8176));
dec('consecutive frames and sequence wrap 65535 -> 0', [...whole(F1514, 65535), ...whole(F1000, 0), ...whole(ARP, 1)]);
dec('frame of exactly maxFrame is accepted', whole(F1514, 3), { maxFrame: 1514 });

dec('lost middle fragment: 1, 3 -> lost; next frame still delivered', [S.none(A1), S.none(A3, ['lost']), ...whole(F1000b, 9)]);
dec('lost first fragment: 2, 3 -> lost once, 3 discarded', [S.frame(msg({ flags: 3, seq: 7, total: 42, payload: ARP }), ARP), S.none(A2, ['lost']), S.discard(A3), ...whole(F1000b, 9)]);
dec('lost last fragment: next FIRST drops the frame in progress (lost) and starts', [S.none(A1), S.none(A2), S.none(B1, ['lost']), S.none(B2), S.frame(B3, F1000b)]);
dec('splice prevention: tail of seq 8 and head of seq 9 lost, same offsets and total -> nothing delivered',
  [S.none(A1), S.none(A2), S.none(B3, ['lost', 'lost'])],
  { note: 'B3 has the offset and total frame 8 expects; only seq differs. Frame 8 is lost (tail) and frame 9 is lost (head).' });
dec('orphan continuation with unknown seq -> lost, later fragments of it discarded', [S.none(B2, ['lost']), S.discard(B3)]);

dec('duplicate middle fragment: 1, 2, 2, 3 -> duplicate, 3 discarded', [S.none(A1), S.none(A2), S.none(A2, ['duplicate']), S.discard(A3), ...whole(F1000b, 9)]);
dec('duplicate first fragment: 1, 1, 2, 3 -> duplicate, rest discarded', [S.none(A1), S.none(A1, ['duplicate']), S.discard(A2), S.discard(A3)]);
dec('duplicate last fragment after delivery -> duplicate', [S.none(A1), S.none(A2), S.frame(A3, F1000), S.none(A3, ['duplicate'])]);
dec('whole single-fragment frame repeated -> duplicate, not delivered twice', (() => {
  const m = msg({ flags: 3, seq: 7, total: 42, payload: ARP });
  return [S.frame(m, ARP), S.none(m, ['duplicate'])];
})());
dec('whole multi-fragment frame repeated -> duplicate once, rest discarded', [S.none(A1), S.none(A2), S.frame(A3, F1000), S.none(A1, ['duplicate']), S.discard(A2), S.discard(A3)]);

dec('truncated last fragment: ends before total', [S.none(A1), S.none(A2), S.none(cut(A3, 40), ['truncated'])]);
dec('truncated middle fragment: shorter than the first, next fragment discarded', [S.none(A1), S.none(cut(A2, 300), ['truncated']), S.discard(A3)]);
dec('truncated single-fragment frame (payload shorter than total)', [S.none(cut(msg({ flags: 3, seq: 7, total: 42, payload: ARP }), 50), ['truncated'])]);
dec('message cut inside the header (15 bytes) -> truncated; frame in progress dropped', [S.none(A1), S.none(cut(A2, 15), ['truncated']), S.discard(A3)]);
dec('empty fragment (header only) -> truncated', [S.none(msg({ flags: FIRST, seq: 3, total: 1000 }), ['truncated'])]);
dec('raw message shorter than an Ethernet header -> truncated', [S.none(Buffer.from('0102030405060708090a', 'hex'), ['truncated'])]);

dec('overlong total: 9015 -> overlong, its continuation discarded', (() => {
  const m1 = msg({ flags: FIRST, seq: 5, total: 9015, payload: frame(480, 1) });
  const m2 = msg({ flags: 0, seq: 5, total: 9015, offset: 480, payload: frame(480, 2) });
  return [S.none(m1, ['overlong']), S.discard(m2), ...whole(F1000, 6)];
})());
dec('total above the receiver maxFrame (1514) -> overlong', [S.none(fragments(frame(2000, 3), 4)[0], ['overlong']), S.discard(fragments(frame(2000, 3), 4)[1]), S.discard(fragments(frame(2000, 3), 4)[2]), S.discard(fragments(frame(2000, 3), 4)[3]), S.discard(fragments(frame(2000, 3), 4)[4]), ...whole(F1514, 5)], { maxFrame: 1514 });
dec('last fragment runs past total -> overlong', [S.none(A1), S.none(A2), S.none(Buffer.concat([A3, Buffer.alloc(20, 0xee)]), ['overlong'])]);
dec('single fragment with more payload than total -> overlong', [S.none(msg({ flags: 3, seq: 1, total: 40, payload: ARP }), ['overlong'])]);

dec('total changes within a frame -> badHeader', [S.none(A1), S.none(withU16(A2, 10, 1001), ['badHeader']), S.discard(A3)]);
dec('reserved flag bit set -> badHeader; frame in progress dropped', [S.none(A1), S.none(withByte(A2, 7, 0x04), ['badHeader']), S.discard(A3)]);
dec('FIRST with offset != 0 -> badHeader', [S.none(withU16(A1, 14, 480), ['badHeader']), S.discard(A2), S.discard(A3)]);
dec('total below 14 -> badHeader', [S.none(msg({ flags: 3, seq: 1, total: 10, payload: Buffer.alloc(10, 1) }), ['badHeader'])]);
dec('non-last fragment longer than the first -> badHeader', (() => {
  const fr = frame(1000, 11);
  const m1 = msg({ flags: FIRST, seq: 2, total: 1000, payload: fr.subarray(0, 400) });
  const m2 = msg({ flags: 0, seq: 2, total: 1000, offset: 400, payload: fr.subarray(400, 880) });
  const m3 = msg({ flags: LAST, seq: 2, total: 1000, offset: 880, payload: fr.subarray(880) });
  return [S.none(m1), S.none(m2, ['badHeader']), S.discard(m3)];
})());
dec('first fragment holds the whole frame but is not LAST -> badHeader', [S.none(msg({ flags: FIRST, seq: 1, total: 42, payload: ARP }), ['badHeader'])]);
dec('non-last fragment reaches total -> badHeader', (() => {
  const fr = frame(960, 12);
  const [m1, m2] = fragments(fr, 3);
  return [S.none(m1), S.none(withByte(m2, 7, 0x00), ['badHeader'])];
})());
dec('CONTROL combined with FIRST -> badHeader', [S.none(withByte(probe(1, 9014, 1), 7, 0x81), ['badHeader'])]);
dec('bad version -> badVersion; frame in progress dropped', [S.none(A1), S.none(withByte(A2, 6, 0x02), ['badVersion']), S.discard(A3), ...whole(F1000b, 9)]);
dec('bad version on a single-fragment frame', [S.none(withByte(msg({ flags: 3, seq: 7, total: 42, payload: ARP }), 6, 0x03), ['badVersion'])]);

dec('timeout found by a timer tick; late fragments discarded; next frame fine', [
  S.none(A1, [], 0), S.none(A2, [], 10), S.tick(1000), S.tick(1001, ['timeout']), S.discard(A3, 1002), ...whole(F1000b, 9).map((s) => ({ ...s, at: 1100 })),
]);
dec('timeout found when the next message arrives; that message is discarded', [S.none(A1, [], 0), S.discard(A2, 1500, ['timeout']), S.discard(A3, 1500)]);
dec('exactly at the timeout is still in time', [S.none(A1, [], 0), S.none(A2, [], 1000), S.frame(A3, F1000, 1000)]);
dec('shorter configured timeout (50 ms)', [S.none(A1, [], 0), S.discard(A2, 51, ['timeout']), S.discard(A3, 51)], { timeoutMs: 50 });

dec('raw frame (no frag signature) is delivered whole', [S.frame(RAW60, RAW60)]);
dec('raw frame between fragments does not disturb reassembly', [S.none(A1), S.frame(RAW60, RAW60), S.none(A2), S.frame(A3, F1000)]);
dec('raw frame with the signature bytes but 13 bytes long is a raw runt', [S.none(cut(A1, 13), ['truncated'])]);

dec('PROBE is a control message, and resets duplicate detection (peer restarted)', (() => {
  const m = msg({ flags: 3, seq: 0, total: 42, payload: ARP });
  return [S.frame(m, ARP), S.control(probe(1, 9014, 0x12345678)), S.frame(m, ARP)];
})());
dec('PROBE mid-frame drops the frame in progress (lost)', [S.none(A1), S.control(probe(1, 9014, 7), ['lost']), S.none(A2, ['lost']), S.discard(A3)]);
dec('PROBE_REPLY mid-frame changes nothing', [S.none(A1), S.control(probe(2, 1514, 7)), S.none(A2), S.frame(A3, F1000)]);
dec('control message shorter than 24 bytes -> truncated', [S.none(cut(probe(1, 9014, 1), 23), ['truncated'])]);
dec('control message of exactly 24 bytes is accepted', [S.control(cut(probe(2, 9014, 1), 24))]);
dec('unknown control type is a control message (ignored by the probe parser)', [S.control(withByte(probe(1, 9014, 1), 16, 9))]);


// Counters each decode case must end with, summed from the per-step annotations above plus the header
// classification of §4 steps 1-2 (which messages count as fragmentsReceived / rawFrames / control).
for (const c of decode) {
  const counters = { fragmentsReceived: 0, fragmentsDiscarded: 0, framesReassembled: 0, rawFrames: 0, controlReceived: 0,
    failures: { lost: 0, duplicate: 0, truncated: 0, overlong: 0, badVersion: 0, badHeader: 0, timeout: 0 } };
  for (const s of c.steps) {
    for (const r of s.failures) counters.failures[r]++;
    if (s.discarded) counters.fragmentsDiscarded++;
    if (s.tick) continue;
    const m = Buffer.from(s.message, 'hex');
    const sig = m.length >= 14 && m.subarray(0, 6).equals(Buffer.from('0372706d7367', 'hex')) && m[12] === 0x88 && m[13] === 0xb5;
    if (!sig) { if (s.expect === 'frame') counters.rawFrames++; continue; }
    if (s.expect === 'control') counters.controlReceived++;
    else if (m.length >= 16 && m[6] === 1 && (m[7] & 0x80) === 0 && (m[7] & 0x7c) === 0) counters.fragmentsReceived++;
    if (s.expect === 'frame') counters.framesReassembled++;
  }
  c.counters = counters;
}

// ---------------------------------------------------------------------------------------------------
// Probe vectors.
const probes = {
  encode: [
    { name: 'spec example PROBE', fields: { type: 1, version: 1, maxFrame: 9014, nonce: 0x12345678 }, message: hex(probe(1, 9014, 0x12345678)) },
    { name: 'spec example PROBE_REPLY', fields: { type: 2, version: 1, maxFrame: 1514, nonce: 0x12345678 }, message: hex(probe(2, 1514, 0x12345678)) },
    { name: 'nonce with the top bit set', fields: { type: 1, version: 1, maxFrame: 14, nonce: 0xfedcba98 }, message: hex(probe(1, 14, 0xfedcba98)) },
  ],
  parse: [
    { name: 'PROBE', message: hex(probe(1, 9014, 0x12345678)), fields: { type: 1, version: 1, maxFrame: 9014, nonce: 0x12345678 } },
    { name: 'PROBE_REPLY of exactly 24 bytes', message: hex(cut(probe(2, 1514, 5), 24)), fields: { type: 2, version: 1, maxFrame: 1514, nonce: 5 } },
    { name: 'reply from a newer peer speaking version 3', message: hex(probe(2, 9014, 5, 3)), fields: { type: 2, version: 3, maxFrame: 9014, nonce: 5 } },
    { name: 'maxFrame above 9014 is read as 9014', message: hex(probe(2, 9100, 5)), fields: { type: 2, version: 1, maxFrame: 9014, nonce: 5 } },
    { name: 'invalid: 23 bytes', message: hex(cut(probe(1, 9014, 5), 23)), fields: null },
    { name: 'invalid: maxFrame below 14', message: hex(probe(2, 13, 5)), fields: null },
    { name: 'invalid: unknown type 3', message: hex(probe(3, 9014, 5)), fields: null },
    { name: 'invalid: version byte 0 in the body', message: hex(probe(1, 9014, 5, 0)), fields: null },
    { name: 'invalid: flags not exactly CONTROL', message: hex(withByte(probe(1, 9014, 5), 7, 0x83)), fields: null },
    { name: 'invalid: header version 2', message: hex(withByte(probe(1, 9014, 5), 6, 2)), fields: null },
    { name: 'invalid: a data fragment', message: hex(A1), fields: null },
    { name: 'invalid: a raw frame', message: hex(RAW60), fields: null },
  ],
};

const doc = {
  spec: 'frag/wire-spec.md',
  version: 1,
  generator: 'frag/vectors/generate-frag-vectors.mjs',
  format: {
    encode: 'frame (hex) sent with maxPayload and seq must produce exactly messages (hex), in order',
    encodeRejects: 'a frame of length bytes must be refused and counted under reason',
    decode: 'feed steps in order to a fresh receiver (maxFrame, timeoutMs); "at" is the time in ms of the step; ' +
      'a step is a message or a timer tick; expect is the push result (frame: with exactly that frame), ' +
      'failures the failure counters the step increases, discarded a silent discard; counters the final values',
    probes: 'encode: fields -> message; parse: message -> fields, or null if the message is not a valid probe/reply',
  },
  encode,
  encodeRejects,
  decode,
  probes,
};
const text = JSON.stringify(doc, null, 1) + '\n';
if (process.argv.includes('--check')) {
  if (readFileSync(OUT, 'utf8') !== text) { console.error(`${OUT} is stale: run node ${process.argv[1]}`); process.exit(1); }
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}: ${encode.length} encode, ${decode.length} decode, ${probes.encode.length + probes.parse.length} probe vectors`);
}
