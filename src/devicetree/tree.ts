// The in-memory device tree shared by the three sources (DTS, DTB, /proc/device-tree directory).
// Property values are kept as raw big-endian bytes, exactly as a DTB holds them, so every source
// produces the same tree and one set of readers interprets it.

export interface DtNode {
  /** Node name with unit address, e.g. "rpmsg" or "memory@0"; "" for the root. */
  name: string;
  /** Full path, e.g. "/soc/rpmsg"; "/" for the root. */
  path: string;
  props: Map<string, Uint8Array>;
  children: DtNode[];
}

export function createNode(name: string, parentPath: string | null): DtNode {
  const path = parentPath === null ? '/' : parentPath === '/' ? `/${name}` : `${parentPath}/${name}`;
  return { name, path, props: new Map(), children: [] };
}

/** A property's value as 32-bit cells, or null when its length is not a multiple of 4. */
export function readU32Cells(value: Uint8Array): number[] | null {
  if (value.length % 4 !== 0) return null;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const cells: number[] = [];
  for (let off = 0; off < value.length; off += 4) cells.push(view.getUint32(off, false));
  return cells;
}

/** A property's value as 64-bit values (two cells each), or null when its length is not a multiple of 8. */
export function readU64Values(value: Uint8Array): bigint[] | null {
  if (value.length % 8 !== 0) return null;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const values: bigint[] = [];
  for (let off = 0; off < value.length; off += 8) values.push(view.getBigUint64(off, false));
  return values;
}

/**
 * A property's value as a list of NUL-terminated strings, or null when it is empty, does not end in
 * NUL, or is not valid UTF-8.
 */
export function readStringList(value: Uint8Array): string[] | null {
  if (value.length === 0 || value[value.length - 1] !== 0) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value.subarray(0, value.length - 1));
  } catch {
    return null;
  }
  return text.split('\0');
}

/** The first string of a property (e.g. `status`), or null. */
export function readString(value: Uint8Array | undefined): string | null {
  if (value === undefined) return null;
  const list = readStringList(value);
  return list === null ? null : (list[0] ?? null);
}

/** Depth-first, parents before children, in source order. */
export function* walk(root: DtNode): Generator<DtNode> {
  const stack: DtNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
}

/** A node is enabled unless its `status` says otherwise ("okay" and "ok" both mean enabled). */
export function isEnabled(node: DtNode): boolean {
  const status = readString(node.props.get('status'));
  return status === null || status === 'okay' || status === 'ok';
}
