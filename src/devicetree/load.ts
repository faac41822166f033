// Loads a device tree from any of the three sources, chosen by what the path holds: a directory
// (/proc/device-tree layout), a blob starting with the FDT magic, or DTS source, which cpp and dtc turn
// into a blob. Every source ends in the one FDT reader or the directory reader, so all give the same tree.
// What is read is bounded: only a regular file or a directory, and only so many bytes.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { compileDts, type CompileOptions } from './compile.js';
import { DeviceTreeError } from './errors.js';
import { isFdt, parseFdt } from './fdt.js';
import { describeFsError, readDeviceTreeDir } from './fsdir.js';
import { isEnabled, readStringList, walk, type DtNode } from './tree.js';

export { DeviceTreeError } from './errors.js';

export type DeviceTreeFormat = 'dts' | 'dtb' | 'dir';

export interface LoadedDeviceTree {
  format: DeviceTreeFormat;
  root: DtNode;
}

/** Compatible strings of the board's rpmsg platform driver (nokia_rpmsg_dt_ids). */
export const RPMSG_COMPATIBLES: readonly string[] = ['fsl,nokia-rpmsg', 'nokia-rpmsg'];

/** Board files and blobs are kilobytes; anything this large is not one. */
export const MAX_DEVICE_TREE_FILE = 4 * 1024 * 1024;

/** Reads `path` (named `name` in messages, default the path itself). */
export async function loadDeviceTree(path: string, opts: CompileOptions & { name?: string } = {}): Promise<LoadedDeviceTree> {
  const name = opts.name ?? path;
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new DeviceTreeError(`${name}: cannot read device tree: ${describeFsError(err)}`);
  }
  if (isDir) return { format: 'dir', root: readDeviceTreeDir(path) };
  const bytes = await readSourceFile(path, name);
  if (isFdt(bytes)) return { format: 'dtb', root: parseFdt(bytes, name) };
  if (bytes.includes(0)) {
    throw new DeviceTreeError(`${name}: neither a device-tree blob (no 0xd00dfeed magic) nor DTS source (it holds NUL bytes)`);
  }
  return { format: 'dts', root: parseFdt(await compileDts(path, name, opts), name) };
}

/** A regular file of at most MAX_DEVICE_TREE_FILE bytes; never blocks on a FIFO or reads a device. */
async function readSourceFile(path: string, name: string): Promise<Uint8Array> {
  const fail = (why: string): never => {
    throw new DeviceTreeError(`${name}: cannot read device tree: ${why}`);
  };
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return fail(describeFsError(err));
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) fail(`not a regular file or a directory (${fileType(st)})`);
    if (st.size > MAX_DEVICE_TREE_FILE) fail(`${st.size} bytes is more than a device tree has (limit ${MAX_DEVICE_TREE_FILE})`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
  } finally {
    await fh.close();
  }
}

function fileType(st: { isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The enabled node the board's rpmsg driver binds to, wherever it sits. A disabled node is used only
 * when no enabled one exists (the table check then reports its status).
 */
export function findRpmsgNode(root: DtNode, source = 'device tree'): DtNode {
  const matches: DtNode[] = [];
  for (const node of walk(root)) {
    const compatible = node.props.get('compatible');
    const list = compatible === undefined ? null : readStringList(compatible);
    if (list?.some((c) => RPMSG_COMPATIBLES.includes(c))) matches.push(node);
  }
  const enabled = matches.filter(isEnabled);
  if (enabled.length > 1) {
    throw new DeviceTreeError(
      `${source}: ${enabled.length} enabled rpmsg nodes (${enabled.map((n) => n.path).join(', ')}); expected one`,
    );
  }
  const node = enabled[0] ?? matches[0];
  if (node === undefined) {
    throw new DeviceTreeError(
      `${source}: no rpmsg node (compatible = ${RPMSG_COMPATIBLES.map((c) => `"${c}"`).join(' or ')})`,
    );
  }
  return node;
}
