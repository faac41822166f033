// The worked examples in docs/frag-wire-spec.md §7 are what a VxWorks developer will copy: check that
// the bytes printed there are the bytes the implementation produces.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MessageBatch } from '../../../src/transport/transport.js';
import { FragEncoder, buildProbe, encodeProbe, PROBE_REPLY } from '../../../src/framing/index.js';

const spec = readFileSync(fileURLToPath(new URL('../../../docs/frag-wire-spec.md', import.meta.url)), 'utf8');

/** Hex bytes of the first ``` block after `heading`, comments (2+ spaces then text) stripped. */
function blockAfter(heading: string): string {
  const at = spec.indexOf(heading);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const open = spec.indexOf('```', at);
  const close = spec.indexOf('```', open + 3);
  return spec
    .slice(open + 3, close)
    .split('\n')
    .map((line) => line.replace(/^message \d+, +\d+ bytes: +/, '').split(/ {2,}|\+/)[0] ?? '')
    .join(' ')
    .replace(/[^0-9a-f ]/gi, ' ')
    .split(/\s+/)
    .filter((t) => /^[0-9a-f]{2}$/i.test(t))
    .join('');
}

function encodeAll(frame: Buffer, seq: number): string[] {
  const enc = new FragEncoder({ maxPayload: 496, initialSeq: seq });
  const out: MessageBatch = { buffer: Buffer.alloc(8 * 496), slotSize: 496, lengths: new Uint32Array(8), count: 0 };
  enc.encode(frame, 0, frame.length, out);
  return Array.from({ length: out.count }, (_, i) => out.buffer.subarray(i * 496, i * 496 + out.lengths[i]!).toString('hex'));
}

describe('spec worked examples', () => {
  it('single-fragment ARP request', () => {
    const frame = Buffer.from(blockAfter('Frame (42 bytes)'), 'hex');
    expect(frame.length).toBe(42);
    const message = blockAfter('One message of 16 + 42 = 58 bytes');
    expect(encodeAll(frame, 7)).toEqual([message]);
  });
  it('1000-byte frame headers', () => {
    const headers = blockAfter('`ceil(1000 / 480) = 3` fragments');
    const frame = Buffer.alloc(1000, 0x5a);
    const msgs = encodeAll(frame, 8);
    expect(msgs.map((m) => m.slice(0, 32)).join('')).toBe(headers);
    expect(msgs.map((m) => m.length / 2)).toEqual([496, 496, 56]);
  });
  it('probe and reply', () => {
    expect(buildProbe(0x12345678, 9014).toString('hex')).toBe(blockAfter('PROBE from the daemon'));
    const reply = Buffer.alloc(60);
    encodeProbe(reply, 0, { type: PROBE_REPLY, version: 1, maxFrame: 1514, nonce: 0x12345678 });
    expect(reply.toString('hex')).toBe(blockAfter('PROBE_REPLY from a peer'));
  });
});
