// The three device-tree sources must give the same tree and the same channel table: the board file
// config/lanta.dts (through cpp and dtc), the .dtb dtc alone makes of its flattened equivalent, and a
// /proc/device-tree-style directory written from that blob.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChannelTable } from '../../../src/channels/table.js';
import { findRpmsgNode, loadDeviceTree, type LoadedDeviceTree } from '../../../src/devicetree/load.js';
import type { DtNode } from '../../../src/devicetree/tree.js';
import { canonical, compileWithDtc, lantaDts, lantaFlat, lantaIncludes } from './dtc.js';

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
  let dts: LoadedDeviceTree;
  let dtb: LoadedDeviceTree;
  let dir: LoadedDeviceTree;
  let fromDts: DtNode;
  let fromDtb: DtNode;
  let fromDir: DtNode;
  beforeAll(async () => {
    dts = await loadDeviceTree(lantaDts, { includeDirs: lantaIncludes });
    const dtbPath = join(scratch, 'lanta.dtb');
    writeFileSync(dtbPath, compileWithDtc(lantaFlat));
    dtb = await loadDeviceTree(dtbPath);
    const dirPath = join(scratch, 'proc-device-tree');
    writeProcDir(dtb.root, dirPath);
    dir = await loadDeviceTree(dirPath);
    [fromDts, fromDtb, fromDir] = [dts.root, dtb.root, dir.root];
  });

  it('detects each format', () => {
    expect([dts.format, dtb.format, dir.format]).toEqual(['dts', 'dtb', 'dir']);
  });

  it('the board file and its flattened equivalent give the same tree (phandles included)', () => {
    expect(canonical(fromDts, true)).toEqual(canonical(fromDtb, true));
    const soc = (t: DtNode) => t.children.find((c) => c.name === 'soc@ffe000000');
    expect(soc(fromDts)?.children.find((c) => c.name === 'pic@40000')?.props.get('phandle')).toEqual(Uint8Array.of(0, 0, 0, 1));
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

describe('device-tree directories', () => {
  it('keeps a name file that is not the kernel-made one', async () => {
    const dir = join(scratch, 'named');
    mkdirSync(join(dir, 'node@1'), { recursive: true });
    writeFileSync(join(dir, 'node@1', 'name'), 'other\0');
    writeFileSync(join(dir, 'node@1', 'name2'), 'x\0');
    const tree = (await loadDeviceTree(dir)).root;
    expect([...tree.children[0]!.props.keys()].sort()).toEqual(['name', 'name2']);
  });

  it('reads only directories and regular files, each of bounded size', async () => {
    const dir = join(scratch, 'odd');
    mkdirSync(join(dir, 'node'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'node', 'fifo')]);
    await expect(loadDeviceTree(dir)).rejects.toThrow(`${dir}: not a device-tree directory: ${join(dir, 'node', 'fifo')} is neither a property file nor a node directory`);
    rmSync(join(dir, 'node', 'fifo'));
    writeFileSync(join(dir, 'node', 'huge'), Buffer.alloc(2 * 1024 * 1024));
    await expect(loadDeviceTree(dir)).rejects.toThrow(/node\/huge is larger than 1048576 bytes$/);
  });

  it('reports an unreadable directory as a DeviceTreeError naming it', async () => {
    await expect(loadDeviceTree(join(scratch, 'does-not-exist'))).rejects.toThrow(/does-not-exist: cannot read device tree: no such file/);
  });
});
