// The three device-tree sources must give the same tree and the same channel table:
// config/lanta.dts parsed directly, the .dtb dtc makes of it, and a /proc/device-tree-style directory.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readChannelTable } from '../../../src/channels/table.js';
import { parseDts } from '../../../src/devicetree/dts.js';
import { parseFdt } from '../../../src/devicetree/fdt.js';
import { detectFormat, findRpmsgNode, loadDeviceTree } from '../../../src/devicetree/load.js';
import type { DtNode } from '../../../src/devicetree/tree.js';
import { canonical, compileWithDtc } from './dtc.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const lantaDts = join(root, 'config/lanta.dts');
const fixtures = join(root, 'test/fixtures/dts');
const scratch = mkdtempSync(join(tmpdir(), 'rpmsg-eth-dt-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes a tree the way the kernel exposes it, including the `name` file it synthesises per node. */
function writeProcDir(node: DtNode, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'name'), `${node.name.split('@')[0]}\0`);
  for (const [prop, value] of node.props) writeFileSync(join(dir, prop), value);
  for (const child of node.children) writeProcDir(child, join(dir, child.name));
}

function table(tree: DtNode, source: string): ReturnType<typeof readChannelTable> {
  return readChannelTable(findRpmsgNode(tree, source), source);
}

describe('config/lanta.dts from three sources', () => {
  const fromDts = loadDeviceTree(lantaDts);
  const dtbPath = join(scratch, 'lanta.dtb');
  writeFileSync(dtbPath, compileWithDtc(lantaDts));
  const fromDtb = loadDeviceTree(dtbPath);
  const dirPath = join(scratch, 'proc-device-tree');
  writeProcDir(fromDtb, dirPath);
  const fromDir = loadDeviceTree(dirPath);

  it('detects each format', () => {
    expect([detectFormat(lantaDts), detectFormat(dtbPath), detectFormat(dirPath)]).toEqual(['dts', 'dtb', 'dir']);
  });

  it('DTS parser and dtc agree on the whole tree, in order (phandles included)', () => {
    expect(canonical(fromDts)).toEqual(canonical(fromDtb));
    expect(fromDtb.children.find((c) => c.name === 'soc@ffe000000')?.children[0]?.props.get('phandle')).toEqual(
      Uint8Array.of(0, 0, 0, 1),
    );
  });

  it('the directory gives the same tree (directory order aside), without the kernel-made name files', () => {
    expect(canonical(fromDir, true)).toEqual(canonical(fromDtb, true));
  });

  it('all three give the identical 17-channel table', () => {
    const a = table(fromDts, 'same-name');
    const b = table(fromDtb, 'same-name');
    const c = table(fromDir, 'same-name');
    expect(a.channels).toHaveLength(17);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(a.channels[0]).toEqual({
      index: 0,
      role: 1,
      inputMsgirq: 3,
      outputMsgirq: 7,
      inputDstCpu: 0,
      outputDstCpu: 2,
      channel: 0,
      src: 0,
      dst: 0x100,
      name: 'nokia-fsproxy-channel',
      ethEndpoint: 0x10,
      miscEndpoint: 0x12,
      rxVring: 0xb8000000n,
      txVring: 0xb8008000n,
      dataBufferPool: 0xb8010000n,
      numBufs: 256,
      bufSize: 8192,
    });
    expect(a.channels[16]).toMatchObject({ channel: 16, name: 'nokia-x5-channel', dst: 0x1100, rxVring: 0xb86c0000n, bufSize: 512 });
  });

  it("reports the seed's 18-cell channel-dst as the only finding, a warning", () => {
    expect(table(fromDts, 'dts').findings).toEqual([
      {
        severity: 'warning',
        property: 'channel-dst',
        message: 'has 18 cells for 17 channels (channel-num has 17 cells): the last one is ignored',
        file: 'dts',
      },
    ]);
  });
});

describe('DTS parser against dtc on every fixture', () => {
  const files = ['syntax.dts', 'three-channels.dts', ...readdirSync(join(fixtures, 'rules')).map((f) => `rules/${f}`)];
  for (const file of files) {
    it(file, () => {
      const path = join(fixtures, file);
      const ours = parseDts(readFileSync(path, 'utf8'), path);
      const theirs = parseFdt(compileWithDtc(path), path);
      expect(canonical(ours)).toEqual(canonical(theirs));
    });
  }
});

describe('device-tree directories', () => {
  it('keeps a name file that is not the kernel-made one', () => {
    const dir = join(scratch, 'named');
    mkdirSync(join(dir, 'node@1'), { recursive: true });
    writeFileSync(join(dir, 'node@1', 'name'), 'other\0');
    writeFileSync(join(dir, 'node@1', 'name2'), 'x\0');
    const tree = loadDeviceTree(dir);
    expect([...tree.children[0]!.props.keys()].sort()).toEqual(['name', 'name2']);
  });

  it('reports an unreadable directory as a DeviceTreeError naming it', () => {
    expect(() => loadDeviceTree(join(scratch, 'does-not-exist'))).toThrow(/does-not-exist: cannot read device tree: no such file/);
  });
});
