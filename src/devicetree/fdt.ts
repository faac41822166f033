// Reader for flattened device-tree blobs (.dtb). Every offset and length is checked against the
// blob before use, so a truncated or corrupt blob ends in one DeviceTreeError, never a crash.
import { DeviceTreeError } from './errors.js';
import { createNode, type DtNode } from './tree.js';

export const FDT_MAGIC = 0xd00dfeed;

const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

const HEADER_SIZE_V16 = 36;
const HEADER_SIZE_V17 = 40;
/** Deeper nesting than this is corruption, not a real board. */
const MAX_DEPTH = 64;
/** Node and property names are at most 31 characters plus a unit address; allow generous slack. */
const MAX_NAME = 256;

export function isFdt(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false) === FDT_MAGIC
  );
}

export function parseFdt(bytes: Uint8Array, file: string): DtNode {
  const fail: (what: string) => never = (what) => {
    throw new DeviceTreeError(`${file}: not a valid device-tree blob: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_SIZE_V16) fail(`file is ${bytes.length} bytes, shorter than an FDT header`);
  const u32 = (off: number): number => view.getUint32(off, false);
  if (u32(0) !== FDT_MAGIC) fail(`bad magic 0x${u32(0).toString(16)} (expected 0xd00dfeed)`);

  const totalSize = u32(4);
  const offStruct = u32(8);
  const offStrings = u32(12);
  const offMemRsv = u32(16);
  const version = u32(20);
  const lastCompVersion = u32(24);
  const sizeStrings = u32(32);
  if (lastCompVersion > 17 || version < 16) {
    fail(`unsupported version ${version} (last compatible ${lastCompVersion}); versions 16 and 17 are read`);
  }
  const headerSize = version >= 17 ? HEADER_SIZE_V17 : HEADER_SIZE_V16;
  if (totalSize > bytes.length) fail(`header says ${totalSize} bytes but the file has ${bytes.length} (truncated?)`);
  if (totalSize < headerSize) fail(`total size ${totalSize} is smaller than the header`);
  const within = (name: string, off: number, size: number): void => {
    if (off < headerSize || off > totalSize || size > totalSize - off) {
      fail(`${name} (offset ${off}, size ${size}) lies outside the blob (${totalSize} bytes)`);
    }
  };
  const sizeStruct = version >= 17 ? u32(36) : totalSize - offStruct;
  within('structure block', offStruct, sizeStruct);
  within('strings block', offStrings, sizeStrings);
  if (offStruct % 4 !== 0) fail(`structure block offset ${offStruct} is not 4-byte aligned`);
  checkMemReserve(view, offMemRsv, offStruct, totalSize, headerSize, fail);

  const structEnd = offStruct + sizeStruct;
  const stringAt = (nameOff: number): string => {
    if (nameOff >= sizeStrings) fail(`property name offset ${nameOff} outside the strings block`);
    const start = offStrings + nameOff;
    const end = bytes.indexOf(0, start);
    if (end < 0 || end >= offStrings + sizeStrings) fail(`property name at ${nameOff} is not NUL-terminated`);
    return decodeName(bytes.subarray(start, end), fail);
  };

  let off = offStruct;
  const token = (): number => {
    if (off + 4 > structEnd) fail(`structure block ends inside a token at offset ${off}`);
    const t = u32(off);
    off += 4;
    return t;
  };
  const align = (): void => {
    off = (off + 3) & ~3;
  };

  let root: DtNode | null = null;
  const stack: DtNode[] = [];
  for (;;) {
    const at = off;
    const t = token();
    if (t === FDT_BEGIN_NODE) {
      const end = bytes.indexOf(0, off);
      if (end < 0 || end >= structEnd) fail(`node name at offset ${at} is not NUL-terminated`);
      const name = decodeName(bytes.subarray(off, end), fail);
      off = end + 1;
      align();
      const parent = stack[stack.length - 1];
      if (parent === undefined) {
        if (root !== null) fail(`second root node at offset ${at}`);
        if (name !== '') fail(`root node has name "${name}" (expected an empty name)`);
        root = createNode('', null);
        stack.push(root);
      } else {
        if (name === '') fail(`node with an empty name at offset ${at}`);
        if (stack.length >= MAX_DEPTH) fail(`nodes nested deeper than ${MAX_DEPTH} levels at offset ${at}`);
        const node = createNode(name, parent.path);
        parent.children.push(node);
        stack.push(node);
      }
    } else if (t === FDT_END_NODE) {
      if (stack.pop() === undefined) fail(`unbalanced END_NODE at offset ${at}`);
    } else if (t === FDT_PROP) {
      const len = token();
      const nameOff = token();
      const node = stack[stack.length - 1];
      if (node === undefined) fail(`property outside any node at offset ${at}`);
      if (len > structEnd - off) fail(`property at offset ${at} has length ${len}, past the structure block`);
      const name = stringAt(nameOff);
      // dtc refuses to write one; the kernel would use the first, a naive reader the last.
      if (node!.props.has(name)) fail(`property "${name}" appears twice in ${node!.path || '/'} (offset ${at})`);
      // Copy so the tree does not pin the whole file and each value starts at byte offset 0.
      node!.props.set(name, bytes.slice(off, off + len));
      off += len;
      align();
    } else if (t === FDT_NOP) {
      continue;
    } else if (t === FDT_END) {
      if (stack.length !== 0) fail(`END token at offset ${at} inside node ${stack[stack.length - 1]!.path}`);
      break;
    } else {
      fail(`unknown token 0x${t.toString(16)} at offset ${at}`);
    }
    if (root !== null && stack.length === 0) {
      // The root closed: only NOPs and END may follow.
      let next = token();
      while (next === FDT_NOP) next = token();
      if (next !== FDT_END) fail(`data after the root node at offset ${off - 4}`);
      break;
    }
  }
  if (root === null) fail('no root node');
  return root!;
}

function checkMemReserve(
  view: DataView,
  off: number,
  limit: number,
  totalSize: number,
  headerSize: number,
  fail: (what: string) => never,
): void {
  if (off < headerSize || off % 8 !== 0 || off > totalSize) fail(`memory reserve map offset ${off} is invalid`);
  // The map is a list of (address, size) pairs ended by a (0, 0) entry.
  const end = Math.min(totalSize, limit > off ? limit : totalSize);
  for (let p = off; ; p += 16) {
    if (p + 16 > end) fail(`memory reserve map at offset ${off} has no terminating entry`);
    if (view.getBigUint64(p, false) === 0n && view.getBigUint64(p + 8, false) === 0n) return;
  }
}

function decodeName(raw: Uint8Array, fail: (what: string) => never): string {
  if (raw.length > MAX_NAME) fail(`name of ${raw.length} bytes (longer than ${MAX_NAME})`);
  for (const b of raw) {
    if (b < 0x20 || b > 0x7e) fail(`name contains byte 0x${b.toString(16)}`);
  }
  return String.fromCharCode(...raw);
}
