// Runs an outside tool (cpp, dtc) on input we do not control, within fixed limits: a deadline, a cap on
// what it may print, and an address-space limit — an `#include "/dev/zero"` or of a FIFO then ends in an
// error, never in a hang or gigabytes of memory.
import { spawn } from 'node:child_process';

export interface ToolLimits {
  /** Killed (SIGKILL) after this long. */
  timeoutMs: number;
  /** Killed once stdout grows past this. */
  maxOutput: number;
  /** Address-space limit of the tool's process (ulimit -v). */
  maxMemory: number;
}

export interface ToolResult {
  /** Exit status, or null when killed. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Why the tool was stopped, when it was. */
  killed?: 'timeout' | 'output';
  /** Set when the tool could not be started (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
}

const MAX_STDERR = 64 * 1024;

/** Runs `command args` in `cwd` with `input` on stdin; resolves (never rejects) with what happened. */
export function runTool(command: string, args: readonly string[], input: Buffer | null, cwd: string, limits: ToolLimits): Promise<ToolResult> {
  return new Promise((resolve) => {
    // `ulimit -v` takes KiB and holds for the tool's own children (cpp runs cc1). A process group of its
    // own lets a kill reach them all.
    const kib = Math.ceil(limits.maxMemory / 1024);
    const child = spawn('/bin/sh', ['-c', `ulimit -v ${kib} && exec "$0" "$@"`, command, ...args], {
      cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let killed: ToolResult['killed'];
    const kill = (why: NonNullable<ToolResult['killed']>) => {
      killed ??= why;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => kill('timeout'), limits.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > limits.maxOutput) kill('output');
      else out.push(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < MAX_STDERR) stderr += s;
    });
    child.stdin.on('error', () => undefined); // the tool may exit without reading all of its input
    child.stdin.end(input ?? undefined);
    let settled = false;
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!settled) resolve({ code: null, stdout: Buffer.alloc(0), stderr, spawnError: err });
      settled = true;
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      // sh reports a missing command as exit 127 ("not found").
      const spawnError = code === 127 && /not found/.test(stderr) ? Object.assign(new Error(`${command}: not found`), { code: 'ENOENT' }) : undefined;
      resolve({ code: killed ? null : code, stdout: Buffer.concat(out), stderr, killed, spawnError });
    });
  });
}
