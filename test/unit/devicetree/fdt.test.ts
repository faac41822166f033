// DTB reader: header and structure-block corruption ends in one DeviceTreeError naming the file.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DeviceTreeError } from '../../../src/devicetree/errors.js';
import { parseFdt } from '../../../src/devicetree/fdt.js';
import { parseDeviceTree } from '../../../src/devicetree/load.js';
import { compileWithDtc } from './dtc.js';

const lanta = join(fileURLToPath(new URL('../../../', import.meta.url)), 'config/lanta.dts');
const blob = compileWithDtc(lanta);

function corrupt(edit: (b: Uint8Array, v: DataView) => Uint8Array | void): string {
  const copy = blob.slice();
  const out = edit(copy, new DataView(copy.buffer)) ?? copy;
  try {
    parseFdt(out, 'lanta.dtb');
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceTreeError);
    return (err as Error).message;
  }
  throw new Error('expected a DeviceTreeError');
}

describe('DTB reader', () => {
  it('reads what dtc writes', () => {
    expect(parseFdt(blob, 'lanta.dtb').children.map((c) => c.name)).toContain('soc@ffe000000');
  });

  const view = new DataView(blob.buffer, blob.byteOffset);
  const offStruct = view.getUint32(8);
  const offStrings = view.getUint32(12);
  const cases: Array<[string, (b: Uint8Array, v: DataView) => Uint8Array | void, RegExp]> = [
    ['short file', (b) => b.subarray(0, 20), /shorter than an FDT header/],
    ['truncated', (b) => b.subarray(0, b.length - 100), /header says \d+ bytes but the file has \d+ \(truncated\?\)/],
    ['bad version', (_b, v) => v.setUint32(24, 18), /unsupported version/],
    ['struct offset outside', (_b, v) => v.setUint32(8, 0xfffffff0), /structure block .* lies outside the blob/],
    ['strings size too big', (_b, v) => v.setUint32(32, 0x7fffffff), /strings block .* lies outside the blob/],
    ['unknown token', (_b, v) => v.setUint32(offStruct, 7), /unknown token 0x7 at offset/],
    ['root not first', (_b, v) => v.setUint32(offStruct, 3), /property outside any node|past the structure block|outside the strings block/],
    ['unbalanced end', (_b, v) => v.setUint32(offStruct, 2), /unbalanced END_NODE/],
    ['name offset out of range', (b, v) => {
      // First property of the root: token at offStruct+8 (BEGIN_NODE + empty name padded to 4).
      expect(v.getUint32(offStruct + 8)).toBe(3);
      v.setUint32(offStruct + 16, 0xffffff);
      void b;
    }, /property name offset 16777215 outside the strings block/],
    ['property length past the block', (_b, v) => v.setUint32(offStruct + 12, 0x7fffffff), /has length 2147483647, past the structure block/],
    ['duplicate property (issue 13: dtc refuses it; it was read, last one winning)', (_b, v) => {
      // The root's first two properties: give the second the first's name.
      const first = offStruct + 8;
      const second = first + 12 + ((v.getUint32(first + 4) + 3) & ~3);
      expect(v.getUint32(second)).toBe(3);
      v.setUint32(second + 8, v.getUint32(first + 8));
    }, /property "[#a-z-]+" appears twice in \/ \(offset \d+\)/],
    ['strings not terminated', (b, v) => {
      const size = v.getUint32(32);
      b.fill(0x41, offStrings, offStrings + size);
    }, /is not NUL-terminated|contains byte/],
  ];
  for (const [what, edit, message] of cases) {
    it(what, () => {
      expect(corrupt(edit)).toMatch(new RegExp(`^lanta\\.dtb: not a valid device-tree blob: .*(${message.source})`));
    });
  }

  it('falls back to DTS text only without the magic, and says so for binary junk', () => {
    expect(() => parseDeviceTree(Uint8Array.of(0xff, 0xfe, 0x00, 0x80), 'junk.bin')).toThrow(
      /^junk\.bin: neither a device-tree blob \(no 0xd00dfeed magic\) nor UTF-8 DTS text$/,
    );
  });
});
