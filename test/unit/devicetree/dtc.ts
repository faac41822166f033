// Test helper: compile a DTS with the real dtc. dtc is a hard requirement of the suite (Debian
// package device-tree-compiler): when it is missing the tests fail, they are never skipped.
import { execFileSync } from 'node:child_process';
import type { DtNode } from '../../../src/devicetree/tree.js';
import { tool } from '../../helpers/tools.js';

export function compileWithDtc(dtsPath: string): Uint8Array {
  try {
    return new Uint8Array(execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', dtsPath], { stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('dtc not found: install the Debian package device-tree-compiler');
    throw new Error(`dtc failed on ${dtsPath}: ${e.stderr?.toString() ?? e.message}`);
  }
}

/** A comparable rendering of a tree: property values in hex; `sorted` ignores source order. */
export function canonical(node: DtNode, sorted = false): unknown {
  const props = [...node.props].map(([k, v]) => [k, Buffer.from(v).toString('hex')] as const);
  const children = node.children.map((c) => canonical(c, sorted) as { name: string });
  if (sorted) {
    props.sort((a, b) => a[0].localeCompare(b[0]));
    children.sort((a, b) => a.name.localeCompare(b.name));
  }
  return { name: node.name, path: node.path, props, children };
}
