// Network namespaces owned by a test: created with IPv6 off (no autoconfiguration chatter that would
// disturb exact packet counts) and always deleted afterwards.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
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

/**
 * For the describe block it is called in: root and the tools checked, namespaces `lnx` and `vx` and a
 * scratch directory made before its tests, all removed after them (after the block's own afterAll hooks,
 * which run first: a daemon stopped there still finds its namespaces).
 */
export function useTestNamespaces(lnx: string, vx: string): { readonly dir: string } {
  let dir = '';
  beforeAll(() => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), `${lnx}-`));
    createTestNetns(lnx);
    createTestNetns(vx);
  });
  afterAll(() => {
    deleteTestNetns(lnx);
    deleteTestNetns(vx);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
  };
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
