// Device-tree source to blob, exactly as the kernel build does it (scripts/Makefile.lib, cmd_dtc):
//   cpp -nostdinc -I DIR... -undef -D__DTS__ -x assembler-with-cpp FILE | dtc -I dts -O dtb -b 0 -i DIR... -
// so board files with #include, /include/, <dt-bindings/...> headers and &label overrides read as they
// do for the kernel. Both tools run in the source's folder with a deadline and memory and output caps;
// their errors come back as one line with the file, line and include chain.
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { runTool, type ToolLimits, type ToolResult } from '../util/run-tool.js';
import { DeviceTreeError } from './errors.js';
import { IncludeMap, type SourcePos } from './include-map.js';

const LIMITS: ToolLimits = { timeoutMs: 10_000, maxOutput: 16 * 1024 * 1024, maxMemory: 512 * 1024 * 1024 };

const PACKAGES: Record<string, string> = { cpp: 'cpp', dtc: 'device-tree-compiler' };

export interface CompileOptions {
  /** Folders searched for #include <...> and /include/, in order (the kernel's -I / -i). */
  includeDirs?: readonly string[];
}

/** Compiles the .dts at `path` (named `name` in messages) to a flattened device tree. */
export async function compileDts(path: string, name: string, opts: CompileOptions = {}): Promise<Uint8Array> {
  const dir = dirname(resolve(path));
  const includes = (opts.includeDirs ?? []).map((d) => resolve(d));
  const show = (file: string): string => displayPath(resolve(dir, file));

  const cppArgs = ['-nostdinc', ...includes.flatMap((d) => ['-I', d]), '-undef', '-D__DTS__', '-x', 'assembler-with-cpp', basename(path)];
  const cpp = await runTool('cpp', cppArgs, null, dir, LIMITS);
  checkRun('cpp', cpp, name);
  if (cpp.code !== 0) throw failure(name, cppError(cpp.stderr, show));

  const dtcArgs = ['-q', '-I', 'dts', '-O', 'dtb', '-b', '0', ...['.', ...includes].flatMap((d) => ['-i', d]), '-o', '-', '-'];
  const dtc = await runTool('dtc', dtcArgs, cpp.stdout, dir, LIMITS);
  checkRun('dtc', dtc, name);
  if (dtc.code !== 0) throw failure(name, dtcError(dtc.stderr, new IncludeMap(cpp.stdout.toString('latin1')), show));
  return new Uint8Array(dtc.stdout);
}

/** `name: what`, unless `what` already starts with the file's name (an error in the board file itself). */
function failure(name: string, what: string): DeviceTreeError {
  return new DeviceTreeError(what.startsWith(`${name}:`) ? what : `${name}: ${what}`);
}

function checkRun(tool: string, r: ToolResult, name: string): void {
  if (r.spawnError?.code === 'ENOENT') {
    throw new DeviceTreeError(
      `${name}: ${tool} is not installed (Debian package ${PACKAGES[tool]}); a .dts goes through cpp and dtc, a .dtb or /proc/device-tree needs neither`,
    );
  }
  if (r.spawnError) throw new DeviceTreeError(`${name}: cannot run ${tool}: ${r.spawnError.message}`);
  if (r.killed === 'timeout') {
    throw new DeviceTreeError(`${name}: ${tool} did not finish within ${LIMITS.timeoutMs / 1000} s (does an include name a device or a FIFO?)`);
  }
  if (r.killed === 'output') throw new DeviceTreeError(`${name}: ${tool} produced more than ${LIMITS.maxOutput >> 20} MiB; not a board file`);
}

/** A path as the user would type it: relative to the working folder when inside it. */
function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

function formatChain(chain: readonly SourcePos[], show: (f: string) => string): string {
  return chain.length ? ` (included from ${chain.map((p) => `${show(p.file)}:${p.line}`).join(', from ')})` : '';
}

/** `In file included from a:1,\n  from b:2:\nc:3:4: fatal error: msg` -> `c:3: msg (included from a:1, from b:2)`. */
function cppError(stderr: string, show: (f: string) => string): string {
  const chain: SourcePos[] = [];
  for (const line of stderr.split('\n')) {
    const from = /^(?:In file included from|\s+from) (.+?):(\d+)(?::\d+)?[:,]$/.exec(line);
    if (from) {
      chain.push({ file: from[1]!, line: Number(from[2]) });
      continue;
    }
    const err = /^(.+?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$/.exec(line);
    if (err) {
      const hint = /No such file or directory$|no include path/.test(err[3]!) ? '; add its folder with --include DIR or deviceTreeIncludes' : '';
      return `${show(err[1]!)}:${err[2]}: ${err[3]}${formatChain(chain, show)}${hint}`;
    }
    chain.length = 0;
  }
  return `cpp failed: ${firstLine(stderr)}`;
}

/** dtc's first error, its position mapped through the include map. */
function dtcError(stderr: string, map: IncludeMap, show: (f: string) => string): string {
  const at = (file: string, line: string, msg: string): string =>
    `${show(file)}:${line}: ${msg}${formatChain(map.chainOf(file), show)}`;
  for (const line of stderr.split('\n')) {
    let m = /^Error: (.+?):(\d+)\.\d+(?:-[\d.]+)? (.*)$/.exec(line);
    if (m) return at(m[1]!, m[2]!, m[3]!);
    m = /^(.+?):(\d+)\.\d+(?:-[\d.]+)?: ERROR \(([\w-]+)\): (.*)$/.exec(line);
    if (m) return at(m[1]!, m[2]!, `${m[4]} (dtc check ${m[3]})`);
    m = /^FATAL ERROR: Couldn't open "(.+)": (.*)$/.exec(line);
    if (m) {
      const site = map.includeSite(m[1]!);
      const msg = `cannot open /include/ "${m[1]}": ${m[2]}; add its folder with --include DIR or deviceTreeIncludes`;
      return site ? `${show(site.at.file)}:${site.at.line}: ${msg}${formatChain(site.chain, show)}` : msg;
    }
    m = /^ERROR \(([\w-]+)\): (.*)$/.exec(line);
    if (m) return `${m[2]} (dtc check ${m[1]})`;
  }
  return `dtc failed: ${firstLine(stderr)}`;
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'no message';
}
