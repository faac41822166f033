// `npm run soak -- [--minutes N]` (not part of CI; needs root): every channel of config/lanta.dts under
// UDP load in both directions for N minutes (default 10) while simulated peers restart at random
// (`peer-restart` over the control socket: random channel, random down time), then checks that
//   - every frame is accounted for, hop by hop and end to end (A, B, C below);
//   - no channel is stuck: each passes pings both ways once the load has stopped (3 replies within 10 s);
//   - the daemon does not leak: at fixed points of the load (every minute; every 15 s in runs under 10
//     minutes) it reports its RSS and V8 heap used right after a full GC (test/helpers/heap-probe.cjs,
//     preloaded with node --expose-gc: nothing in the daemon's own code). After a warm-up (10 minutes,
//     or a third of shorter runs) a least-squares line through each series must rise no faster than
//       heap after GC  1 MiB/hour  (--heap-bound)  ~1000 peer restarts and ~12 M frames an hour: a leak of
//                                                   1 KiB per restart or 1 byte per 12 frames is caught
//       RSS            4 MiB/hour  (--rss-bound)   native buffers and allocator slack on top of the heap
//                                                   (the daemon fixes glibc's malloc thresholds for this:
//                                                   native/malloc_tuning.cc)
//     Short runs fit few points over a short span: the slope's standard error is printed with it, and
//     only a run of 30 minutes or more can resolve these bounds.
// Prints the figures as tables and exits non-zero, saying what failed, if any check fails. Creates its
// own namespaces (rpe-soak-lnx, rpe-soak-vx) and removes them, also on failure and on Ctrl-C.
//
// Accounting, per channel (frames; "tx" = Linux -> VxWorks, "rx" = VxWorks -> Linux):
//   A. Linux TAP <-> daemon, exact (the kernel's counters of rpmsgN against the daemon's):
//        kernel tx_packets (frames the daemon read) = daemon tx.packets + daemon txDrops
//        kernel rx_packets (frames the daemon wrote) = daemon rx.packets
//   B. daemon <-> simulated peer across the link. The peer prints its counters at exit; the daemon logs
//      them per peer lifetime ("simulated peer counters") with the frames it had sent and the peer had
//      not taken off the ring when the link went ("uncreditedTx"). Every lifetime is ended at the end (one last
//      restart of every peer, with no load), so the sums cover every frame:
//        daemon tx.packets = sum(peer rx + peer tapDrops + peer refusedOversize) + lost on the ring (tx)
//        sum(peer tx)      = daemon rx.packets + daemon rxDrops + lost on the ring (rx)
//      Frames on the ring when the peer went away are lost with it; they are the difference, checked:
//      0 <= tx <= sum(uncreditedTx) and 0 <= rx <= ring slots x peer lifetimes; outside: failure.
//   C. end to end, in the load generator's own counts: one UDP agent per namespace sends numbered
//      datagrams to the other side of every channel (no replies: one lost datagram is one lost frame) and
//      counts sent, refused sends, received and duplicates. Per channel and direction:
//        Linux->VxWorks  sent = received + kernel tx_dropped of rpmsgN (frames the kernel discarded while
//                        rpmsgN had no carrier, or on a full queue) + daemon tx drops + peer drops
//                        + lost on the ring (B) + rest
//        VxWorks->Linux  sent = received + daemon rx drops + lost on the ring (B) + rest
//      (a send refused while vxN does not exist is no frame). The rest is what the receiving socket
//      dropped on a full buffer (UDP RcvbufErrors: counted per namespace only, so checked in total) and,
//      VxWorks->Linux only, frames still queued in vxN when its peer exited (the VxWorks stack's queue
//      dies with the core; no counter sees them): Linux->VxWorks rest must equal RcvbufErrors of the
//      VxWorks namespace exactly; VxWorks->Linux rest minus RcvbufErrors of the Linux namespace must be
//      0..max(2, rate x 50 ms) per peer exit. Static neighbour entries (re-added on vxN at every
//      restart) keep ARP out, and only channels up for a second are restarted, so no ARP frame is lost.
//   Daemon health probes are off for the run (their ICMP would mix into the counts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { StatusReply as StatsReply } from '../src/control/protocol.js';
import { loadPlan } from '../src/channels/plan.js';
import { controlRequest } from '../src/control/client.js';
import { channelMac } from '../src/iface/mac.js';
import { DaemonProcess, lantaConfig, type LogLine } from '../test/helpers/daemon.js';
import { fitLine, HEAP_PROBE_NODE_ARGS, MemoryProbe, type MemorySample } from '../test/helpers/memory.js';
import { allLinkStats, createTestNetns, deleteTestNetns, nsExec, requireRoot, sh, type LinkCounters } from '../test/helpers/netns.js';
import { requireTools } from '../test/helpers/tools.js';

const run = promisify(execFile);
const LNX = 'rpe-soak-lnx';
const VX = 'rpe-soak-vx';
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------- options

function range(text: string): [number, number] {
  const m = /^([\d.]+)(?:-([\d.]+))?$/.exec(text);
  const a = Number(m?.[1]);
  const b = Number(m?.[2] ?? m?.[1]);
  if (!m || !(a >= 0 && b >= a)) throw new InvalidArgumentError(`expected A or A-B (A <= B), not "${text}"`);
  return [a, b];
}

function positive(text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, not "${text}"`);
  return n;
}

interface Options {
  minutes: number;
  rate: number;
  restartEvery: [number, number];
  down: [number, number];
  warmupMinutes?: number;
  sampleSeconds?: number;
  heapBound: number;
  rssBound: number;
  daemonLog?: string;
}

function parseOptions(argv: string[]): Options {
  const opt = (flags: string, help: string, env: string) => new Option(flags, help).env(env);
  return new Command('npm run soak --')
    .description(
      'All channels of config/lanta.dts under UDP load both ways, simulated peers restarting at random; ' +
        'checks that every frame is accounted for, no channel is stuck, and that the daemon does not leak ' +
        '(RSS and heap after a full GC, sampled at fixed points, fitted by least squares after a warm-up). Needs root.',
    )
    .addOption(opt('--minutes <n>', 'minutes of load', 'SOAK_MINUTES').argParser(positive).default(10))
    .addOption(opt('--rate <n>', 'UDP datagrams/s per channel and direction', 'SOAK_RATE').argParser(positive).default(100))
    .addOption(opt('--restart-every <a-b>', 'seconds between peer restarts, random in [a, b]', 'SOAK_RESTART_EVERY').argParser(range).default([2, 5], '2-5'))
    .addOption(opt('--down <a-b>', 'peer down time in ms, random in [a, b]', 'SOAK_DOWN_MS').argParser(range).default([200, 3000], '200-3000'))
    .addOption(opt('--warmup-minutes <n>', 'minutes of load before the memory fit (default: 10, or a third of shorter runs)', 'SOAK_WARMUP_MINUTES').argParser(positive))
    .addOption(opt('--sample-seconds <n>', 'seconds between memory samples (default: 60, or 15 in runs under 10 minutes)', 'SOAK_SAMPLE_SECONDS').argParser(positive))
    .addOption(opt('--heap-bound <MiB/h>', 'largest allowed growth of V8 heap used after GC, after warm-up', 'SOAK_HEAP_BOUND').argParser(positive).default(1))
    .addOption(opt('--rss-bound <MiB/h>', 'largest allowed growth of RSS (sampled after GC), after warm-up', 'SOAK_RSS_BOUND').argParser(positive).default(4))
    .addOption(opt('--daemon-log <file>', "keep the daemon's log (JSON lines) in this file", 'SOAK_DAEMON_LOG'))
    .addHelpText('after', '\nExample: sudo npm run soak -- --minutes 60     (exit status 0 pass, 1 fail; the checks are described at the top of bench/soak.ts)')
    .parse(argv, { from: 'user' })
    .opts<Options>();
}

// ---------------------------------------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rand = ([a, b]: [number, number]) => a + Math.random() * (b - a);

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`soak: timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Packets the qdisc of a device dropped (overflow); the noop qdisc of a carrier-less device counts nothing. */
function qdiscDrops(ns: string, ifname: string): number {
  const list = JSON.parse(nsExec(ns, 'tc', ['-j', '-s', 'qdisc', 'show', 'dev', ifname], { allowFail: true }) || '[]') as Array<{ drops?: number }>;
  return list.reduce((sum, q) => sum + (q.drops ?? 0), 0);
}

/** UDP counters of a namespace (/proc/net/snmp): datagrams dropped on a full socket buffer, all input errors. */
function udpErrors(ns: string): { rcvbuf: number; inErrors: number } {
  const udp = nsExec(ns, 'cat', ['/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Udp:'));
  const head = (udp[0] ?? '').split(/\s+/);
  const vals = (udp[1] ?? '').split(/\s+/);
  const get = (k: string) => Number(vals[head.indexOf(k)] ?? 0);
  return { rcvbuf: get('RcvbufErrors'), inErrors: get('InErrors') };
}

// ---------------------------------------------------------------------------------------------- daemon's links

interface PeerLifetime {
  tx: number;
  rx: number;
  refusedOversize: number;
  tapDrops: number;
  uncreditedTx: number;
}

/** What the daemon's log says about each channel's link and its simulated peers' lifetimes. */
class LinkLog {
  readonly up = new Map<number, boolean>();
  readonly upSince = new Map<number, number>();
  readonly downMs = new Map<number, number>();
  readonly linkDowns = new Map<number, number>();
  readonly lifetimes = new Map<number, PeerLifetime[]>();
  readonly errors: string[] = [];
  private readonly downSince = new Map<number, number>();

  constructor(private readonly channels: number[], private readonly onLinkUp: (ch: number) => void) {}

  line(l: LogLine & { channel?: number; link?: string; counters?: Record<string, unknown>; uncreditedTx?: number }): void {
    if (l.level >= 50) this.errors.push(l.msg);
    const ch = l.channel;
    if (ch === undefined) return;
    const now = Date.now();
    if (l.link === 'down') {
      this.up.set(ch, false);
      this.downSince.set(ch, now);
      this.linkDowns.set(ch, (this.linkDowns.get(ch) ?? 0) + 1);
    } else if (l.link === 'up') {
      const since = this.downSince.get(ch);
      if (since !== undefined) this.downMs.set(ch, (this.downMs.get(ch) ?? 0) + now - since);
      this.downSince.delete(ch);
      this.up.set(ch, true);
      this.upSince.set(ch, now);
      this.onLinkUp(ch);
    }
    if (l.msg === 'simulated peer counters') {
      const c = l.counters;
      const num = (k: string) => (typeof c?.[k] === 'number' ? c[k] : NaN);
      if (!c) this.errors.push(`channel ${ch}: a peer exited without printing its counters`);
      const list = this.lifetimes.get(ch) ?? [];
      list.push({ tx: num('tx'), rx: num('rx'), refusedOversize: num('refusedOversize'), tapDrops: num('tapDrops'), uncreditedTx: l.uncreditedTx ?? NaN });
      this.lifetimes.set(ch, list);
    }
  }

  allUp(): boolean {
    return this.channels.every((c) => this.up.get(c) === true);
  }
}

// ---------------------------------------------------------------------------------------------- load

// The load generator: one agent process per namespace (`ip netns exec NS node soak.js --agent SPEC`),
// one UDP socket per channel bound to the channel's local address, sending numbered datagrams to the
// other side's address at a fixed rate and counting, per channel, datagrams handed to the kernel, send
// calls that failed (by errno: the route is gone while vxN does not exist), datagrams received and
// duplicates. UDP needs no reply, so one lost datagram is exactly one lost frame.

const PORT = 47_474;
const TICK_MS = 10;

interface AgentSpec {
  channels: Array<{ channel: number; local: string; remote: string; size: number }>;
  rate: number;
  durationMs: number;
}

interface AgentCounts {
  sent: number;
  sendErrors: Record<string, number>;
  received: number;
  duplicates: number;
}

async function agent(spec: AgentSpec): Promise<void> {
  const dgram = await import('node:dgram');
  const counts = new Map<number, AgentCounts>();
  const sockets = new Map<number, import('node:dgram').Socket>();
  const capacity = Math.ceil((spec.rate * spec.durationMs) / 1000) + 1000;
  for (const c of spec.channels) {
    const sock = dgram.createSocket({ type: 'udp4' });
    const seen = new Uint8Array(Math.ceil(capacity / 8));
    const count: AgentCounts = { sent: 0, sendErrors: {}, received: 0, duplicates: 0 };
    counts.set(c.channel, count);
    sock.on('message', (msg) => {
      if (msg.length < 4) return;
      const seq = msg.readUInt32BE(0);
      const byte = seq >> 3;
      const bit = 1 << (seq & 7);
      if (byte >= seen.length) return void count.received++;
      if ((seen[byte] as number) & bit) count.duplicates++;
      else {
        seen[byte] = (seen[byte] as number) | bit;
        count.received++;
      }
    });
    sock.on('error', (err) => process.stderr.write(`agent: channel ${c.channel}: ${err.message}\n`));
    await new Promise<void>((resolve) => sock.bind(PORT, c.local, resolve));
    sockets.set(c.channel, sock);
  }
  const lines = (await import('node:readline')).createInterface({ input: process.stdin });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  process.stdout.write('bound\n');
  await next(); // "go"
  const t0 = Date.now();
  const attempts = new Map(spec.channels.map((c) => [c.channel, 0]));
  const payloads = new Map(spec.channels.map((c) => [c.channel, Buffer.alloc(c.size, c.channel)]));
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(Date.now() - t0, spec.durationMs);
      const due = Math.floor((elapsed * spec.rate) / 1000);
      for (const c of spec.channels) {
        const count = counts.get(c.channel) as AgentCounts;
        const sock = sockets.get(c.channel) as import('node:dgram').Socket;
        let n = attempts.get(c.channel) as number;
        for (let k = 0; n < due && k < 50; k++, n++) {
          // Each datagram its own buffer: the send is asynchronous.
          const msg = Buffer.from(payloads.get(c.channel) as Buffer);
          msg.writeUInt32BE(n, 0);
          sock.send(msg, PORT, c.remote, (err) => {
            if (!err) count.sent++;
            else {
              const code = (err as NodeJS.ErrnoException).code ?? 'error';
              count.sendErrors[code] = (count.sendErrors[code] ?? 0) + 1;
            }
          });
        }
        attempts.set(c.channel, n);
      }
      if (elapsed >= spec.durationMs && spec.channels.every((c) => attempts.get(c.channel) === due)) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await new Promise((r) => setTimeout(r, 200)); // the last send callbacks
  process.stdout.write('sent\n');
  await next(); // "report"
  process.stdout.write(`${JSON.stringify(Object.fromEntries(counts))}\n`);
  for (const sock of sockets.values()) sock.close();
  lines.close();
}

class Agent {
  readonly child: ChildProcess;
  private out = '';
  private err = '';
  readonly exited: Promise<number | string>;

  constructor(readonly ns: string, spec: AgentSpec) {
    // A little ahead of the crowd on a shared machine: a stalled receiver overflows its socket buffer.
    this.child = spawn('nice', ['-n', '-5', 'ip', 'netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), '--agent', JSON.stringify(spec)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.err = (this.err + s).slice(-4000)));
    this.exited = new Promise((r) => this.child.once('exit', (code, sig) => r(sig ?? code ?? -1)));
  }

  async waitFor(line: string, timeoutMs: number): Promise<void> {
    await until(`the ${this.ns} load agent says "${line}"`, () => {
      if (this.child.exitCode !== null) throw new Error(`soak: the ${this.ns} load agent exited: ${this.err.trim()}`);
      return this.out.includes(`${line}\n`);
    }, timeoutMs);
  }

  say(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  async report(): Promise<Map<number, AgentCounts>> {
    const before = this.out.length;
    this.say('report');
    await until(`the ${this.ns} load agent reports`, () => this.out.slice(before).includes('}\n') || this.child.exitCode !== null, 30_000);
    const json = this.out.slice(this.out.lastIndexOf('sent\n') + 5).trim();
    const obj = JSON.parse(json) as Record<string, AgentCounts>;
    return new Map(Object.entries(obj).map(([k, v]) => [Number(k), v]));
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

/**
 * ARP frames per interface, direction and kind, as tcpdump sees them in one namespace (`-i any` also sees
 * the vxN devices created after it started). The VxWorks side resolves the Linux address after every
 * restart before the soak can set its static entry again; those few frames are counted here so that a
 * lost one is not taken for a lost datagram.
 */
class ArpWatch {
  readonly child: ChildProcess;
  readonly counts = new Map<string, number>();
  private err = '';
  private listening = false;
  readonly exited: Promise<unknown>;

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-l', '-n', '-e', '-i', 'any', 'arp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = /^\S+ (\S+)\s+(In|Out|B|M|P)\s.*\b(Request|Reply)\b/.exec(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (m) this.add(`${m[1]} ${m[2] === 'Out' ? 'out' : 'in'} ${m[3]}`);
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
      if (this.err.includes('listening on')) this.listening = true;
    });
    this.exited = new Promise((r) => this.child.once('exit', r));
  }

  private add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get(ifname: string, dir: 'in' | 'out', kind: 'Request' | 'Reply'): number {
    return this.counts.get(`${ifname} ${dir} ${kind}`) ?? 0;
  }

  async ready(): Promise<void> {
    await until(`tcpdump listens in ${this.ns}`, () => {
      if (this.child.exitCode !== null) throw new Error(`soak: tcpdump in ${this.ns} exited: ${this.err.trim()}`);
      return this.listening;
    }, 10_000);
  }

  /** Stops the capture; returns the packets the kernel dropped from it (must be 0 for exact counts). */
  async stop(): Promise<number> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    await Promise.race([this.exited, sleep(5000)]);
    const m = /(\d+) packets? dropped by kernel/.exec(this.err);
    return m ? Number(m[1]) : NaN;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------- report

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ')).join('\n');
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const fmtDrops = (d: Record<string, number>) => Object.entries(d).filter(([, n]) => n).map(([k, n]) => `${k}=${n}`).join(' ') || '0';

/** Memory samples at fixed points of the load; `minute` counts from the start of the load. */
interface MemoryPoint {
  minute: number;
  sample: MemorySample;
}

interface MemoryVerdict {
  lines: string[];
  failures: string[];
}

/** The fixed points as a table, and a least-squares line through those after warm-up, per series. */
function memoryVerdict(points: MemoryPoint[], warmupMin: number, bounds: { rss: number; heap: number }): MemoryVerdict {
  const lines: string[] = [];
  const failures: string[] = [];
  const mib = (b: number) => (b / MiB).toFixed(2);
  lines.push(`daemon memory at fixed points (MiB, sampled right after a full GC; * = after the ${warmupMin} min warm-up, fitted):`);
  // RSS = anon (V8 heap, malloc, stacks: where a leak shows) + file (node's binary and libraries) + shmem (rings).
  const opt = (b: number | null) => (b === null ? '?' : mib(b));
  lines.push(table(['min', 'RSS', 'anon', 'file', 'shmem', 'heap used', 'heap total', 'external', 'arrayBuffers'], points.map((p) => [
    `${p.minute >= warmupMin ? '*' : ' '}${p.minute.toFixed(2)}`, mib(p.sample.rss), opt(p.sample.rssAnon), opt(p.sample.rssFile), opt(p.sample.rssShmem),
    mib(p.sample.heapUsed), mib(p.sample.heapTotal), mib(p.sample.external), mib(p.sample.arrayBuffers),
  ])));
  const fitted = points.filter((p) => p.minute >= warmupMin);
  if (fitted.length < 3) {
    failures.push(`memory: only ${fitted.length} samples after the ${warmupMin} min warm-up (3 needed to fit a slope); run longer`);
    return { lines, failures };
  }
  const span = (fitted[fitted.length - 1] as MemoryPoint).minute - (fitted[0] as MemoryPoint).minute;
  for (const [name, pick, bound] of [
    ['heap used after GC', (s: MemorySample) => s.heapUsed, bounds.heap],
    ['RSS', (s: MemorySample) => s.rss, bounds.rss],
  ] as const) {
    const fit = fitLine(fitted.map((p) => [p.minute / 60, pick(p.sample) / MiB] as const));
    const ok = fit.slope <= bound;
    lines.push(`${name}: slope ${fit.slope.toFixed(2)} ± ${fit.slopeError.toFixed(2)} MiB/hour (least squares over ${fitted.length} samples, minutes ${warmupMin}-${(warmupMin + span).toFixed(0)}), bound ${bound} MiB/hour -> ${ok ? 'within' : 'ABOVE'}`);
    if (!ok) failures.push(`memory: ${name} grows ${fit.slope.toFixed(2)} ± ${fit.slopeError.toFixed(2)} MiB/hour after the warm-up (bound ${bound} MiB/hour)`);
  }
  return { lines, failures };
}

// ---------------------------------------------------------------------------------------------- main

let daemon: DaemonProcess | undefined;
const agents: Agent[] = [];
const arpWatches: ArpWatch[] = [];
let workDir: string | undefined;
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const a of agents) a.kill();
  for (const w of arpWatches) w.kill();
  await Promise.all(agents.map((a) => Promise.race([a.exited, sleep(5000)])));
  if (daemon) {
    const d = daemon;
    const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
    await d.stop();
    clearTimeout(timer);
  }
  deleteTestNetns(LNX);
  deleteTestNetns(VX);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

/** A channel's drops by direction, checked against the total (they must add up). */
function dropsOf(s: StatsReply['channels'][number], fail: (msg: string) => void): { tx: number; rx: number; txText: string; rxText: string } {
  const tx = sum(Object.values(s.txDrops));
  const rx = sum(Object.values(s.rxDrops));
  if (tx + rx !== sum(Object.values(s.drops))) fail(`channel ${s.channel}: the daemon's txDrops (${fmtDrops(s.txDrops)}) + rxDrops (${fmtDrops(s.rxDrops)}) do not add up to its drops (${fmtDrops(s.drops)})`);
  return { tx, rx, txText: fmtDrops(s.txDrops), rxText: fmtDrops(s.rxDrops) };
}

async function main(o: Options): Promise<number> {
  requireRoot();
  requireTools('tc');
  const loadMs = o.minutes * 60_000;
  const warmupMin = o.warmupMinutes ?? Math.min(10, o.minutes / 3);
  const sampleMs = (o.sampleSeconds ?? (o.minutes >= 10 ? 60 : 15)) * 1000;
  const t0 = Date.now();
  const log = (msg: string) => process.stderr.write(`[soak +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);

  // The packaged board file with health probes off: their ICMP would mix into the exact counts.
  workDir = mkdtempSync(join(tmpdir(), 'rpe-soak-'));
  const config = join(workDir, 'soak.yaml');
  writeFileSync(config, `${lantaConfig}transport: sim\nframing: raw\nhealth:\n  intervalMs: 0\n`);
  const plans = (await loadPlan({ configPath: config })).plans.filter((p) => p.enabled).sort((a, b) => a.channel - b.channel);
  const channels = plans.map((p) => p.channel);
  if (channels.length === 0) throw new Error('soak: the plan of config/lanta.dts has no enabled channel');
  const planOf = new Map(plans.map((p) => [p.channel, p]));
  const linuxAddr = (n: number) => planOf.get(n)?.address.split('/')[0] as string;
  const peerAddr = (n: number) => planOf.get(n)?.peerAddress as string;
  // Datagram size per channel: a large one on the 8 KiB channel, a full frame on the 512-byte ones.
  const sizeOf = (n: number) => {
    const mtu = planOf.get(n)?.mtu ?? 482;
    return mtu > 1500 ? 1472 : mtu - 28;
  };
  log(`${channels.length} channels, ${o.minutes} min of load, ${o.rate} datagrams/s each way per channel, peer restart every ${o.restartEvery.join('-')} s, down ${o.down.join('-')} ms`);
  log(`memory: RSS and heap after GC every ${sampleMs / 1000} s; slopes fitted after ${warmupMin} min must stay within heap ${o.heapBound} MiB/hour, RSS ${o.rssBound} MiB/hour`);

  createTestNetns(LNX);
  createTestNetns(VX);
  const arpLnx = new ArpWatch(LNX);
  const arpVx = new ArpWatch(VX);
  arpWatches.push(arpLnx, arpVx);
  await arpLnx.ready();
  await arpVx.ready();

  // Static neighbour entries so no ARP traffic mixes into the counts (vxN's go with vxN at each restart).
  const linuxNeighbour = (n: number) =>
    sh('ip', ['-n', LNX, 'neigh', 'replace', peerAddr(n), 'lladdr', channelMac(n, 'peer'), 'nud', 'permanent', 'dev', `rpmsg${n}`]);
  const peerNeighbour = (n: number) =>
    void run('ip', ['-n', VX, 'neigh', 'replace', linuxAddr(n), 'lladdr', channelMac(n, 'linux'), 'nud', 'permanent', 'dev', `vx${n}`]).catch(() => undefined);

  const links = new LinkLog(channels, peerNeighbour);
  const d = (daemon = new DaemonProcess(
    ['--config', config, '--transport', 'sim', '--netns', LNX, '--peer-netns', VX],
    join(workDir, 'control.sock'),
    { env: { RPMSG_ETH_LOG: 'info' }, nodeArgs: HEAP_PROBE_NODE_ARGS },
  ));
  d.onLine((l) => links.line(l));
  if (o.daemonLog) d.child.stderr?.pipe(createWriteStream(o.daemonLog));
  const probe = new MemoryProbe(d.child);
  await d.ready(180_000);
  await until('every link is up', () => links.allUp(), 30_000);
  for (const n of channels) {
    linuxNeighbour(n);
    peerNeighbour(n);
  }
  await sleep(500);

  const spec = (side: 'lnx' | 'vx'): AgentSpec => ({
    rate: o.rate,
    durationMs: loadMs,
    channels: channels.map((n) => ({
      channel: n,
      local: side === 'lnx' ? linuxAddr(n) : peerAddr(n),
      remote: side === 'lnx' ? peerAddr(n) : linuxAddr(n),
      size: sizeOf(n),
    })),
  });
  const lnxAgent = new Agent(LNX, spec('lnx'));
  const vxAgent = new Agent(VX, spec('vx'));
  agents.push(lnxAgent, vxAgent);
  await lnxAgent.waitFor('bound', 30_000);
  await vxAgent.waitFor('bound', 30_000);
  const udpBefore = { lnx: udpErrors(LNX), vx: udpErrors(VX) };
  log('daemon ready, load agents bound; starting load');

  const loadStart = Date.now();
  lnxAgent.say('go');
  vxAgent.say('go');

  // Random peer restarts while the load runs.
  const restarts = new Map<number, number>();
  const restartErrors: string[] = [];
  const restartLoop = (async () => {
    await sleep(rand(o.restartEvery) * 1000);
    while (Date.now() - loadStart < loadMs - 3_000) {
      // Channels up for a second at least: by then the VxWorks side has its neighbour entry (no ARP
      // frame can be lost with the next restart and blur the datagram counts).
      const candidates = channels.filter((c) => links.up.get(c) === true && Date.now() - (links.upSince.get(c) ?? 0) >= 1000);
      const ch = candidates[Math.floor(Math.random() * candidates.length)];
      if (ch !== undefined) {
        try {
          await controlRequest(d.controlSocket, { cmd: 'peer-restart', channel: ch, downMs: Math.round(rand(o.down)) });
          restarts.set(ch, (restarts.get(ch) ?? 0) + 1);
        } catch (err) {
          restartErrors.push(`peer-restart ${ch}: ${(err as Error).message}`);
        }
      }
      await sleep(rand(o.restartEvery) * 1000);
    }
  })();

  // Memory at fixed points of the load: its start, every sampleMs, its end.
  const memory: MemoryPoint[] = [];
  const memoryErrors: string[] = [];
  const sampler = (async () => {
    for (let k = 0; k * sampleMs <= loadMs; k++) {
      await sleep(loadStart + k * sampleMs - Date.now());
      try {
        memory.push({ minute: (k * sampleMs) / 60_000, sample: await probe.sample() });
      } catch (err) {
        memoryErrors.push(`memory sample at ${(k * sampleMs) / 1000} s: ${(err as Error).message}`);
        continue;
      }
      const s = (memory[memory.length - 1] as MemoryPoint).sample;
      log(`load ${((Date.now() - loadStart) / 60_000).toFixed(1)}/${o.minutes} min, ${sum(restarts.values())} peer restarts, ` +
        `daemon RSS ${(s.rss / MiB).toFixed(1)} MiB, heap used after GC ${(s.heapUsed / MiB).toFixed(2)} MiB`);
    }
  })();

  await lnxAgent.waitFor('sent', loadMs + 120_000);
  await vxAgent.waitFor('sent', 120_000);
  await restartLoop;
  await sampler;
  log(`load done after ${((Date.now() - loadStart) / 60_000).toFixed(2)} min`);

  // Quiesce, then end every peer lifetime (no load) so every lifetime's counters are in.
  await until('every link is up after the load', () => links.allUp(), 15_000);
  await sleep(2000);
  const lnxCounts = await lnxAgent.report();
  const vxCounts = await vxAgent.report();
  const udpAfter = { lnx: udpErrors(LNX), vx: udpErrors(VX) };
  for (const n of channels) await controlRequest(d.controlSocket, { cmd: 'peer-restart', channel: n, downMs: 200 });
  await until('every peer restarted and reported its counters', () =>
    links.allUp() && channels.every((c) => (links.lifetimes.get(c)?.length ?? 0) === (links.linkDowns.get(c) ?? 0)), 30_000);
  await sleep(500);

  // A consistent snapshot: kernel counters unchanged across the daemon's stats.
  let k1: Map<string, LinkCounters> | undefined;
  let stats: Map<number, StatsReply['channels'][number]> | undefined;
  for (let i = 0; ; i++) {
    k1 = allLinkStats(LNX);
    const reply = (await controlRequest(d.controlSocket, { cmd: 'stats' })) as StatsReply;
    stats = new Map(reply.channels.map((c) => [c.channel, c]));
    const k2 = allLinkStats(LNX);
    if (channels.every((n) => JSON.stringify(k1?.get(`rpmsg${n}`)) === JSON.stringify(k2.get(`rpmsg${n}`)))) break;
    if (i === 9) throw new Error('soak: counters kept moving after the load stopped');
    await sleep(500);
  }
  const qdrops = new Map(channels.map((n) => [n, qdiscDrops(LNX, `rpmsg${n}`)]));
  const arpDropped = { lnx: await arpLnx.stop(), vx: await arpVx.stop() };

  // ---- accounting
  const failures: string[] = [];
  const fail = (s: string) => failures.push(s);
  const rowsA: string[][] = [];
  const rowsB: string[][] = [];
  const rowsC: string[][] = [];
  const totals = { sent: 0, received: 0, lost: 0, restarts: 0, sendErrors: 0, restLV: 0, restVL: 0, lives: 0 };
  for (const n of channels) {
    const ifname = `rpmsg${n}`;
    const k = k1.get(ifname);
    const s = stats.get(n);
    const l = lnxCounts.get(n);
    const v = vxCounts.get(n);
    if (!k || !s || !l || !v) {
      fail(`channel ${n}: missing ${!k ? 'kernel link' : !s ? 'daemon stats' : 'load counts'}`);
      continue;
    }
    const drops = dropsOf(s, fail);
    // A. Linux TAP <-> daemon.
    const aTx = k.tx.packets - (s.tx.packets + drops.tx);
    const aRx = k.rx.packets - s.rx.packets;
    if (aTx !== 0) fail(`channel ${n} A/tx: the daemon read ${k.tx.packets} frames from ${ifname} (kernel), sent ${s.tx.packets} and dropped ${drops.tx}: ${aTx} unaccounted`);
    if (aRx !== 0) fail(`channel ${n} A/rx: the daemon wrote ${k.rx.packets} frames to ${ifname} (kernel), counted ${s.rx.packets}: ${aRx} unaccounted`);
    rowsA.push([ifname, String(k.tx.packets), String(s.tx.packets), drops.txText, String(aTx), String(k.rx.packets), String(s.rx.packets), String(aRx)]);

    // B. across the link.
    const lives = links.lifetimes.get(n) ?? [];
    const over = (f: (p: PeerLifetime) => number) => sum(lives.map(f));
    const peerTx = over((p) => p.tx);
    const peerRx = over((p) => p.rx);
    const peerDrops = over((p) => p.tapDrops + p.refusedOversize);
    const uncredited = over((p) => p.uncreditedTx);
    const lostTx = s.tx.packets - (peerRx + peerDrops);
    const lostRx = peerTx - (s.rx.packets + drops.rx);
    const rxBound = lives.length * Math.floor((planOf.get(n)?.numBufs ?? 0) / 2);
    if (!Number.isFinite(lostTx + lostRx)) fail(`channel ${n} B: a peer lifetime has no counters`);
    if (!(lostTx >= 0 && lostTx <= uncredited)) fail(`channel ${n} B/tx: the daemon sent ${s.tx.packets}, its peers took ${peerRx + peerDrops}: ${lostTx} unaccounted (lost in flight must be 0..${uncredited}, the frames uncredited at link loss)`);
    if (!(lostRx >= 0 && lostRx <= rxBound)) fail(`channel ${n} B/rx: the peers sent ${peerTx}, the daemon took ${s.rx.packets + drops.rx}: ${lostRx} unaccounted (lost in flight must be 0..${rxBound})`);
    rowsB.push([ifname, String(lives.length), String(s.tx.packets), String(peerRx), String(peerDrops), String(lostTx), `${uncredited}`,
      String(peerTx), String(s.rx.packets), drops.rxText, String(lostRx)]);

    // C. end to end, per direction, in datagrams.
    const errs = (c: AgentCounts) => sum(Object.values(c.sendErrors));
    const kDrops = k.tx.dropped + (qdrops.get(n) ?? 0);
    // Linux -> VxWorks: every datagram the kernel took is received, or dropped by rpmsgN's kernel side
    // (no carrier / queue full), by the daemon, by a peer, or lost on the ring with a peer.
    // ARP: Linux answers every request it gets (arp_ignore 0); a reply that did not reach vxN, or a
    // request from vxN that did not reach rpmsgN, was lost in one of the frame counters (or vxN's queue).
    const arpReqIn = arpLnx.get(ifname, 'in', 'Request');
    const arpLostLV = arpReqIn - arpVx.get(`vx${n}`, 'in', 'Reply');
    const arpLostVL = arpVx.get(`vx${n}`, 'out', 'Request') - arpReqIn;
    const lostLV = l.sent - v.received;
    const restLV = lostLV - (kDrops + drops.tx + peerDrops + lostTx - arpLostLV);
    // VxWorks -> Linux: sends that failed (no vxN while its peer was down) are not frames; the rest are
    // received, dropped by the daemon, lost on the ring, or were still queued in vxN when its peer exited.
    const lostVL = v.sent - l.received;
    // An ARP request lost in a counter makes this short by one; one lost in vxN's queue does not.
    const restVL = lostVL - (drops.rx + lostRx) + arpLostVL;
    // What is left over was dropped by the receiving socket (counted per namespace only: checked in
    // total below) or, VxWorks -> Linux, still queued in vxN when its peer exited; never negative.
    if (l.duplicates + v.duplicates > 0) fail(`channel ${n} C: ${l.duplicates + v.duplicates} duplicate datagrams`);
    if (restLV < 0) fail(`channel ${n} C/Linux->VxWorks: ${l.sent} sent, ${v.received} received, ${kDrops + drops.tx + peerDrops + lostTx} counted lost: ${-restLV} counted twice`);
    if (arpLostLV < 0 || arpLostVL < 0) fail(`channel ${n}: ARP counts do not add up (requests from vx${n} ${arpVx.get(`vx${n}`, 'out', 'Request')}, at ${ifname} ${arpReqIn}, replies at vx${n} ${arpVx.get(`vx${n}`, 'in', 'Reply')})`);
    if (restVL < 0) fail(`channel ${n} C/VxWorks->Linux: ${v.sent} sent, ${l.received} received, ${drops.rx + lostRx} counted lost: ${-restVL} counted twice`);
    totals.restLV += restLV;
    totals.restVL += restVL;
    totals.lives += lives.length;
    rowsC.push([ifname, String(restarts.get(n) ?? 0), ((links.downMs.get(n) ?? 0) / 1000).toFixed(1),
      String(l.sent), String(v.received), String(kDrops), String(drops.tx + peerDrops), String(lostTx), String(arpLostLV), String(restLV),
      String(v.sent), String(errs(v)), String(l.received), String(drops.rx), String(lostRx), String(arpLostVL), String(restVL)]);
    totals.sent += l.sent + v.sent;
    totals.received += l.received + v.received;
    totals.lost += lostLV + lostVL;
    totals.sendErrors += errs(v) + errs(l);
    totals.restarts += restarts.get(n) ?? 0;
  }
  for (const e of restartErrors) fail(e);
  if (arpDropped.lnx !== 0 || arpDropped.vx !== 0) fail(`the ARP capture lost frames (dropped by kernel: ${LNX} ${arpDropped.lnx}, ${VX} ${arpDropped.vx})`);
  const rcvbuf = { lnx: udpAfter.lnx.rcvbuf - udpBefore.lnx.rcvbuf, vx: udpAfter.vx.rcvbuf - udpBefore.vx.rcvbuf };
  for (const side of ['lnx', 'vx'] as const) {
    const other = udpAfter[side].inErrors - udpBefore[side].inErrors - rcvbuf[side];
    if (other) fail(`${side === 'lnx' ? LNX : VX}: ${other} UDP input errors other than full socket buffers`);
  }
  // Linux -> VxWorks: nothing but the VxWorks-side agent's full socket buffers may be left over.
  if (totals.restLV !== rcvbuf.vx) fail(`C/Linux->VxWorks: ${totals.restLV} datagrams lost beyond the counted drops, ${rcvbuf.vx} dropped on full socket buffers in ${VX}: ${totals.restLV - rcvbuf.vx} unaccounted`);
  // VxWorks -> Linux: the Linux-side agent's full socket buffers, plus what vxN still held when its peer
  // exited (the VxWorks stack's queue goes with the core): at most a frame or two per peer exit at this rate.
  const inVxQueue = totals.restVL - rcvbuf.lnx;
  const perExit = Math.max(2, Math.ceil(o.rate * 0.05));
  if (!(inVxQueue >= 0 && inVxQueue <= perExit * totals.lives)) fail(`C/VxWorks->Linux: ${totals.restVL} datagrams lost beyond the counted drops, ${rcvbuf.lnx} dropped on full socket buffers in ${LNX}: ${inVxQueue} left (must be 0..${perExit * totals.lives}: ${perExit} per peer exit, 50 ms of load, for frames left in vxN at peer exit)`);

  // ---- not stuck: every channel passes traffic both ways with the load gone.
  const checks = await Promise.all(channels.map(async (n) => {
    const one = async (ns: string, target: string) => {
      try {
        // Three replies within a 10 s deadline: a stuck channel fails, a slow machine does not (with 2 s
        // per reply, a 60-minute run at load 15 failed a channel whose peer had answered all three).
        const { stdout } = await run('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '3', '-i', '0.2', '-w', '10', target], { encoding: 'utf8' });
        return /3 received/.test(stdout);
      } catch {
        return false;
      }
    };
    return { n, l: await one(LNX, peerAddr(n)), v: await one(VX, linuxAddr(n)) };
  }));
  for (const c of checks) if (!c.l || !c.v) fail(`channel ${c.n}: stuck after the load (${[c.l ? '' : 'Linux->VxWorks', c.v ? '' : 'VxWorks->Linux'].filter(Boolean).join(', ')} ping failed)`);

  // ---- memory.
  for (const e of memoryErrors) fail(e);
  const mem = memoryVerdict(memory, warmupMin, { rss: o.rssBound, heap: o.heapBound });
  for (const e of mem.failures) fail(e);

  if (d.child.exitCode !== null) fail(`the daemon exited during the run (${String(d.child.exitCode)})`);
  for (const e of links.errors.slice(0, 10)) fail(`daemon logged an error: ${e}`);

  // ---- print.
  const out: string[] = [];
  out.push(`rpmsg-eth soak: ${channels.length} channels of config/lanta.dts, ${o.minutes} min of UDP load at ${o.rate} datagrams/s each way per channel,`);
  out.push(`${totals.restarts} random peer restarts (down ${o.down.join('-')} ms, every ${o.restartEvery.join('-')} s) + 1 final restart per channel`);
  out.push('');
  out.push('A. Linux TAP <-> daemon, frames (exact): kernel tx_packets = daemon tx + tx drops; kernel rx_packets = daemon rx');
  out.push(table(['iface', 'k.tx', 'd.tx', 'd.txdrops', 'diff', 'k.rx', 'd.rx', 'diff'], rowsA));
  out.push('');
  out.push('B. daemon <-> simulated peer, frames, summed over peer lifetimes: lost = on the ring when the peer went away');
  out.push(table(['iface', 'lives', 'd.tx', 'p.rx', 'p.drop', 'lost', '(<= uncred)', 'p.tx', 'd.rx', 'd.rxdrops', 'lost'], rowsB));
  out.push('');
  out.push('C. end to end, datagrams of the load generator. L->V: sent = recv + kernel drops (rpmsgN: no carrier, queue full) + daemon/peer drops');
  out.push('   + lost on ring - ARP frames among those losses + rest. V->L: sent = recv + daemon drops + lost on ring - ARP + rest.');
  out.push('   rest: dropped on a full UDP socket buffer (checked in total below), V->L also left in vxN at peer exit; send err: refused, no vxN');
  out.push(table(['iface', 'restarts', 'down s', 'L.sent', 'V.recv', 'k.drop', 'd+p drop', 'ring', '-arp', 'rest', 'V.sent', 'send err', 'L.recv', 'd.drop', 'ring', '-arp', 'rest'], rowsC));
  out.push('');
  out.push(`totals: ${totals.sent} datagrams sent, ${totals.received} received, ${totals.lost} lost (${((100 * totals.lost) / Math.max(1, totals.sent)).toFixed(3)}%); ${totals.sendErrors} sends refused (no route while a peer was down)`);
  out.push(`  rest L->V ${totals.restLV} = ${rcvbuf.vx} dropped on full UDP socket buffers in ${VX} (exact match required)`);
  out.push(`  rest V->L ${totals.restVL} = ${rcvbuf.lnx} dropped on full UDP socket buffers in ${LNX} + ${totals.restVL - rcvbuf.lnx} left in vxN at peer exit (allowed 0..${perExit * totals.lives}: ${perExit} x ${totals.lives} peer exits)`);
  out.push(`not stuck after the load (3 ping replies each way within 10 s): ${checks.filter((c) => c.l && c.v).length}/${channels.length} channels pass`);
  out.push('');
  out.push(...mem.lines);
  out.push(failures.length ? `FAIL (${failures.length}):\n  ${failures.join('\n  ')}` : 'PASS: every frame accounted for, no channel stuck, memory within its bounds');
  process.stdout.write(`${out.join('\n')}\n`);
  return failures.length ? 1 : 0;
}

if (process.argv[2] === '--agent') {
  agent(JSON.parse(process.argv[3] ?? '{}') as AgentSpec).then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`agent: ${err.message}\n`);
      process.exit(1);
    },
  );
} else {
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`soak: ${sig}, cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  Promise.resolve()
    .then(() => main(parseOptions(process.argv.slice(2))))
    .then(async (code) => {
      await cleanup();
      process.exitCode = code;
    })
    .catch(async (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      await cleanup().catch((e: Error) => process.stderr.write(`cleanup: ${e.message}\n`));
      process.exitCode = 1;
    });
}
