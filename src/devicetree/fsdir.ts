// Reader for a live device tree in /proc/device-tree layout: one directory per node, one file per
// property holding the raw big-endian value.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceTreeError } from './errors.js';
import { createNode, type DtNode } from './tree.js';

/** Real trees are a few levels deep; this bounds symlink loops and corrupt copies. */
const MAX_DEPTH = 64;

export function readDeviceTreeDir(dir: string): DtNode {
  const root = createNode('', null);
  readInto(root, dir, dir, 0);
  return root;
}

function readInto(node: DtNode, dir: string, top: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new DeviceTreeError(`${top}: directories nested deeper than ${MAX_DEPTH} levels`);
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw new DeviceTreeError(`${dir}: cannot read device-tree directory: ${describe(err)}`);
  }
  const subdirs: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      throw new DeviceTreeError(`${path}: cannot read device-tree entry: ${describe(err)}`);
    }
    if (isDir) {
      subdirs.push(entry);
      continue;
    }
    let value: Uint8Array;
    try {
      value = new Uint8Array(readFileSync(path));
    } catch (err) {
      throw new DeviceTreeError(`${path}: cannot read device-tree property: ${describe(err)}`);
    }
    // The kernel synthesises a `name` property from the node name; a DTS or DTB has none.
    if (entry === 'name' && isSynthesizedName(node, value)) continue;
    node.props.set(entry, value);
  }
  for (const entry of subdirs) {
    const child = createNode(entry, node.path);
    node.children.push(child);
    readInto(child, join(dir, entry), top, depth + 1);
  }
}

function isSynthesizedName(node: DtNode, value: Uint8Array): boolean {
  const base = node.name.split('@')[0] ?? '';
  const expected = new TextEncoder().encode(`${base}\0`);
  return value.length === expected.length && value.every((b, i) => b === expected[i]);
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}
