// `npm run bench`: TCP throughput (iperf3) and ping round-trip time through one channel at MTU 482 and
// at MTU 8162, for rpmsg-eth (daemon + simulated peer, two processes) and, as the baseline measured in
// the same run on the same machine, a minimal C relay (bench/relay.c: TAP <-> SOCK_SEQPACKET <-> TAP,
// one frame per syscall, two processes). Figures are printed with their ratio to the baseline; the
// machines are shared and noisy, so only ratios within one run mean anything.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const LNX = 'rpe-bench-lnx';
const VX = 'rpe-bench-vx';

interface Figures {
  mbps: number;
  rttMs: number;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function nsRun(ns: string, cmd: string, args: string[]): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args]);
}

function freshNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) sh('ip', ['netns', 'delete', name]);
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

function dropNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) sh('ip', ['netns', 'delete', name]);
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function hasAddress(ns: string, ifname: string, addr: string): boolean {
  try {
    return nsRun(ns, 'ip', ['-br', 'addr', 'show', 'dev', ifname]).includes(addr);
  } catch {
    return false;
  }
}

/** iperf3 from `clientNs` to `server` (listening in `serverNs`), then ping; both through the path under test. */
async function measure(clientNs: string, serverNs: string, server: string): Promise<Figures> {
  const iperfServer = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-B', server], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const out = JSON.parse(nsRun(clientNs, 'iperf3', ['-c', server, '-t', String(seconds), '-J'])) as {
      end: { sum_received: { bits_per_second: number } };
    };
    const ping = nsRun(clientNs, 'ping', ['-q', '-c', '50', '-i', '0.02', server]);
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(ping);
    if (!rtt) throw new Error(`bench: cannot read ping output:\n${ping}`);
    return { mbps: out.end.sum_received.bits_per_second / 1e6, rttMs: Number(rtt[1]) };
  } finally {
    iperfServer.kill();
  }
}

function buildRelay(): string {
  const out = join(root, 'dist/bench');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'relay');
  sh('cc', ['-O2', '-Wall', '-o', bin, join(root, 'bench/relay.c')]);
  return bin;
}

async function baseline(relay: string, mtu: number): Promise<Figures> {
  freshNetns(LNX);
  freshNetns(VX);
  const child = spawn(relay, ['rbA', LNX, 'rbB', VX, String(mtu)], { stdio: 'inherit' });
  try {
    await waitFor('relay TAPs', () => {
      try {
        return nsRun(VX, 'ip', ['-br', 'link', 'show', 'dev', 'rbB']).includes('UP');
      } catch {
        return false;
      }
    });
    sh('ip', ['-n', LNX, 'addr', 'add', '169.254.250.1/24', 'dev', 'rbA']);
    sh('ip', ['-n', VX, 'addr', 'add', '169.254.250.2/24', 'dev', 'rbB']);
    return await measure(LNX, VX, '169.254.250.2');
  } finally {
    await stop(child);
    dropNetns(LNX);
    dropNetns(VX);
  }
}

async function rpmsgEth(channel: number, extraArgs: string[] = []): Promise<Figures> {
  freshNetns(LNX);
  freshNetns(VX);
  const control = join(mkdtempSync(join(tmpdir(), 'rpe-bench-')), 'control.sock');
  const child = spawn(
    process.execPath,
    [join(root, 'dist/daemon/cli.js'), 'up', join(root, 'config/lanta.dts'), '--transport', 'sim', '--health-interval', '0',
      '--netns', LNX, '--peer-netns', VX, '--channels', String(channel), '--control-socket', control, ...extraArgs],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RPMSG_ETH_LOG: 'warn' } },
  );
  try {
    const peer = `169.254.${100 + channel}.2`;
    await waitFor(`rpmsg${channel} and its peer`, () => hasAddress(VX, `vx${channel}`, peer) && hasAddress(LNX, `rpmsg${channel}`, `169.254.${100 + channel}.1`));
    return await measure(LNX, VX, peer);
  } finally {
    await stop(child);
    dropNetns(LNX);
    dropNetns(VX);
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench: needs root (namespaces, TAP devices)');
  const relay = buildRelay();
  const rows: string[] = [];
  let raw482: Figures | undefined;
  for (const { channel, mtu } of [{ channel: 1, mtu: 482 }, { channel: 0, mtu: 8162 }]) {
    const base = await baseline(relay, mtu);
    const ours = await rpmsgEth(channel);
    if (mtu === 482) raw482 = ours;
    rows.push(
      `MTU ${String(mtu).padEnd(5)} TCP  ${ours.mbps.toFixed(0).padStart(6)} Mb/s  relay ${base.mbps.toFixed(0).padStart(6)} Mb/s  ratio ${(ours.mbps / base.mbps).toFixed(2)}`,
      `MTU ${String(mtu).padEnd(5)} RTT  ${ours.rttMs.toFixed(3).padStart(6)} ms    relay ${base.rttMs.toFixed(3).padStart(6)} ms    ratio ${(ours.rttMs / base.rttMs).toFixed(2)}`,
    );
  }
  // frag framing (docs/frag-wire-spec.md): MTU 1500 over the same 512-byte buffers, beside raw at 482.
  const frag = await rpmsgEth(1, ['--framing', 'frag']);
  const raw = raw482 as Figures;
  rows.push(
    `MTU 1500  TCP  ${frag.mbps.toFixed(0).padStart(6)} Mb/s  frag over 512-byte buffers; raw MTU 482 ${raw.mbps.toFixed(0).padStart(6)} Mb/s  ratio ${(frag.mbps / raw.mbps).toFixed(2)}`,
    `MTU 1500  RTT  ${frag.rttMs.toFixed(3).padStart(6)} ms    frag over 512-byte buffers; raw MTU 482 ${raw.rttMs.toFixed(3).padStart(6)} ms    ratio ${(frag.rttMs / raw.rttMs).toFixed(2)}`,
  );
  process.stdout.write(`rpmsg-eth vs C relay (same run, ${seconds}s iperf3 each; throughput ratio > 1 and RTT ratio < 1 favour rpmsg-eth)\n${rows.join('\n')}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
});
