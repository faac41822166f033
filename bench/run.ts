// `npm run bench`: rpmsg-eth (daemon + simulated peers) against two C baselines measured in the same
// run on the same machine, as the median of BENCH_ROUNDS (default 3) rounds that alternate the systems:
//   plain relay  bench/relay.c: TAP <-> SOCK_SEQPACKET <-> TAP, one frame per syscall, two processes —
//                what a user would write by hand;
//   ring relay   bench/relay.c --ring: the daemon's side of the simulated ring (sim/RING.md)
//                in plain C against the same vx-peer — so the cost of the ring model and the cost of
//                the daemon are told apart.
// Rows: TCP throughput (iperf3) and ping RTT (median of 200) through one channel at MTU 482 and 8162; all 17 channels of
// config/lanta.dts at once, one TCP stream each (aggregate, and the slowest channel against the mean);
// frag at MTU 1500 over 512-byte buffers against raw at MTU 482 (their rounds alternate); and the idle daemon with 17 channels
// (CPU, wakeups, RSS). Goals (issue 15) are printed beside each figure. The machine is shared and noisy:
// only ratios within one run mean anything.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestNetns, deleteTestNetns, nsExec as nsRun, nsExecAsync as nsRunAsync, sh } from '../test/helpers/netns.js';

const root = resolve(import.meta.dirname, '../..');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const LNX = 'rpe-bench-lnx';
const VX = 'rpe-bench-vx';
const ALL = Array.from({ length: 17 }, (_, i) => i);
/** config/lanta.dts: channel 0 has 256 buffers of 8192 bytes, the others 512 of 512. */
const ring = (ch: number) => (ch === 0 ? { mtu: 8162, payload: 8176, bufs: 256 } : { mtu: 482, payload: 496, bufs: 512 });
const peerOf = (ch: number) => `169.254.${100 + ch}.2`;
const selfOf = (ch: number) => `169.254.${100 + ch}.1`;

type System = 'ours' | 'relay' | 'ring';
const SYSTEMS: System[] = ['relay', 'ring', 'ours'];
/** What a round measures: a system, or rpmsg-eth with frag framing (channel 1, beside its raw rounds). */
type Run = System | 'frag';

interface Stream {
  mbps: number;
  rttMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

function hasAddress(ns: string, ifname: string, addr: string): boolean {
  try {
    return nsRun(ns, 'ip', ['-br', 'addr', 'show', 'dev', ifname]).includes(addr);
  } catch {
    return false;
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
    child.once('exit', () => resolvePromise());
    child.kill('SIGTERM');
  });
}

/**
 * One iperf3 TCP stream per channel, all at once, from LNX to each channel's peer in VX. On a loaded
 * machine an iperf3 now and then ends without its report: the measurement is taken again (twice at most).
 */
async function tcp(channels: number[], tries = 3): Promise<number[]> {
  for (let t = 1; ; t++) {
    try {
      return await tcpOnce(channels);
    } catch (err) {
      if (t >= tries) throw err;
      process.stderr.write(`bench: iperf3 failed (${(err as Error).message.split('\n')[0]}); measuring again\n`);
    }
  }
}

async function tcpOnce(channels: number[]): Promise<number[]> {
  const servers = channels.map((ch) => spawn('ip', ['netns', 'exec', VX, 'iperf3', '-s', '-1', '-B', peerOf(ch)], { stdio: 'ignore' }));
  try {
    // A loaded machine starts 17 servers slowly: wait until each listens.
    await waitFor('the iperf3 servers', () => {
      const listening = nsRun(VX, 'ss', ['-Hltn']);
      return channels.every((ch) => listening.includes(`${peerOf(ch)}:5201`));
    }, 30_000);
    const outs = await Promise.all(channels.map((ch) => nsRunAsync(LNX, 'iperf3', ['-c', peerOf(ch), '-B', selfOf(ch), '-t', String(seconds), '-J'])));
    return outs.map((o) => {
      const r = JSON.parse(o) as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
      const bps = r.end?.sum_received?.bits_per_second;
      if (bps === undefined) throw new Error(`iperf3: ${r.error ?? 'no report'}`);
      return bps / 1e6;
    });
  } finally {
    servers.forEach((s) => s.kill());
  }
}

/** The median round-trip time of 200 pings 10 ms apart (the median: a shared machine's stalls are outliers). */
async function rtt(channel: number): Promise<number> {
  const out = nsRun(LNX, 'ping', ['-c', '200', '-i', '0.01', peerOf(channel)]);
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < 150) throw new Error(`bench: too few ping replies:\n${out.slice(-500)}`);
  return median(times);
}

let relayBin = '';
function buildRelay(): string {
  const out = join(root, 'dist/bench');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'relay');
  sh('cc', ['-O2', '-Wall', '-Werror', '-o', bin, join(root, 'bench/relay.c')]);
  return bin;
}

/** Brings `system` up for `channels` (TAPs rpmsgN or relay TAPs, addressed alike), runs fn, tears down. */
async function withSystem<T>(system: System, channels: number[], extraArgs: string[], fn: () => Promise<T>): Promise<T> {
  createTestNetns(LNX);
  createTestNetns(VX);
  const children: ChildProcess[] = [];
  try {
    if (system === 'ours') {
      const control = join(mkdtempSync(join(tmpdir(), 'rpe-bench-')), 'control.sock');
      children.push(
        spawn(
          process.execPath,
          [join(root, 'dist/daemon/cli.js'), 'up', join(root, 'config/lanta.dts'), '--transport', 'sim', '--health-interval', '0',
            '--netns', LNX, '--peer-netns', VX, '--channels', channels.join(','), '--control-socket', control, ...extraArgs],
          { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RPMSG_ETH_LOG: 'error' } },
        ),
      );
      await waitFor('the daemon\'s channels', () => channels.every((ch) => hasAddress(VX, `vx${ch}`, peerOf(ch)) && hasAddress(LNX, `rpmsg${ch}`, selfOf(ch))));
    } else {
      for (const ch of channels) {
        const r = ring(ch);
        const args = system === 'relay'
          ? [`rpmsg${ch}`, LNX, `vx${ch}`, VX, String(r.mtu)]
          : ['--ring', join(root, 'dist/sim/vx-peer'), `rpmsg${ch}`, LNX, `vx${ch}`, VX, String(r.mtu), String(r.payload), String(r.bufs)];
        children.push(spawn(relayBin, args, { stdio: 'ignore' })); // their exit counters are not figures
      }
      await waitFor('the relays\' TAPs', () => channels.every((ch) => {
        try {
          return nsRun(VX, 'ip', ['-br', 'link', 'show', 'dev', `vx${ch}`]).includes('UP') && nsRun(LNX, 'ip', ['-br', 'link', 'show', 'dev', `rpmsg${ch}`]).includes('UP');
        } catch {
          return false;
        }
      }));
      for (const ch of channels) {
        sh('ip', ['-n', LNX, 'addr', 'add', `${selfOf(ch)}/24`, 'dev', `rpmsg${ch}`]);
        sh('ip', ['-n', VX, 'addr', 'add', `${peerOf(ch)}/24`, 'dev', `vx${ch}`]);
      }
    }
    return await fn();
  } finally {
    await Promise.all(children.map(stop));
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
  }
}


/** Runs `measure` for every run, `rounds` times alternating, and returns each run's rounds. */
async function alternate<K extends Run, T>(runs: K[], measure: (s: K) => Promise<T>): Promise<Record<K, T[]>> {
  const out = Object.fromEntries(runs.map((k) => [k, [] as T[]])) as Record<K, T[]>;
  for (let r = 0; r < rounds; r++) for (const k of runs) out[k].push(await measure(k));
  return out;
}

function idleFigures(pid: number, ms: number): Promise<{ cpuPct: number; wakeupsPerS: number; rssMiB: number }> {
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  };
  const switches = () =>
    readdirSync(`/proc/${pid}/task`).reduce((n, t) => {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      return n + Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
    }, 0);
  const hz = Number(sh('getconf', ['CLK_TCK']).trim());
  const t0 = ticks();
  const w0 = switches();
  return sleep(ms).then(() => ({
    cpuPct: ((ticks() - t0) / hz / (ms / 1000)) * 100,
    wakeupsPerS: (switches() - w0) / (ms / 1000),
    rssMiB: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
  }));
}

/** The idle daemon with all 17 channels: CPU, wakeups (context switches of all its threads) and RSS. */
async function idle(healthArgs: string[]): Promise<{ cpuPct: number; wakeupsPerS: number; rssMiB: number }> {
  createTestNetns(LNX);
  createTestNetns(VX);
  const control = join(mkdtempSync(join(tmpdir(), 'rpe-bench-')), 'control.sock');
  const child = spawn(
    process.execPath,
    [join(root, 'dist/daemon/cli.js'), 'up', join(root, 'config/lanta.dts'), '--transport', 'sim', '--netns', LNX, '--peer-netns', VX,
      '--control-socket', control, ...healthArgs],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RPMSG_ETH_LOG: 'error' } },
  );
  try {
    await waitFor('the daemon\'s channels', () => ALL.every((ch) => hasAddress(VX, `vx${ch}`, peerOf(ch)) && hasAddress(LNX, `rpmsg${ch}`, selfOf(ch))));
    await sleep(20_000); // start-up settles: ARP, first probes, V8's post-start GC and housekeeping
    return await idleFigures(child.pid as number, idleSeconds * 1000);
  } finally {
    await stop(child);
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
  }
}

// ---- report -------------------------------------------------------------------------------------------

const rows: string[][] = [['figure', 'rpmsg-eth', 'plain relay', 'ratio', 'ring relay', 'ratio', 'goal', '']];
function row(name: string, unit: string, m: Record<System, number>, goal: string, ok: boolean | undefined, digits = 0): void {
  const f = (x: number) => `${x.toFixed(digits)} ${unit}`;
  rows.push([name, f(m.ours), f(m.relay), (m.ours / m.relay).toFixed(2), f(m.ring), (m.ours / m.ring).toFixed(2), goal, ok === undefined ? '' : ok ? 'ok' : 'MISSED']);
}
function print(): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(rows[0]!)}\n${rows.slice(1).map(line).join('\n')}\n`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench: needs root (namespaces, TAP devices)');
  relayBin = buildRelay();
  process.stdout.write(`rpmsg-eth against a plain C relay and a C relay of the ring protocol: median of ${rounds} alternating rounds, ` +
    `${seconds} s iperf3 each; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);

  const single: Record<number, Record<System, Stream>> = {};
  let fragRounds: number[] = [];
  for (const ch of [1, 0]) {
    // Channel 1's rounds also take frag at MTU 1500 over the same 512-byte buffers (the frag row below),
    // so that its ratio to raw MTU 482 compares rounds taken side by side: the machine's load drifts.
    const runs: Run[] = ch === 1 ? [...SYSTEMS, 'frag'] : SYSTEMS;
    const r = await alternate(runs, (s) => s === 'frag'
      ? withSystem('ours', [ch], ['--framing', 'frag'], async () => {
        await sleep(300); // negotiation
        return { mbps: (await tcp([ch]))[0] as number, rttMs: NaN };
      })
      : withSystem(s, [ch], [], async () => ({ mbps: (await tcp([ch]))[0] as number, rttMs: await rtt(ch) })));
    if (ch === 1) fragRounds = r.frag.map((x) => x.mbps);
    const m = (k: keyof Stream) => ({ ours: median(r.ours.map((x) => x[k])), relay: median(r.relay.map((x) => x[k])), ring: median(r.ring.map((x) => x[k])) });
    single[ch] = { ours: { mbps: m('mbps').ours, rttMs: m('rttMs').ours }, relay: { mbps: m('mbps').relay, rttMs: m('rttMs').relay }, ring: { mbps: m('mbps').ring, rttMs: m('rttMs').ring } };
    const mtu = ring(ch).mtu;
    const tp = m('mbps');
    row(`TCP, MTU ${mtu}`, 'Mb/s', tp, '>= 1.00x relay', tp.ours >= tp.relay);
    const lat = m('rttMs');
    row(`ping RTT, MTU ${mtu}`, 'ms', lat, '<= 1.25x relay', lat.ours <= 1.25 * lat.relay, 3);
  }

  // All 17 channels at once, one TCP stream each.
  const all = await alternate(SYSTEMS, (s) => withSystem(s, ALL, [], () => tcp(ALL)));
  const agg = (s: System) => median(all[s].map((xs) => xs.reduce((a, b) => a + b, 0)));
  const fairness = (s: System) => median(all[s].map((xs) => Math.min(...xs) / (xs.reduce((a, b) => a + b, 0) / xs.length)));
  const aggregate = { ours: agg('ours'), relay: agg('relay'), ring: agg('ring') };
  row('17 channels TCP, aggregate', 'Mb/s', aggregate, '>= 0.90x relay', aggregate.ours >= 0.9 * aggregate.relay);
  const fair = { ours: fairness('ours'), relay: fairness('relay'), ring: fairness('ring') };
  row('17 channels, slowest / mean', '', fair, 'ours >= 0.50', fair.ours >= 0.5, 2);

  // frag at MTU 1500 over the same 512-byte buffers as raw MTU 482 (rpmsg-eth only: the relays have no frag).
  const fragMbps = median(fragRounds);
  const raw482 = single[1] as Record<System, Stream>;
  rows.push(['frag MTU 1500 TCP (512-byte buffers)', `${fragMbps.toFixed(0)} Mb/s`, `${raw482.relay.mbps.toFixed(0)} Mb/s`, (fragMbps / raw482.relay.mbps).toFixed(2),
    `${raw482.ring.mbps.toFixed(0)} Mb/s`, (fragMbps / raw482.ring.mbps).toFixed(2), `>= 2.00x raw 482 (${raw482.ours.mbps.toFixed(0)}): ${(fragMbps / raw482.ours.mbps).toFixed(2)}x`,
    fragMbps >= 2 * raw482.ours.mbps ? 'ok' : 'MISSED']);

  // Idle, 17 channels: without health probes (nothing may wake the daemon) and with the default ones.
  const quiet = await idle(['--health-interval', '0']);
  const probing = await idle([]);
  rows.push(['idle, 17 channels, no probes', `${quiet.cpuPct.toFixed(2)} % CPU, ${quiet.wakeupsPerS.toFixed(1)} wakeups/s, RSS ${quiet.rssMiB.toFixed(0)} MiB`, '', '', '', '',
    '< 1 %, ~0 wakeups*, < 80 MiB', quiet.cpuPct < 1 && quiet.wakeupsPerS < 0.5 && quiet.rssMiB < 80 ? 'ok' : 'MISSED']);
  rows.push(['idle, 17 channels, health every 5 s', `${probing.cpuPct.toFixed(2)} % CPU, ${probing.wakeupsPerS.toFixed(1)} wakeups/s, RSS ${probing.rssMiB.toFixed(0)} MiB`, '', '', '', '',
    '< 1 %, < 80 MiB', probing.cpuPct < 1 && probing.rssMiB < 80 ? 'ok' : 'MISSED']);
  print();
  process.stdout.write('* the one wakeup every 8.1 s left is V8\'s memory reducer timer (node --no-memory-reducer removes it).\n');
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
});
