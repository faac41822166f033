// Parser for device-tree source (.dts), the subset board files use: /dts-v1/, nodes and labels,
// `&label { }` amendments, comments, <cells> (hex, decimal, octal, 'c', (expressions), &phandle,
// /bits/), "string" lists, [byte strings], &path references, /delete-node/, /delete-property/ and
// /memreserve/. It builds the same tree dtc would put in a blob, including the `phandle` properties
// dtc adds to referenced nodes. Errors name file:line:column. Preprocessor input (#include) is refused.
import { DeviceTreeError } from './errors.js';
import { createNode, type DtNode } from './tree.js';

/** Deeper nesting than this is not a device tree; stop before the JS stack does. */
const MAX_DEPTH = 64;
const U64_MASK = (1n << 64n) - 1n;
// Sticky patterns, matched at the parser's position without slicing the source.
const NAME_RE = /[a-zA-Z0-9,._+*#?@-]+/y;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)\s*:/y;
const IDENT_RE = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const DIRECTIVE_RE = /\/[a-z][a-z0-9-]*\//y;
const INTEGER_RE = /(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([uU]?[lL]{0,2}|[lL]{1,2}[uU]?)/y;

function matchAt(re: RegExp, src: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(src);
}

/** A reference to a node by label (`&foo`) or by path (`&{/soc/foo}`), with where it was written. */
interface Ref {
  label?: string;
  path?: string;
  pos: number;
}

type ValuePart = Uint8Array | { phandleOf: Ref } | { pathOf: Ref };

interface PendingProp {
  node: DtNode;
  name: string;
  parts: ValuePart[];
}

export function parseDts(source: string, file: string): DtNode {
  return new DtsParser(source, file).parse();
}

class DtsParser {
  private pos = 0;
  private readonly root = createNode('', null);
  private readonly labels = new Map<string, DtNode>();
  /** Properties holding references, resolved once the whole file is read (labels may come later). */
  private readonly pending: PendingProp[] = [];
  private sawRoot = false;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  parse(): DtNode {
    this.skipSpace();
    if (!this.src.startsWith('/dts-v1/', this.pos)) {
      if (this.src[this.pos] === '#') this.preprocessorError();
      this.error("expected '/dts-v1/;' at the start of the file");
    }
    while (this.pos < this.src.length) {
      this.skipSpace();
      if (this.pos >= this.src.length) break;
      this.topLevel();
    }
    if (!this.sawRoot) this.error('no root node (`/ { ... };`)');
    this.resolveReferences();
    return this.root;
  }

  // ---- top level -------------------------------------------------------------------------------

  private topLevel(): void {
    const c = this.src[this.pos];
    if (c === '#') this.preprocessorError();
    if (c === '&') {
      const ref = this.reference();
      const node = this.lookup(ref);
      this.nodeBody(node, 1);
      this.expect(';');
      return;
    }
    if (c === '/') {
      const directive = this.directive();
      switch (directive) {
        case null:
          this.pos++;
          this.sawRoot = true;
          this.nodeBody(this.root, 1);
          this.expect(';');
          return;
        case '/dts-v1/':
        case '/plugin/':
          if (directive === '/plugin/') this.error('/plugin/ (overlays) is not supported');
          this.expect(';');
          return;
        case '/memreserve/':
          this.skipSpace();
          this.integer();
          this.skipSpace();
          this.integer();
          this.expect(';');
          return;
        case '/delete-node/': {
          this.skipSpace();
          const node = this.lookup(this.reference());
          if (node === this.root) this.error('cannot delete the root node');
          this.detach(node);
          this.expect(';');
          return;
        }
        case '/include/':
          this.error('/include/ is not supported: give the complete tree in one file');
          break;
        default:
          this.error(`unexpected ${directive} at the top level`);
      }
    }
    if (this.peekLabel() !== null) {
      // `label: / { ... };` or `label: &ref { ... };`
      const label = this.label();
      this.skipSpace();
      if (this.src[this.pos] === '/' && this.directive() === null) {
        this.defineLabel(label, this.root, this.pos);
        this.pos++;
        this.sawRoot = true;
        this.nodeBody(this.root, 1);
        this.expect(';');
        return;
      }
      this.error("expected '/' after a top-level label");
    }
    this.error(`unexpected ${this.describeHere()} at the top level (expected '/ {', '&label {' or a directive)`);
  }

  // ---- nodes and properties ---------------------------------------------------------------------

  /** `{ ... }` — amends `node` (new properties replace old ones, child nodes merge). */
  private nodeBody(node: DtNode, depth: number): void {
    if (depth > MAX_DEPTH) this.error(`nodes nested deeper than ${MAX_DEPTH} levels`);
    this.expect('{');
    const seenProps = new Set<string>();
    const seenChildren = new Set<string>();
    let sawChild = false;
    for (;;) {
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === undefined) this.error(`unterminated node ${node.path} (missing '}')`);
      if (c === '}') {
        this.pos++;
        return;
      }
      if (c === '/') {
        const at = this.pos;
        const directive = this.directive();
        if (directive === '/delete-property/' || directive === '/delete-node/') {
          this.skipSpace();
          const name = this.name('name');
          if (directive === '/delete-property/') {
            node.props.delete(name);
          } else {
            const child = node.children.find((n) => n.name === name);
            if (child !== undefined) this.detach(child);
          }
          this.expect(';');
          continue;
        }
        this.pos = at;
        this.error(`unexpected ${this.describeHere()} in node ${node.path}`);
      }
      const labels: Array<{ label: string; pos: number }> = [];
      while (this.peekLabel() !== null) {
        const pos = this.pos;
        labels.push({ label: this.label(), pos });
        this.skipSpace();
      }
      const namePos = this.pos;
      const name = this.name('property or node name');
      if (name === '#include' || name === '#define' || name === '#if') this.preprocessorError(namePos);
      this.skipSpace();
      const next = this.src[this.pos];
      if (next === '{') {
        if (seenChildren.has(name)) this.error(`duplicate node ${name} in ${node.path}`, namePos);
        seenChildren.add(name);
        sawChild = true;
        let child = node.children.find((n) => n.name === name);
        if (child === undefined) {
          child = createNode(name, node.path);
          node.children.push(child);
        }
        for (const l of labels) this.defineLabel(l.label, child, l.pos);
        this.nodeBody(child, depth + 1);
        this.expect(';');
      } else if (next === '=' || next === ';') {
        if (name.includes('@')) this.error(`property name "${name}" may not contain '@'`, namePos);
        if (seenProps.has(name)) this.error(`duplicate property ${name} in ${node.path}`, namePos);
        if (sawChild) this.error(`property ${name} after a child node: properties must precede subnodes`, namePos);
        seenProps.add(name);
        const parts: ValuePart[] = [];
        if (next === '=') {
          this.pos++;
          this.value(parts);
          this.skipSpace();
          while (this.src[this.pos] === ',') {
            this.pos++;
            this.value(parts);
            this.skipSpace();
          }
        }
        this.expect(';');
        // A redefinition (in a later `&label { }`) replaces the value in place, as dtc does.
        node.props.set(name, concatParts(parts));
        this.pending.filter((p) => p.node === node && p.name === name).forEach((p) => (p.parts = []));
        if (parts.some((p) => !(p instanceof Uint8Array))) this.pending.push({ node, name, parts });
      } else {
        this.error(`expected '=', ';' or '{' after "${name}"`);
      }
    }
  }

  /** One comma-separated piece of a property value. Appends its bytes (or references) to parts. */
  private value(parts: ValuePart[]): void {
    this.skipSpace();
    while (this.peekLabel() !== null) {
      this.label();
      this.skipSpace();
    }
    const c = this.src[this.pos];
    if (c === '"') {
      parts.push(this.stringLiteral());
    } else if (c === '<') {
      this.cells(parts, 32);
    } else if (c === '[') {
      parts.push(this.byteString());
    } else if (c === '&') {
      parts.push({ pathOf: this.reference() });
    } else if (c === '/' && this.src.startsWith('/bits/', this.pos)) {
      this.pos += '/bits/'.length;
      this.skipSpace();
      const at = this.pos;
      const bits = this.integer();
      if (bits !== 8n && bits !== 16n && bits !== 32n && bits !== 64n) {
        this.error('/bits/ must be 8, 16, 32 or 64', at);
      }
      this.skipSpace();
      if (this.src[this.pos] !== '<') this.error("expected '<' after /bits/");
      this.cells(parts, Number(bits));
    } else {
      this.error(`expected a value ("string", <cells>, [bytes] or &ref), found ${this.describeHere()}`);
    }
  }

  private cells(parts: ValuePart[], bits: number): void {
    this.expect('<');
    const mask = (1n << BigInt(bits)) - 1n;
    const bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length > 0) parts.push(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (;;) {
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === undefined) this.error("unterminated cell list (missing '>')");
      if (c === '>') {
        this.pos++;
        flush();
        return;
      }
      if (c === '&') {
        if (bits !== 32) this.error('phandle references are only allowed in 32-bit cells');
        flush();
        parts.push({ phandleOf: this.reference() });
        continue;
      }
      if (this.peekLabel() !== null) {
        this.label();
        continue;
      }
      const at = this.pos;
      let v: bigint;
      if (c === '(') v = this.parenExpression(0);
      else if (c === "'") v = this.charLiteral();
      else if (c !== undefined && /[0-9]/.test(c)) v = this.integer();
      else this.error(`expected a number, (expression), 'c', &ref or '>' in a cell list, found ${this.describeHere()}`);
      // Like dtc: a value may be too big for the cell only if it is a sign-extended negative number.
      if (v > mask && (v | mask) !== U64_MASK) this.error(`value out of range for a ${bits}-bit cell`, at);
      v &= mask;
      if (bits === 64) {
        pushBigEndian(bytes, Number(v >> 32n), 4);
        pushBigEndian(bytes, Number(v & 0xffffffffn), 4);
      } else {
        pushBigEndian(bytes, Number(v), bits / 8);
      }
    }
  }

  private byteString(): Uint8Array {
    this.expect('[');
    const out: number[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ']') {
        this.pos++;
        return Uint8Array.from(out);
      }
      if (this.peekLabel() !== null) {
        this.label();
        continue;
      }
      const pair = this.src.slice(this.pos, this.pos + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(pair)) this.error("expected two hex digits or ']' in a byte string");
      out.push(parseInt(pair, 16));
      this.pos += 2;
    }
  }

  private stringLiteral(): Uint8Array {
    const start = this.pos;
    this.pos++; // opening quote
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) this.error('unterminated string', start);
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        bytes.push(this.escape());
        continue;
      }
      // A run of plain characters up to the next quote, backslash or NUL, encoded at once.
      let end = this.pos;
      while (end < this.src.length && !'"\\\0'.includes(this.src[end]!)) end++;
      if (end === this.pos) this.error('NUL character in a string');
      for (const b of encoder.encode(this.src.slice(this.pos, end))) bytes.push(b);
      this.pos = end;
    }
    bytes.push(0);
    return Uint8Array.from(bytes);
  }

  private charLiteral(): bigint {
    const start = this.pos;
    this.pos++;
    const c = this.src[this.pos];
    let v: number;
    if (c === '\\') v = this.escape();
    else if (c === undefined || c === "'" || c === '\n') this.error('empty or unterminated character literal', start);
    else {
      v = c.charCodeAt(0);
      if (v > 0x7f) this.error('character literals must be ASCII', start);
      this.pos++;
    }
    if (this.src[this.pos] !== "'") this.error('unterminated character literal', start);
    this.pos++;
    return BigInt(v!);
  }

  /** A backslash escape in a string or character literal; returns the byte. */
  private escape(): number {
    const start = this.pos;
    this.pos++; // backslash
    const c = this.src[this.pos];
    const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '\\': 92, '"': 34, "'": 39 };
    if (c !== undefined && c in simple) {
      this.pos++;
      return simple[c]!;
    }
    if (c === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos + 1, this.pos + 3));
      if (m === null) this.error('\\x needs hex digits', start);
      this.pos += 1 + m![0].length;
      return parseInt(m![0], 16);
    }
    const m = /^[0-7]{1,3}/.exec(this.src.slice(this.pos, this.pos + 3));
    if (m !== null) {
      const v = parseInt(m[0], 8);
      if (v > 0xff) this.error('octal escape out of range', start);
      this.pos += m[0].length;
      return v;
    }
    this.error(`unknown escape \\${c ?? ''}`, start);
  }

  // ---- integers and expressions -----------------------------------------------------------------

  /** A C integer literal (0x.., 0.., decimal, U/L suffixes), as an unsigned 64-bit value. */
  private integer(): bigint {
    const at = this.pos;
    const m = matchAt(INTEGER_RE, this.src, this.pos);
    if (m === null) this.error(`expected an integer, found ${this.describeHere()}`);
    const text = m![1]!;
    const digitsEnd = this.pos + m![0].length;
    if (/[0-9a-zA-Z_]/.test(this.src[digitsEnd] ?? '')) this.error(`malformed number`, at);
    const v = text.length > 1 && text[0] === '0' && !/[xX]/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
    if (v > U64_MASK) this.error('integer literal does not fit in 64 bits', at);
    this.pos = digitsEnd;
    return v;
  }

  private parenExpression(depth: number): bigint {
    if (depth > MAX_DEPTH) this.error('expression nested too deeply');
    this.expect('(');
    const v = this.ternary(depth + 1);
    this.expect(')');
    return v;
  }

  private ternary(depth: number): bigint {
    const cond = this.binary(0, depth);
    this.skipSpace();
    if (this.src[this.pos] !== '?') return cond;
    this.pos++;
    const a = this.ternary(depth + 1);
    this.expect(':');
    const b = this.ternary(depth + 1);
    return cond !== 0n ? a : b;
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'],
    ['&&'],
    ['|'],
    ['^'],
    ['&'],
    ['==', '!='],
    ['<=', '>=', '<', '>'],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];

  private binary(level: number, depth: number): bigint {
    if (level >= DtsParser.LEVELS.length) return this.unary(depth);
    let left = this.binary(level + 1, depth);
    for (;;) {
      this.skipSpace();
      const op = DtsParser.LEVELS[level]!.find(
        (o) =>
          this.src.startsWith(o, this.pos) &&
          // `|` must not match `||`, `&` not `&&`, `<` not `<<`/`<=`.
          !(o.length === 1 && /[|&<>]/.test(o) && /[|&<>=]/.test(this.src[this.pos + 1] ?? '')),
      );
      if (op === undefined) return left;
      const at = this.pos;
      this.pos += op.length;
      const right = this.binary(level + 1, depth);
      left = applyOperator(op, left, right, () => this.error('division by zero', at));
    }
  }

  private unary(depth: number): bigint {
    if (depth > MAX_DEPTH) this.error('expression nested too deeply');
    this.skipSpace();
    const c = this.src[this.pos];
    if (c === '-' || c === '~' || c === '!') {
      this.pos++;
      const v = this.unary(depth + 1);
      if (c === '-') return BigInt.asUintN(64, -v);
      if (c === '~') return BigInt.asUintN(64, ~v);
      return v === 0n ? 1n : 0n;
    }
    if (c === '(') return this.parenExpression(depth + 1);
    if (c === "'") return this.charLiteral();
    return this.integer();
  }

  // ---- names, labels, references ----------------------------------------------------------------

  private name(what: string): string {
    const m = matchAt(NAME_RE, this.src, this.pos);
    if (m === null) this.error(`expected a ${what}, found ${this.describeHere()}`);
    this.pos += m![0].length;
    return m![0];
  }

  /** The label at the current position (`foo:`), without consuming it, or null. */
  private peekLabel(): string | null {
    const m = matchAt(LABEL_RE, this.src, this.pos);
    return m === null ? null : m[1]!;
  }

  private label(): string {
    const label = this.peekLabel()!;
    this.pos += label.length;
    this.skipSpace();
    this.pos++; // ':'
    return label;
  }

  private defineLabel(label: string, node: DtNode, pos: number): void {
    const existing = this.labels.get(label);
    if (existing !== undefined && existing !== node) this.error(`label ${label} is already defined for ${existing.path}`, pos);
    this.labels.set(label, node);
  }

  private reference(): Ref {
    const pos = this.pos;
    this.expect('&');
    if (this.src[this.pos] === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) this.error("unterminated path reference (missing '}')", pos);
      const path = this.src.slice(this.pos + 1, end);
      if (!path.startsWith('/')) this.error('a path reference must start with /', pos);
      this.pos = end + 1;
      return { path, pos };
    }
    const m = matchAt(IDENT_RE, this.src, this.pos);
    if (m === null) this.error("expected a label or {/path} after '&'", pos);
    this.pos += m![0].length;
    return { label: m![0], pos };
  }

  private lookup(ref: Ref): DtNode {
    let node: DtNode | undefined;
    if (ref.label !== undefined) {
      node = this.labels.get(ref.label);
      if (node === undefined || !this.attached(node)) this.error(`reference to undefined label ${ref.label}`, ref.pos);
    } else {
      node = this.root;
      for (const part of ref.path!.split('/').filter((p) => p !== '')) {
        node = node.children.find((n) => n.name === part || n.name.split('@')[0] === part);
        if (node === undefined) this.error(`reference to non-existent node ${ref.path}`, ref.pos);
      }
    }
    return node!;
  }

  private attached(node: DtNode): boolean {
    let cur: DtNode | undefined = this.root;
    if (node === cur) return true;
    for (const part of node.path.split('/').filter((p) => p !== '')) {
      cur = cur.children.find((n) => n.name === part);
      if (cur === undefined) return false;
    }
    return cur === node;
  }

  private detach(node: DtNode): void {
    let parent: DtNode | undefined = this.root;
    const parts = node.path.split('/').filter((p) => p !== '');
    for (const part of parts.slice(0, -1)) parent = parent?.children.find((n) => n.name === part);
    if (parent !== undefined) parent.children = parent.children.filter((n) => n !== node);
  }

  /** Turns &label into phandle cells or path strings; assigns phandles in the order dtc does. */
  private resolveReferences(): void {
    const used = new Set<number>();
    for (const n of allNodes(this.root)) {
      const p = n.props.get('phandle');
      if (p !== undefined && p.length === 4) used.add(new DataView(p.buffer, p.byteOffset).getUint32(0));
    }
    let next = 1;
    const phandleOf = (node: DtNode): number => {
      const own = node.props.get('phandle');
      if (own !== undefined && own.length === 4) return new DataView(own.buffer, own.byteOffset).getUint32(0);
      while (used.has(next)) next++;
      used.add(next);
      node.props.set('phandle', Uint8Array.of(next >>> 24, (next >>> 16) & 0xff, (next >>> 8) & 0xff, next & 0xff));
      return next;
    };
    const byNode = new Map<DtNode, PendingProp[]>();
    for (const p of this.pending) {
      if (p.parts.length === 0) continue;
      const list = byNode.get(p.node) ?? [];
      list.push(p);
      byNode.set(p.node, list);
    }
    for (const node of allNodes(this.root)) {
      const props = byNode.get(node);
      if (props === undefined) continue;
      // Same order as dtc: property order within a node, tree order across nodes.
      props.sort((a, b) => propIndex(node, a.name) - propIndex(node, b.name));
      for (const p of props) {
        if (!node.props.has(p.name)) continue; // deleted later
        const resolved = p.parts.map((part): Uint8Array => {
          if (part instanceof Uint8Array) return part;
          if ('phandleOf' in part) {
            const h = phandleOf(this.lookup(part.phandleOf));
            return Uint8Array.of(h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff);
          }
          return new TextEncoder().encode(`${this.lookup(part.pathOf).path}\0`);
        });
        node.props.set(p.name, concatParts(resolved));
      }
    }
  }

  // ---- scanning ---------------------------------------------------------------------------------

  /** A `/word/` directive at the current position (consumed), or null (position unchanged). */
  private directive(): string | null {
    const m = matchAt(DIRECTIVE_RE, this.src, this.pos);
    if (m === null) return null;
    this.pos += m[0].length;
    return m[0];
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
      } else if (c === '/' && this.src[this.pos + 1] === '/') {
        const end = this.src.indexOf('\n', this.pos);
        this.pos = end < 0 ? this.src.length : end + 1;
      } else if (c === '/' && this.src[this.pos + 1] === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        if (end < 0) this.error('unterminated /* comment');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.src[this.pos] !== c) this.error(`expected '${c}', found ${this.describeHere()}`);
    this.pos++;
  }

  private describeHere(): string {
    if (this.pos >= this.src.length) return 'end of file';
    const cp = this.src.codePointAt(this.pos)!;
    if (cp < 0x20 || cp === 0x7f) return `character 0x${cp.toString(16).padStart(2, '0')}`;
    const m = /^[a-zA-Z0-9,._+*#?@-]+/.exec(this.src.slice(this.pos, this.pos + 40));
    return m !== null ? `"${m[0]}"` : `'${String.fromCodePoint(cp)}'`;
  }

  private preprocessorError(at: number = this.pos): never {
    this.error('preprocessor directives (#include, #define) are not supported: run the file through cpp first', at);
  }

  private error(message: string, at: number = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.src.length; i++) {
      if (this.src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new DeviceTreeError(`${this.file}:${line}:${at - lineStart + 1}: ${message}`);
  }
}

function applyOperator(op: string, a: bigint, b: bigint, divByZero: () => never): bigint {
  const bool = (x: boolean): bigint => (x ? 1n : 0n);
  switch (op) {
    case '||':
      return bool(a !== 0n || b !== 0n);
    case '&&':
      return bool(a !== 0n && b !== 0n);
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '&':
      return a & b;
    case '==':
      return bool(a === b);
    case '!=':
      return bool(a !== b);
    case '<':
      return bool(a < b);
    case '>':
      return bool(a > b);
    case '<=':
      return bool(a <= b);
    case '>=':
      return bool(a >= b);
    // Shifts of 64 or more give 0 (and never build a huge BigInt).
    case '<<':
      return b >= 64n ? 0n : BigInt.asUintN(64, a << b);
    case '>>':
      return b >= 64n ? 0n : a >> b;
    case '+':
      return BigInt.asUintN(64, a + b);
    case '-':
      return BigInt.asUintN(64, a - b);
    case '*':
      return BigInt.asUintN(64, a * b);
    case '/':
      if (b === 0n) divByZero();
      return a / b;
    case '%':
      if (b === 0n) divByZero();
      return a % b;
    default:
      throw new Error(`unknown operator ${op}`);
  }
}

function pushBigEndian(out: number[], value: number, size: number): void {
  for (let i = size - 1; i >= 0; i--) out.push((value >>> (8 * i)) & 0xff);
}

function concatParts(parts: readonly ValuePart[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p instanceof Uint8Array ? p.length : 4;
  const out = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      out.set(p, off);
      off += p.length;
    } else {
      off += 4; // placeholder until references are resolved
    }
  }
  return out;
}

function propIndex(node: DtNode, name: string): number {
  let i = 0;
  for (const key of node.props.keys()) {
    if (key === name) return i;
    i++;
  }
  return i;
}

function* allNodes(root: DtNode): Generator<DtNode> {
  yield root;
  for (const child of root.children) yield* allNodes(child);
}
