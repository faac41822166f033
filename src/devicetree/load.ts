// Loads a device tree from any of the three sources, chosen by what the path holds: a directory
// (/proc/device-tree layout), a blob starting with the FDT magic, or DTS source, which cpp and dtc turn
// into a blob. Every source ends in the one FDT reader or the directory reader, so all give the same tree.
// What is read is bounded: only a regular file or a directory, and only so many bytes.
import { stat } from 'node:fs/promises';
import { readRegularFile } from '../util/read-file.js';
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
  const bytes = readRegularFile(path, {
    what: 'device tree',
    maxBytes: MAX_DEVICE_TREE_FILE,
    name,
    expected: 'a regular file or a directory',
    error: (message) => new DeviceTreeError(message),
  });
  if (isFdt(bytes)) return { format: 'dtb', root: parseFdt(bytes, name) };
  if (bytes.includes(0)) {
    throw new DeviceTreeError(`${name}: neither a device-tree blob (no 0xd00dfeed magic) nor DTS source (it holds NUL bytes)`);
  }
  return { format: 'dts', root: parseFdt(await compileDts(path, name, opts), name) };
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
