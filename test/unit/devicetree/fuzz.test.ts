// Random corruptions of the DTB and random truncations/garbage in the board DTS: the readers (the FDT
// reader, the cpp + dtc pipeline, and the table reader and validator behind them) must end in a one-line
// DeviceTreeError naming the file or a result, never another exception or a hang. Seeded, so a failure
// names a reproducible case.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readChannelTable } from '../../../src/channels/table.js';
import { validateChannels } from '../../../src/channels/validate.js';
import { DeviceTreeError } from '../../../src/devicetree/errors.js';
import { parseFdt } from '../../../src/devicetree/fdt.js';
import { findRpmsgNode, loadDeviceTree } from '../../../src/devicetree/load.js';
import type { DtNode } from '../../../src/devicetree/tree.js';
import { prng } from '../../helpers/prng.js';
import { compileWithDtc, lantaDts, lantaFlat, lantaIncludes, repoRoot } from './dtc.js';

const dtb = compileWithDtc(lantaFlat);
const dts = new Uint8Array(readFileSync(lantaDts));
// The board file's .dtsi files beside each mutated copy, so only the board file itself is garbled.
const scratch = mkdtempSync(join(tmpdir(), 'rpmsg-eth-fuzz-'));
for (const f of ['lanta-soc.dtsi', 'lanta-msgirq.dtsi']) copyFileSync(join(repoRoot, 'config', f), join(scratch, f));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Outcome = 'ok' | 'error';

/** Parse, find the node, read and validate: anything but a one-line DeviceTreeError is a failure. */
async function run(parse: () => DtNode | Promise<DtNode>, caseName: string): Promise<Outcome> {
  try {
    const node = findRpmsgNode(await parse(), caseName);
    const table = readChannelTable(node, caseName);
    validateChannels(table.channels);
    return 'ok';
  } catch (err) {
    if (err instanceof DeviceTreeError && err.message.startsWith(caseName) && !err.message.includes('\n')) return 'error';
    throw new Error(`${caseName}: unexpected ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

function mutateBinary(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let b = src.slice();
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    switch (pick(6)) {
      case 0: {
        // flip a bit anywhere
        const at = pick(b.length);
        b[at] = b[at]! ^ (1 << pick(8));
        break;
      }
      case 1: {
        // overwrite a header or struct word with an interesting value
        const interesting = [0, 1, 2, 3, 4, 9, 0xffffffff, 0x7fffffff, b.length, b.length + 4, 0xd00dfeed];
        const off = rnd() < 0.5 ? 4 * pick(10) : 4 * pick(Math.floor(b.length / 4));
        new DataView(b.buffer).setUint32(Math.min(off, b.length - 4), interesting[pick(interesting.length)]!);
        break;
      }
      case 2: // truncate
        b = b.slice(0, pick(b.length));
        break;
      case 3: // random bytes over a range
        for (let i = pick(b.length), n = pick(64); n > 0 && i < b.length; n--, i++) b[i] = pick(256);
        break;
      case 4: {
        // duplicate a slice somewhere (shifts all later offsets)
        const from = pick(b.length);
        const piece = b.slice(from, from + pick(64));
        const at = pick(b.length);
        const out = new Uint8Array(b.length + piece.length);
        out.set(b.subarray(0, at));
        out.set(piece, at);
        out.set(b.subarray(at), at + piece.length);
        b = out;
        break;
      }
      default: // zero a range
        b.fill(0, pick(b.length), pick(b.length));
    }
    if (b.length < 4) break;
  }
  return b;
}

function mutateText(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const text = new TextDecoder().decode(src);
  const tokens = ['{', '}', ';', '<', '>', '"', '/', '*', '&', ':', '(', ')', '[', ']', '=', ',', '/dts-v1/', '/bits/', '\\', "'", '0x', '#', '\0', '\u00e9', '\ud800'];
  let out = text;
  const edits = 1 + pick(3);
  for (let e = 0; e < edits; e++) {
    const at = pick(out.length + 1);
    switch (pick(5)) {
      case 0: // truncate
        out = out.slice(0, at);
        break;
      case 1: // insert a syntax token
        out = out.slice(0, at) + tokens[pick(tokens.length)]! + out.slice(at);
        break;
      case 2: // delete a range
        out = out.slice(0, at) + out.slice(at + pick(40));
        break;
      case 3: {
        // random printable/control garbage
        let junk = '';
        for (let n = pick(16); n > 0; n--) junk += String.fromCharCode(pick(128));
        out = out.slice(0, at) + junk + out.slice(at);
        break;
      }
      default: // replace one character
        out = out.slice(0, at) + String.fromCharCode(32 + pick(95)) + out.slice(at + 1);
    }
  }
  const bytes = new TextEncoder().encode(out);
  // Sometimes raw invalid UTF-8 too.
  if (rnd() < 0.05 && bytes.length > 0) bytes[pick(bytes.length)] = 0xff;
  return bytes;
}

describe('fuzz', () => {
  it('3000 corrupted DTBs: DeviceTreeError or a table, nothing else, each quickly', async () => {
    const rnd = prng(0x5eed0001);
    const counts = { ok: 0, error: 0 };
    let slowest: { ms: number; bytes: Uint8Array } = { ms: 0, bytes: new Uint8Array() };
    for (let i = 0; i < 3000; i++) {
      const bytes = mutateBinary(dtb, rnd);
      const t0 = performance.now();
      counts[await run(() => parseFdt(bytes, `dtb-case-${i}`), `dtb-case-${i}`)]++;
      const ms = performance.now() - t0;
      if (ms > slowest.ms) slowest = { ms, bytes };
    }
    // Both outcomes must occur, or the mutations are not exercising the reader.
    expect(counts.error).toBeGreaterThan(1000);
    expect(counts.ok).toBeGreaterThan(10);
    // The slowest case, timed again (best of 3): an input the reader is slow on stays slow, a GC
    // pause or a busy machine does not.
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      await run(() => parseFdt(slowest.bytes, 'slowest'), 'slowest');
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(500);
  });

  // Each case runs cpp and dtc: fewer cases than for the in-process FDT reader.
  it('200 truncated or garbled board files through cpp and dtc: DeviceTreeError or a table, nothing else, none hangs', async () => {
    const rnd = prng(0x5eed0002);
    const counts = { ok: 0, error: 0 };
    let slowest = 0;
    const file = join(scratch, 'board.dts');
    for (let i = 0; i < 200; i++) {
      writeFileSync(file, mutateText(dts, rnd));
      const t0 = performance.now();
      const name = `dts-case-${i}`;
      counts[await run(async () => (await loadDeviceTree(file, { name, includeDirs: lantaIncludes })).root, name)]++;
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(counts.error).toBeGreaterThan(60);
    expect(counts.ok).toBeGreaterThan(10);
    // Below the tools' 10 s deadline: no case ran into it.
    expect(slowest).toBeLessThan(5000);
  }, 120_000);
});
