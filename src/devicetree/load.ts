// Loads a device tree from any of the three sources, chosen by what the path holds:
// a directory (/proc/device-tree layout), a blob starting with the FDT magic, or DTS text.
import { readFileSync, statSync } from 'node:fs';
import { parseDts } from './dts.js';
import { DeviceTreeError } from './errors.js';
import { isFdt, parseFdt } from './fdt.js';
import { readDeviceTreeDir } from './fsdir.js';
import { isEnabled, readStringList, walk, type DtNode } from './tree.js';

export { DeviceTreeError } from './errors.js';

export type DeviceTreeFormat = 'dts' | 'dtb' | 'dir';

/** Compatible strings of the board's rpmsg platform driver (nokia_rpmsg_dt_ids). */
export const RPMSG_COMPATIBLES: readonly string[] = ['fsl,nokia-rpmsg', 'nokia-rpmsg'];

export function detectFormat(path: string): DeviceTreeFormat {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new DeviceTreeError(`${path}: cannot read device tree: ${describe(err)}`);
  }
  if (isDir) return 'dir';
  return isFdt(readBytes(path)) ? 'dtb' : 'dts';
}

export function loadDeviceTree(path: string): DtNode {
  if (detectFormat(path) === 'dir') return readDeviceTreeDir(path);
  return parseDeviceTree(readBytes(path), path);
}

/** Parses file contents already in memory (DTB if it starts with the FDT magic, else DTS text). */
export function parseDeviceTree(bytes: Uint8Array, name: string): DtNode {
  if (isFdt(bytes)) return parseFdt(bytes, name);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DeviceTreeError(`${name}: neither a device-tree blob (no 0xd00dfeed magic) nor UTF-8 DTS text`);
  }
  return parseDts(text, name);
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

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new DeviceTreeError(`${path}: cannot read device tree: ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
