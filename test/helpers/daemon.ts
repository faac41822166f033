// Runs the real daemon (the built CLI, started directly — not through npm, which would not forward
// SIGTERM) and follows its structured log.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The nearest folder up with a package.json: from test/helpers/ under vitest, from dist/test/helpers/ in the bench. */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const repoRoot = findRepoRoot(import.meta.dirname);
export const cliPath = join(repoRoot, 'dist/daemon/cli.js');
/** Config lines for the packaged board file (config/lanta.dts and its include folder), from any folder. */
export const lantaConfig = `deviceTree: ${join(repoRoot, 'config/lanta.dts')}\ndeviceTreeIncludes: [${join(repoRoot, 'config/include')}]\n`;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly controlSocket: string;
  private waiters: Array<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  private listeners: Array<(l: LogLine) => void> = [];
  readonly exited: Promise<number | string>;
  private stderrTail = '';

  /**
   * Starts `rpmsg-eth up ARGS`; `controlSocket` reuses a path (default: a fresh one per daemon).
   * `opts.prefix` runs it through another command (e.g. unshare), which must exec it in the end;
   * `opts.socketFromConfig`: `controlSocket` is the config's, so no --control-socket is passed;
   * `opts.nodeArgs`: options for node itself (before the script), e.g. --expose-gc.
   */
  constructor(
    args: string[],
    controlSocket?: string,
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; prefix?: string[]; socketFromConfig?: boolean; nodeArgs?: string[] } = {},
  ) {
    this.controlSocket = controlSocket ?? join(mkdtempSync(join(tmpdir(), 'rpmsg-eth-test-')), 'control.sock');
    const socketOption = opts.socketFromConfig ? [] : ['--control-socket', this.controlSocket];
    const command = [...(opts.prefix ?? []), process.execPath, ...(opts.nodeArgs ?? []), cliPath, 'up', ...args, ...socketOption];
    this.child = spawn(command[0]!, command.slice(1), {
      cwd: opts.cwd ?? repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RPMSG_ETH_LOG: 'debug', ...opts.env },
    });
    let buf = '';
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { level: 50, msg: text };
        }
        this.lines.push(line);
        for (const f of this.listeners) f(line);
        this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, sig) => resolve(sig ?? code ?? -1)));
  }

  /** Resolves with the first log line (past or future) matching; rejects on exit or timeout. */
  waitFor(test: (l: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a log line; stderr tail:\n${this.stderrTail}`)), timeoutMs);
      void this.exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${how}) while waiting; stderr tail:\n${this.stderrTail}`));
      });
      this.waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  /** Calls `f` with every log line from now on. */
  onLine(f: (l: LogLine) => void): void {
    this.listeners.push(f);
  }

  ready(timeoutMs = 120_000): Promise<LogLine> {
    return this.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('ready:'), timeoutMs);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  get stderr(): string {
    return this.stderrTail;
  }
}

/** Runs a CLI subcommand against this daemon's control socket. */
export function cliArgs(daemon: DaemonProcess, args: string[]): string[] {
  return [cliPath, ...args, '--control-socket', daemon.controlSocket];
}
