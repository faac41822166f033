// Network namespaces owned by a test or the benchmark: created with IPv6 off (no autoconfiguration
// chatter that would disturb exact packet counts) and always deleted afterwards; commands run inside
// them. No vitest here: `npm run bench` uses these too (the describe-block hook: test-namespaces.ts).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { requireTools } from './tools.js';

export function sh(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.allowFail) return (err as { stdout?: string }).stdout ?? '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

export function nsExec(ns: string, cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** nsExec without blocking the event loop: resolves with stdout, rejects with the output on failure. */
export function nsExecAsync(ns: string, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err || out}`))));
  });
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export function createTestNetns(name: string, opts: { ipv6?: boolean } = {}): void {
  if (netnsExists(name)) sh('ip', ['netns', 'delete', name]);
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  if (!opts.ipv6) {
    nsExec(name, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    nsExec(name, 'sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
}

export function deleteTestNetns(name: string): void {
  if (netnsExists(name)) sh('ip', ['netns', 'delete', name], { allowFail: true });
}

export interface LinkInfo {
  ifname: string;
  operstate: string;
  mtu: number;
  flags: string[];
  address: string;
}

export function links(ns: string): LinkInfo[] {
  return JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show'])) as LinkInfo[];
}

export function linkStats(ns: string, ifname: string): { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } } {
  const [info] = JSON.parse(sh('ip', ['-n', ns, '-j', '-s', 'link', 'show', 'dev', ifname])) as Array<{
    stats64: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } };
  }>;
  if (!info) throw new Error(`no link ${ifname} in ${ns}`);
  return info.stats64;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (network namespaces, TAP devices)');
  requireTools('ip', 'ping', 'tcpdump', 'sysctl');
}

const execFileAsync = promisify(execFile);

/** `ping ARGS` inside `ns`; resolves with its exit code and output whether it succeeded or not. */
export async function ping(ns: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('ip', ['netns', 'exec', ns, 'ping', ...args]);
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

export interface LinkCounters {
  rx: { packets: number; bytes: number; dropped: number };
  tx: { packets: number; bytes: number; dropped: number };
}

/** The kernel's counters of every interface in `ns`, by name, read at once (one `ip` call). */
export function allLinkStats(ns: string): Map<string, LinkCounters> {
  const list = JSON.parse(sh('ip', ['-n', ns, '-j', '-s', 'link', 'show'])) as Array<{ ifname: string; stats64: LinkCounters }>;
  return new Map(list.map((l) => [l.ifname, l.stats64]));
}
