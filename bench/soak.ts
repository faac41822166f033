// `npm run soak` (not part of CI): every channel of config/lanta.dts under UDP load in both directions
// for SOAK_MINUTES (default 10; or --minutes M) while simulated peers restart at random (`peer-restart N
// --down Nms` over the control socket: random channel, random down time), then checks that
//   - every frame is accounted for, hop by hop and end to end (A, B, C below);
//   - no channel is stuck: each passes pings both ways once the load has stopped;
//   - the daemon's memory is flat: VmRSS from /proc/PID/status every 5 s; the median of the first minute
//     after warm-up (20% of the run, at most 2 min) against the median of the last minute, limit below.
// Prints the figures as tables and exits non-zero, saying what failed, if any check fails. Creates its
// own namespaces (rpe-soak-lnx, rpe-soak-vx) and removes them, also on failure and on Ctrl-C.
//
// Options (flag or environment):
//   --minutes M          SOAK_MINUTES        load duration (default 10)
//   --rate N             SOAK_RATE           UDP datagrams/s per channel and direction (default 100)
//   --restart-every A-B  SOAK_RESTART_EVERY  seconds between peer restarts, random in [A, B] (default 2-5)
//   --down A-B           SOAK_DOWN_MS        peer down time in ms, random in [A, B] (default 200-3000)
//   --rss-limit-mib N    SOAK_RSS_LIMIT_MIB  largest allowed RSS growth after warm-up (default 10)
//                        SOAK_DAEMON_LOG     file to keep the daemon's log in
//
// Accounting, per channel (frames; "tx" = Linux -> VxWorks, "rx" = VxWorks -> Linux):
//   A. Linux TAP <-> daemon, exact (the kernel's counters of rpmsgN against the daemon's):
//        kernel tx_packets (frames the daemon read) = daemon tx.packets + daemon tx drops
//        kernel rx_packets (frames the daemon wrote) = daemon rx.packets
//      Daemon drops by direction: txDrops/rxDrops when they add up to `drops`; otherwise (reported as a
//      failure) by reason, as the code takes them (src/bridge/bridge.ts, src/transport/sim.ts):
//      linkDown, oversize, framing on the tx path; busy, runt (the TAP refused a write) on the rx path.
//   B. daemon <-> simulated peer across the link. The peer prints its counters at exit; the daemon logs
//      them per peer lifetime ("simulated peer counters") with the frames it had sent and not had
//      credited when the link went ("uncreditedTx"). Every lifetime is ended at the end (one last
//      restart of every peer, with no load), so the sums cover every frame:
//        daemon tx.packets = sum(peer rx + peer tapDrops + peer refusedOversize) + lost on the ring (tx)
//        sum(peer tx)      = daemon rx.packets + daemon rx drops + lost on the ring (rx)
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
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/daemon/cli.js');
const LNX = 'rpe-soak-lnx';
const VX = 'rpe-soak-vx';

// ---------------------------------------------------------------------------------------------- options

function option(flag: string, env: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1] as string;
  const eq = process.argv.find((a) => a.startsWith(`${flag}=`));
  if (eq) return eq.slice(flag.length + 1);
  return process.env[env] ?? fallback;
}

function range(text: string, what: string): [number, number] {
  const m = /^([\d.]+)(?:-([\d.]+))?$/.exec(text);
  if (!m) throw new Error(`soak: ${what}: expected A or A-B, not "${text}"`);
  const a = Number(m[1]);
  const b = Number(m[2] ?? m[1]);
  if (!(a >= 0 && b >= a)) throw new Error(`soak: ${what}: bad range "${text}"`);
  return [a, b];
}

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`soak: ${what}: expected a positive number, not "${text}"`);
  return n;
}

const minutes = positive(option('--minutes', 'SOAK_MINUTES', '10'), 'minutes');
const rate = positive(option('--rate', 'SOAK_RATE', '100'), 'rate');
const restartEvery = range(option('--restart-every', 'SOAK_RESTART_EVERY', '2-5'), 'restart interval');
const downMs = range(option('--down', 'SOAK_DOWN_MS', '200-3000'), 'down time');
const rssLimitMiB = positive(option('--rss-limit-mib', 'SOAK_RSS_LIMIT_MIB', '10'), 'RSS limit');
const loadMs = minutes * 60_000;
const warmupMs = Math.min(120_000, loadMs * 0.2);
const RSS_EVERY_MS = 5_000;

// ---------------------------------------------------------------------------------------------- helpers

function sh(cmd: string, args: string[], allowFail = false): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rand = ([a, b]: [number, number]) => a + Math.random() * (b - a);
const peerAddr = (n: number) => `169.254.${100 + n}.2`;
const linuxAddr = (n: number) => `169.254.${100 + n}.1`;
const hex = (n: number) => n.toString(16).padStart(2, '0');
const linuxMac = (n: number) => `02:72:70:00:00:${hex(n)}`;
const peerMac = (n: number) => `02:72:70:01:00:${hex(n)}`;

function createNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) sh('ip', ['netns', 'delete', name]);
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  // No IPv6: no autoconfiguration or router solicitations mixing into exact counts.
  sh('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  sh('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
}

function deleteNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) sh('ip', ['netns', 'delete', name], true);
}

interface KernelLink {
  ifname: string;
  mtu: number;
  flags: string[];
  stats64: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } };
}

function kernelLinks(ns: string): Map<string, KernelLink> {
  const list = JSON.parse(sh('ip', ['-n', ns, '-j', '-s', 'link', 'show'])) as KernelLink[];
  return new Map(list.map((l) => [l.ifname, l]));
}

/** Packets the qdisc of a device dropped (overflow); the noop qdisc of a carrier-less device counts nothing. */
function qdiscDrops(ns: string, ifname: string): number {
  const list = JSON.parse(sh('ip', ['netns', 'exec', ns, 'tc', '-j', '-s', 'qdisc', 'show', 'dev', ifname], true) || '[]') as Array<{
    drops?: number;
  }>;
  return list.reduce((sum, q) => sum + (q.drops ?? 0), 0);
}

interface ChannelStats {
  channel: number;
  ifname: string;
  link: string;
  linkChanges: number;
  tx: { packets: number; bytes: number };
  rx: { packets: number; bytes: number };
  drops: Record<string, number>;
  /** Newer daemons split drops by direction. */
  txDrops?: Record<string, number>;
  rxDrops?: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------- daemon

interface PeerLifetime {
  tx: number;
  rx: number;
  refusedOversize: number;
  tapDrops: number;
  uncreditedTx: number;
}

class Daemon {
  readonly child: ChildProcess;
  readonly control: string;
  readonly exited: Promise<number | string>;
  readonly up = new Map<number, boolean>();
  readonly downSince = new Map<number, number>();
  readonly upSince = new Map<number, number>();
  readonly downMs = new Map<number, number>();
  readonly linkDowns = new Map<number, number>();
  readonly lifetimes = new Map<number, PeerLifetime[]>();
  readonly errors: string[] = [];
  ready = false;
  private tail = '';
  private onLinkUp: (ch: number) => void = () => undefined;

  constructor(private readonly channels: number[], config: string, control: string, logFile?: string) {
    this.control = control;
    this.child = spawn(
      process.execPath,
      [cli, 'up', '--config', config, '--transport', 'sim', '--netns', LNX, '--peer-netns', VX, '--control-socket', control],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RPMSG_ETH_LOG: 'info' } },
    );
    if (logFile) this.child.stderr?.pipe(createWriteStream(logFile));
    this.exited = new Promise((r) => this.child.once('exit', (code, sig) => r(sig ?? code ?? -1)));
    let buf = '';
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      this.tail = (this.tail + chunk).slice(-4000);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  }

  whenLinkUp(f: (ch: number) => void): void {
    this.onLinkUp = f;
  }

  private line(text: string): void {
    let l: { level?: number; msg?: string; channel?: number; link?: string; counters?: Record<string, unknown>; uncreditedTx?: number; time?: number };
    try {
      l = JSON.parse(text) as typeof l;
    } catch {
      this.errors.push(`unparsable log line: ${text.slice(0, 200)}`);
      return;
    }
    if ((l.level ?? 0) >= 50) this.errors.push(`${l.msg ?? text}`);
    if (typeof l.msg === 'string' && l.msg.startsWith('ready:')) this.ready = true;
    const ch = l.channel;
    if (ch === undefined) return;
    if (l.link === 'up' || l.link === 'down') {
      const now = Date.now();
      if (l.link === 'down') {
        this.up.set(ch, false);
        this.downSince.set(ch, now);
        this.linkDowns.set(ch, (this.linkDowns.get(ch) ?? 0) + 1);
      } else {
        const since = this.downSince.get(ch);
        if (since !== undefined) this.downMs.set(ch, (this.downMs.get(ch) ?? 0) + now - since);
        this.downSince.delete(ch);
        this.up.set(ch, true);
        this.upSince.set(ch, now);
        this.onLinkUp(ch);
      }
    }
    if (l.msg === 'simulated peer counters') {
      const c = l.counters;
      const num = (k: string) => (typeof c?.[k] === 'number' ? (c[k] as number) : NaN);
      if (!c) this.errors.push(`channel ${ch}: a peer exited without printing its counters`);
      const list = this.lifetimes.get(ch) ?? [];
      list.push({ tx: num('tx'), rx: num('rx'), refusedOversize: num('refusedOversize'), tapDrops: num('tapDrops'), uncreditedTx: l.uncreditedTx ?? NaN });
      this.lifetimes.set(ch, list);
    }
  }

  allUp(): boolean {
    return this.channels.every((c) => this.up.get(c) === true);
  }

  async cli(args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [cli, ...args, '--control-socket', this.control], { encoding: 'utf8' });
    return stdout;
  }

  async stats(): Promise<Map<number, ChannelStats>> {
    const reply = JSON.parse(await this.cli(['stats', '--json'])) as { channels: ChannelStats[] };
    return new Map(reply.channels.map((c) => [c.channel, c]));
  }

  rssKiB(): number | undefined {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  get stderrTail(): string {
    return this.tail;
  }

  async stop(): Promise<number | string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const how = await this.exited;
    clearTimeout(timer);
    return how;
  }
}

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`soak: timed out waiting until ${what}`);
    await sleep(50);
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

export interface AgentCounts {
  sent: number;
  sendErrors: Record<string, number>;
  received: number;
  duplicates: number;
}

async function agent(spec: AgentSpec): Promise<void> {
  const dgram = await import('node:dgram');
  const counts = new Map<number, AgentCounts>();
  const sockets = new Map<number, import('node:dgram').Socket>();
  const seen = new Map<number, Uint8Array>();
  const capacity = Math.ceil((spec.rate * spec.durationMs) / 1000) + 1000;
  for (const c of spec.channels) {
    const sock = dgram.createSocket({ type: 'udp4' });
    const bits = new Uint8Array(Math.ceil(capacity / 8));
    const count: AgentCounts = { sent: 0, sendErrors: {}, received: 0, duplicates: 0 };
    counts.set(c.channel, count);
    seen.set(c.channel, bits);
    sock.on('message', (msg) => {
      if (msg.length < 4) return;
      const seq = msg.readUInt32BE(0);
      const byte = seq >> 3;
      const bit = 1 << (seq & 7);
      if (byte >= bits.length) return void count.received++;
      if ((bits[byte] as number) & bit) count.duplicates++;
      else {
        bits[byte] = (bits[byte] as number) | bit;
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

  get stderr(): string {
    return this.err;
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

/** Static neighbour entries so no ARP traffic mixes into the counts (vxN's go with vxN at each restart). */
function linuxNeighbour(n: number): void {
  sh('ip', ['-n', LNX, 'neigh', 'replace', peerAddr(n), 'lladdr', peerMac(n), 'nud', 'permanent', 'dev', `rpmsg${n}`]);
}

function peerNeighbour(n: number): void {
  void run('ip', ['-n', VX, 'neigh', 'replace', linuxAddr(n), 'lladdr', linuxMac(n), 'nud', 'permanent', 'dev', `vx${n}`]).catch(() => undefined);
}

/** UDP counters of a namespace (/proc/net/snmp): datagrams dropped on a full socket buffer, all input errors. */
function udpErrors(ns: string): { rcvbuf: number; inErrors: number } {
  const text = sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']);
  const udp = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const head = (udp[0] ?? '').split(/\s+/);
  const vals = (udp[1] ?? '').split(/\s+/);
  const get = (k: string) => Number(vals[head.indexOf(k)] ?? 0);
  return { rcvbuf: get('RcvbufErrors'), inErrors: get('InErrors') };
}

// ---------------------------------------------------------------------------------------------- report

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ')).join('\n');
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function slopePerMin(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? (num / den) * 60_000 : 0;
}

// ---------------------------------------------------------------------------------------------- main

let daemon: Daemon | undefined;
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
  if (daemon) await daemon.stop();
  deleteNetns(LNX);
  deleteNetns(VX);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

/**
 * The daemon's drops per direction. `drops` has both directions; by the code (src/bridge/bridge.ts,
 * src/transport/sim.ts) linkDown, oversize and framing are taken on the tx path, busy and runt on the rx
 * path. Newer daemons also split them (txDrops/rxDrops): used when they add up to `drops`, otherwise a
 * failure is reported and the split by reason is used.
 */
function dropsOf(s: ChannelStats, fail: (msg: string) => void): { tx: number; rx: number; txText: string; rxText: string } {
  const fmt = (d: Record<string, number>) => Object.entries(d).filter(([, n]) => n).map(([k, n]) => `${k}=${n}`).join(' ') || '0';
  const total = (d: Record<string, number>) => Object.values(d).reduce((a, b) => a + b, 0);
  if (s.txDrops && s.rxDrops) {
    if (total(s.txDrops) + total(s.rxDrops) === total(s.drops)) return { tx: total(s.txDrops), rx: total(s.rxDrops), txText: fmt(s.txDrops), rxText: fmt(s.rxDrops) };
    fail(`channel ${s.channel}: the daemon's txDrops (${fmt(s.txDrops)}) + rxDrops (${fmt(s.rxDrops)}) do not add up to its drops (${fmt(s.drops)})`);
  }
  const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, s.drops[k] ?? 0]));
  const tx = pick(['linkDown', 'oversize', 'framing']);
  const rx = pick(['busy', 'runt']);
  return { tx: total(tx), rx: total(rx), txText: fmt(tx), rxText: fmt(rx) };
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('soak: needs root (network namespaces, TAP devices)');
  for (const tool of ['ip', 'tc', 'tcpdump', 'ping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`soak: needs "${tool}" (scripts/install-deps.sh installs it)`);
    }
  }
  const plan = JSON.parse(sh(process.execPath, [cli, 'plan', join(root, 'config/lanta.dts'), '--json'])) as unknown;
  const planned = (Array.isArray(plan) ? plan : (plan as { channels?: unknown[] }).channels ?? []) as Array<{
    channel: number;
    mtu: number;
    numBufs: number;
  }>;
  const channels = planned.map((c) => c.channel).sort((a, b) => a - b);
  if (channels.length === 0) throw new Error('soak: "rpmsg-eth plan --json" listed no channels');
  const mtuOf = new Map(planned.map((c) => [c.channel, c.mtu]));
  const slotsOf = new Map(planned.map((c) => [c.channel, Math.floor(c.numBufs / 2)]));
  // Datagram size per channel: a large one on the 8 KiB channel, a full frame on the 512-byte ones.
  const sizeOf = (n: number) => {
    const mtu = mtuOf.get(n) ?? 482;
    return mtu > 1500 ? 1472 : mtu - 28;
  };

  const t0 = Date.now();
  const log = (msg: string) => process.stderr.write(`[soak +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
  log(`${channels.length} channels, ${minutes} min of load, ${rate} datagrams/s each way per channel, peer restart every ${restartEvery.join('-')} s, down ${downMs.join('-')} ms`);

  // The default config with health probes off: their ICMP would mix into the exact counts.
  workDir = mkdtempSync(join(tmpdir(), 'rpe-soak-'));
  const config = join(workDir, 'soak.yaml');
  writeFileSync(config, `deviceTree: ${join(root, 'config/lanta.dts')}\ntransport: sim\nframing: raw\nhealth:\n  intervalMs: 0\n`);

  createNetns(LNX);
  createNetns(VX);
  const arpLnx = new ArpWatch(LNX);
  const arpVx = new ArpWatch(VX);
  arpWatches.push(arpLnx, arpVx);
  await arpLnx.ready();
  await arpVx.ready();
  const d = (daemon = new Daemon(channels, config, join(workDir, 'control.sock'), process.env.SOAK_DAEMON_LOG));
  d.whenLinkUp((ch) => peerNeighbour(ch));
  await until('the daemon is ready', () => d.ready || d.child.exitCode !== null, 180_000);
  if (!d.ready) throw new Error(`soak: the daemon exited before it was ready:\n${d.stderrTail}`);
  await until('every link is up', () => d.allUp(), 30_000);
  for (const n of channels) {
    linuxNeighbour(n);
    peerNeighbour(n);
  }
  await sleep(500);

  const spec = (side: 'lnx' | 'vx'): AgentSpec => ({
    rate,
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

  // RSS series over the whole run.
  const rss: Array<[number, number]> = [];
  const sampleRss = () => {
    const kib = d.rssKiB();
    if (kib !== undefined) rss.push([Date.now() - t0, kib]);
  };
  sampleRss();
  const rssTimer = setInterval(sampleRss, RSS_EVERY_MS);

  const loadStart = Date.now();
  lnxAgent.say('go');
  vxAgent.say('go');

  // Random peer restarts while the load runs.
  const restarts = new Map<number, number>();
  const restartErrors: string[] = [];
  const restartLoop = (async () => {
    await sleep(rand(restartEvery) * 1000);
    while (Date.now() - loadStart < loadMs - 3_000) {
      // Channels up for a second at least: by then the VxWorks side has its neighbour entry (no ARP
      // frame can be lost with the next restart and blur the datagram counts).
      const candidates = channels.filter((c) => d.up.get(c) === true && Date.now() - (d.upSince.get(c) ?? 0) >= 1000);
      const ch = candidates[Math.floor(Math.random() * candidates.length)];
      if (ch !== undefined) {
        const down = Math.round(rand(downMs));
        try {
          await d.cli(['peer-restart', String(ch), '--down', `${down}ms`]);
          restarts.set(ch, (restarts.get(ch) ?? 0) + 1);
        } catch (err) {
          restartErrors.push(`peer-restart ${ch}: ${(err as Error).message}`);
        }
      }
      await sleep(rand(restartEvery) * 1000);
    }
  })();
  const progress = setInterval(() => {
    const r = [...restarts.values()].reduce((a, b) => a + b, 0);
    const last = rss[rss.length - 1];
    log(`load ${((Date.now() - loadStart) / 60_000).toFixed(1)}/${minutes} min, ${r} peer restarts, daemon RSS ${last ? (last[1] / 1024).toFixed(1) : '?'} MiB`);
  }, 60_000);

  await lnxAgent.waitFor('sent', loadMs + 120_000);
  await vxAgent.waitFor('sent', 120_000);
  await restartLoop;
  clearInterval(progress);
  log(`load done after ${((Date.now() - loadStart) / 60_000).toFixed(2)} min`);

  // Quiesce, then end every peer lifetime (no load) so every lifetime's counters are in.
  await until('every link is up after the load', () => d.allUp(), 15_000);
  await sleep(2000);
  const lnxCounts = await lnxAgent.report();
  const vxCounts = await vxAgent.report();
  const udpAfter = { lnx: udpErrors(LNX), vx: udpErrors(VX) };
  for (const n of channels) await d.cli(['peer-restart', String(n), '--down', '200ms']);
  await until('every peer restarted and reported its counters', () =>
    d.allUp() && channels.every((c) => (d.lifetimes.get(c)?.length ?? 0) === (d.linkDowns.get(c) ?? 0)), 30_000);
  await sleep(500);

  // A consistent snapshot: kernel counters unchanged across the daemon's stats.
  let k1: Map<string, KernelLink> | undefined;
  let stats: Map<number, ChannelStats> | undefined;
  for (let i = 0; ; i++) {
    k1 = kernelLinks(LNX);
    stats = await d.stats();
    const k2 = kernelLinks(LNX);
    if (channels.every((n) => JSON.stringify(k1?.get(`rpmsg${n}`)?.stats64) === JSON.stringify(k2.get(`rpmsg${n}`)?.stats64))) break;
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
  const totals = { sent: 0, received: 0, lost: 0, restarts: 0, sendErrors: 0, rest: 0, restLV: 0, restVL: 0, lives: 0 };
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
    const aTx = k.stats64.tx.packets - (s.tx.packets + drops.tx);
    const aRx = k.stats64.rx.packets - s.rx.packets;
    if (aTx !== 0) fail(`channel ${n} A/tx: the daemon read ${k.stats64.tx.packets} frames from ${ifname} (kernel), sent ${s.tx.packets} and dropped ${drops.tx}: ${aTx} unaccounted`);
    if (aRx !== 0) fail(`channel ${n} A/rx: the daemon wrote ${k.stats64.rx.packets} frames to ${ifname} (kernel), counted ${s.rx.packets}: ${aRx} unaccounted`);
    rowsA.push([ifname, String(k.stats64.tx.packets), String(s.tx.packets), drops.txText, String(aTx), String(k.stats64.rx.packets), String(s.rx.packets), String(aRx)]);

    // B. across the link.
    const lives = d.lifetimes.get(n) ?? [];
    const sum = (f: (p: PeerLifetime) => number) => lives.reduce((a, p) => a + f(p), 0);
    const peerTx = sum((p) => p.tx);
    const peerRx = sum((p) => p.rx);
    const peerDrops = sum((p) => p.tapDrops + p.refusedOversize);
    const uncredited = sum((p) => p.uncreditedTx);
    const lostTx = s.tx.packets - (peerRx + peerDrops);
    const lostRx = peerTx - (s.rx.packets + drops.rx);
    const rxBound = lives.length * (slotsOf.get(n) ?? 0);
    if (!Number.isFinite(lostTx + lostRx)) fail(`channel ${n} B: a peer lifetime has no counters`);
    if (!(lostTx >= 0 && lostTx <= uncredited)) fail(`channel ${n} B/tx: the daemon sent ${s.tx.packets}, its peers took ${peerRx + peerDrops}: ${lostTx} unaccounted (lost in flight must be 0..${uncredited}, the frames uncredited at link loss)`);
    if (!(lostRx >= 0 && lostRx <= rxBound)) fail(`channel ${n} B/rx: the peers sent ${peerTx}, the daemon took ${s.rx.packets + drops.rx}: ${lostRx} unaccounted (lost in flight must be 0..${rxBound})`);
    rowsB.push([ifname, String(lives.length), String(s.tx.packets), String(peerRx), String(peerDrops), String(lostTx), `${uncredited}`,
      String(peerTx), String(s.rx.packets), drops.rxText, String(lostRx)]);

    // C. end to end, per direction, in datagrams.
    const errs = (c: AgentCounts) => Object.values(c.sendErrors).reduce((a, b) => a + b, 0);
    const kDrops = k.stats64.tx.dropped + (qdrops.get(n) ?? 0);
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
    rowsC.push([ifname, String(restarts.get(n) ?? 0), ((d.downMs.get(n) ?? 0) / 1000).toFixed(1),
      String(l.sent), String(v.received), String(kDrops), String(drops.tx + peerDrops), String(lostTx), String(arpLostLV), String(restLV),
      String(v.sent), String(errs(v)), String(l.received), String(drops.rx), String(lostRx), String(arpLostVL), String(restVL)]);
    totals.sent += l.sent + v.sent;
    totals.received += l.received + v.received;
    totals.lost += lostLV + lostVL;
    totals.sendErrors += errs(v) + errs(l);
    totals.rest += restLV + restVL;
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
  const perExit = Math.max(2, Math.ceil(rate * 0.05));
  if (!(inVxQueue >= 0 && inVxQueue <= perExit * totals.lives)) fail(`C/VxWorks->Linux: ${totals.restVL} datagrams lost beyond the counted drops, ${rcvbuf.lnx} dropped on full socket buffers in ${LNX}: ${inVxQueue} left (must be 0..${perExit * totals.lives}: ${perExit} per peer exit, 50 ms of load, for frames left in vxN at peer exit)`);

  // ---- not stuck: every channel passes traffic both ways with the load gone.
  const checks = await Promise.all(channels.map(async (n) => {
    const one = async (ns: string, target: string) => {
      try {
        const { stdout } = await run('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '2', target], { encoding: 'utf8' });
        return /3 received/.test(stdout);
      } catch {
        return false;
      }
    };
    return { n, l: await one(LNX, peerAddr(n)), v: await one(VX, linuxAddr(n)) };
  }));
  for (const c of checks) if (!c.l || !c.v) fail(`channel ${c.n}: stuck after the load (${[c.l ? '' : 'Linux->VxWorks', c.v ? '' : 'VxWorks->Linux'].filter(Boolean).join(', ')} ping failed)`);

  // ---- memory.
  sampleRss();
  clearInterval(rssTimer);
  const after = rss.filter(([t]) => t >= loadStart - t0 + warmupMs);
  const window = Math.max(1, Math.round(60_000 / RSS_EVERY_MS));
  const startKiB = median(after.slice(0, window).map(([, v]) => v));
  const endKiB = median(after.slice(-window).map(([, v]) => v));
  const growthMiB = (endKiB - startKiB) / 1024;
  const all = rss.map(([, v]) => v);
  const rssFlat = after.length >= 2 && growthMiB <= rssLimitMiB;
  if (!rssFlat) fail(`memory: daemon RSS grew ${growthMiB.toFixed(1)} MiB after warm-up (limit ${rssLimitMiB} MiB)`);

  if (d.child.exitCode !== null) fail(`the daemon exited during the run (${String(d.child.exitCode)})`);
  for (const e of d.errors.slice(0, 10)) fail(`daemon logged an error: ${e}`);

  // ---- print.
  const out: string[] = [];
  out.push(`rpmsg-eth soak: ${channels.length} channels of config/lanta.dts, ${minutes} min of UDP load at ${rate} datagrams/s each way per channel,`);
  out.push(`${totals.restarts} random peer restarts (down ${downMs.join('-')} ms, every ${restartEvery.join('-')} s) + 1 final restart per channel`);
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
  out.push(`not stuck after the load (3 pings each way): ${checks.filter((c) => c.l && c.v).length}/${channels.length} channels pass`);
  out.push(`daemon RSS (MiB): ${rss.length} samples every ${RSS_EVERY_MS / 1000} s, min ${(Math.min(...all) / 1024).toFixed(1)}, max ${(Math.max(...all) / 1024).toFixed(1)};` +
    ` after ${(warmupMs / 1000).toFixed(0)} s warm-up: median of first minute ${(startKiB / 1024).toFixed(1)}, of last minute ${(endKiB / 1024).toFixed(1)},` +
    ` growth ${growthMiB.toFixed(1)} (limit ${rssLimitMiB}), trend ${(slopePerMin(after) / 1024).toFixed(2)} MiB/min -> ${rssFlat ? 'FLAT' : 'NOT FLAT'}`);
  // The series by minute (median of each minute's samples), so a steady rise shows even within the limit.
  const byMinute = new Map<number, number[]>();
  for (const [t, v] of rss) byMinute.set(Math.floor(t / 60_000), [...(byMinute.get(Math.floor(t / 60_000)) ?? []), v]);
  out.push(`  by minute: ${[...byMinute.values()].map((v) => (median(v) / 1024).toFixed(1)).join(' ')}`);
  if (rssFlat && slopePerMin(after) / 1024 > 0.25) out.push(`  note: RSS still rising ${(slopePerMin(after) / 1024).toFixed(2)} MiB/min after warm-up (within the limit); a longer run (SOAK_MINUTES=60) tells a leak from heap growth`);
  out.push(failures.length ? `FAIL (${failures.length}):\n  ${failures.join('\n  ')}` : 'PASS: every frame accounted for, no channel stuck, memory flat');
  process.stdout.write(`${out.join('\n')}\n`);
  return failures.length ? 1 : 0;
}

const agentAt = process.argv.indexOf('--agent');
if (agentAt >= 0) {
  agent(JSON.parse(process.argv[agentAt + 1] ?? '{}') as AgentSpec).then(
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
  main()
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
