// DTS syntax errors: one DeviceTreeError naming file:line:column and what was expected.
import { describe, expect, it } from 'vitest';
import { parseDts } from '../../../src/devicetree/dts.js';
import { DeviceTreeError } from '../../../src/devicetree/errors.js';
import { readU32Cells } from '../../../src/devicetree/tree.js';

function parseError(src: string): string {
  try {
    parseDts(src, 'board.dts');
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceTreeError);
    expect((err as DeviceTreeError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a DeviceTreeError');
}

describe('DTS syntax errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['missing header', '/ { };', /^board\.dts:1:1: expected '\/dts-v1\/;'/],
    ['missing semicolon after property', '/dts-v1/;\n/ {\n\ta = <1>\n};', /^board\.dts:4:1: expected ';', found '}'/],
    ['unterminated cells', '/dts-v1/;\n/ { a = <1 2', /^board\.dts:2:13: unterminated cell list/],
    ['bad cell', '/dts-v1/;\n/ { a = <1 zz>; };', /^board\.dts:2:12: expected a number.*found "zz"/],
    ['unterminated string', '/dts-v1/;\n/ { a = "abc; };', /^board\.dts:2:9: unterminated string/],
    ['unterminated comment', '/dts-v1/;\n/* x\n/ { };', /^board\.dts:2:1: unterminated \/\* comment/],
    ['undefined label', '/dts-v1/;\n/ { a = <&nope>; };', /^board\.dts:2:10: reference to undefined label nope/],
    ['undefined label amended', '/dts-v1/;\n/ { };\n&nope { };', /^board\.dts:3:1: reference to undefined label nope/],
    ['cell out of range', '/dts-v1/;\n/ { a = <0x100000000>; };', /^board\.dts:2:10: value out of range for a 32-bit cell/],
    ['byte out of range', '/dts-v1/;\n/ { a = /bits/ 8 <256>; };', /^board\.dts:2:19: value out of range for a 8-bit cell/],
    ['division by zero', '/dts-v1/;\n/ { a = <(1 / 0)>; };', /^board\.dts:2:13: division by zero/],
    ['literal too big', '/dts-v1/;\n/ { a = /bits/ 64 <0x10000000000000000>; };', /does not fit in 64 bits/],
    ['bad octal', '/dts-v1/;\n/ { a = <09>; };', /^board\.dts:2:10: malformed number/],
    ['duplicate property', '/dts-v1/;\n/ { a; a; };', /^board\.dts:2:8: duplicate property a in \//],
    ['property after node', '/dts-v1/;\n/ { n { }; a; };', /^board\.dts:2:12: property a after a child node/],
    ['duplicate label', '/dts-v1/;\n/ { x: a { }; x: b { }; };', /^board\.dts:2:15: label x is already defined for \/a/],
    ['preprocessor', '/dts-v1/;\n#include "foo.dtsi"\n/ { };', /^board\.dts:2:1: preprocessor directives/],
    ['include', '/dts-v1/;\n/include/ "foo.dtsi"', /\/include\/ is not supported/],
    ['no root', '/dts-v1/;\n', /no root node/],
    ['garbage at top level', '/dts-v1/;\n/ { };\n}', /^board\.dts:3:1: unexpected '}' at the top level/],
    ['control character', '/dts-v1/;\n/ { \u0001 };', /^board\.dts:2:5: expected a property or node name, found character 0x01/],
    ['deep nesting', `/dts-v1/;\n/ {${' a {'.repeat(100)}${' };'.repeat(100)} };`, /nested deeper than 64 levels/],
    ['deep expression', `/dts-v1/;\n/ { a = <${'('.repeat(200)}1${')'.repeat(200)}>; };`, /nested too deeply/],
    ['odd hex in bytes', '/dts-v1/;\n/ { a = [0a b]; };', /^board\.dts:2:13: expected two hex digits/],
  ];
  for (const [what, src, message] of cases) {
    it(what, () => {
      expect(parseError(src)).toMatch(message);
    });
  }
});

describe('DTS values', () => {
  it('sign-extended negative numbers fit a cell, like dtc', () => {
    const tree = parseDts('/dts-v1/;\n/ { a = <(-1) (-2)>; b = /bits/ 8 <(-1)>; };', 'x.dts');
    expect(readU32Cells(tree.props.get('a')!)).toEqual([0xffffffff, 0xfffffffe]);
    expect([...tree.props.get('b')!]).toEqual([0xff]);
  });

  it('a later definition replaces a property in place', () => {
    const tree = parseDts('/dts-v1/;\n/ { l: n { a = <1>; b = <2>; }; };\n&l { a = <3>; };', 'x.dts');
    const n = tree.children[0]!;
    expect([...n.props.keys()]).toEqual(['a', 'b']);
    expect(readU32Cells(n.props.get('a')!)).toEqual([3]);
  });
});
