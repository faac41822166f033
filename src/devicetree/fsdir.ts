// Reader for a live device tree in /proc/device-tree layout: one directory per node, one file per
// property holding the raw big-endian value. Bounded like the tree it stands for: only directories and
// regular files, so many levels, entries and bytes — pointed at /root or /proc it stops with an error
// instead of walking everything.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceTreeError } from './errors.js';
import { createNode, type DtNode } from './tree.js';

/** Real trees are a few levels deep; this bounds symlink loops and corrupt copies. */
const MAX_DEPTH = 64;
/** A board's tree has a few thousand nodes and properties. */
const MAX_ENTRIES = 50_000;
/** The largest property of a real tree is a few KiB; the whole tree well under a MiB. */
const MAX_PROPERTY = 1024 * 1024;
const MAX_TOTAL = 16 * 1024 * 1024;

interface Budget {
  top: string;
  entries: number;
  bytes: number;
  /** One read buffer for every property of the walk. */
  scratch: Buffer;
}

export function readDeviceTreeDir(dir: string): DtNode {
  const root = createNode('', null);
  readInto(root, dir, { top: dir, entries: 0, bytes: 0, scratch: Buffer.allocUnsafe(MAX_PROPERTY + 1) }, 0);
  return root;
}

function readInto(node: DtNode, dir: string, budget: Budget, depth: number): void {
  const fail = (why: string): never => {
    throw new DeviceTreeError(`${budget.top}: not a device-tree directory: ${why}`);
  };
  if (depth > MAX_DEPTH) fail(`directories nested deeper than ${MAX_DEPTH} levels`);
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw new DeviceTreeError(`${dir}: cannot read device-tree directory: ${describeFsError(err)}`);
  }
  budget.entries += entries.length;
  if (budget.entries > MAX_ENTRIES) fail(`more than ${MAX_ENTRIES} entries`);
  const subdirs: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      throw new DeviceTreeError(`${path}: cannot read device-tree entry: ${describeFsError(err)}`);
    }
    if (st.isDirectory()) {
      subdirs.push(entry);
      continue;
    }
    if (!st.isFile()) fail(`${path} is neither a property file nor a node directory`);
    const value = readProperty(path, budget.scratch, fail);
    budget.bytes += value.length;
    if (budget.bytes > MAX_TOTAL) fail(`more than ${MAX_TOTAL >> 20} MiB of properties`);
    // The kernel synthesises a `name` property from the node name; a DTS or DTB has none.
    if (entry === 'name' && isSynthesizedName(node, value)) continue;
    node.props.set(entry, value);
  }
  for (const entry of subdirs) {
    const child = createNode(entry, node.path);
    node.children.push(child);
    readInto(child, join(dir, entry), budget, depth + 1);
  }
}

/** At most MAX_PROPERTY bytes, whatever the file's size says (files under /proc claim 0). */
function readProperty(path: string, buf: Buffer, fail: (why: string) => never): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new DeviceTreeError(`${path}: cannot read device-tree property: ${describeFsError(err)}`);
  }
  try {
    if (!fstatSync(fd).isFile()) fail(`${path} is not a regular file`);
    let len = 0;
    for (let n; len < buf.length && (n = readSync(fd, buf, len, buf.length - len, null)) > 0; ) len += n;
    if (len > MAX_PROPERTY) fail(`${path} is larger than ${MAX_PROPERTY} bytes`);
    return new Uint8Array(buf.subarray(0, len)); // a copy: the buffer is reused
  } catch (err) {
    if (err instanceof DeviceTreeError) throw err;
    throw new DeviceTreeError(`${path}: cannot read device-tree property: ${describeFsError(err)}`);
  } finally {
    closeSync(fd);
  }
}

function isSynthesizedName(node: DtNode, value: Uint8Array): boolean {
  const base = node.name.split('@')[0] ?? '';
  const expected = new TextEncoder().encode(`${base}\0`);
  return value.length === expected.length && value.every((b, i) => b === expected[i]);
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
