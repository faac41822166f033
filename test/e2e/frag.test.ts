// Issue 7 end to end: `up --framing frag` over 512-byte rpmsg buffers in the simulated board. Channel 1's
// peer speaks frag (frag/rpmsg_frag.c inside vx-peer), channel 2's peer speaks only raw, so the
// daemon must fall back there. Real TAPs, ping, IPv6 and a 10 MB TCP transfer checked by sha256.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, cliArgs } from '../helpers/daemon.js';
import { createTestNetns, deleteTestNetns, links, ping, requireRoot, sh } from '../helpers/netns.js';

const run = promisify(execFile);
const LNX = 'rpe-t7-lnx';
const VX = 'rpe-t7-vx';
const FRAG = 1; // 512-byte buffers, frag peer
const RAW = 2; // 512-byte buffers, raw-only peer
const BIG = 0; // 8192-byte buffers, frag peer
const peerOf = (n: number) => `169.254.${100 + n}.2`;
const V6_LINUX = 'fd00:7:1::1';
const V6_PEER = 'fd00:7:1::2';

interface FramingStats {
  mode: string;
  negotiations: number;
  fallbacks: number;
  peerMaxFrame: number | null;
  tx: Record<string, number>;
  rx: { fragmentsReceived: number; framesReassembled: number; rawFrames: number; failures: Record<string, number> };
}
interface ChannelStats {
  channel: number;
  mtu: number;
  tx: { packets: number };
  rx: { packets: number };
  drops: Record<string, number>;
  framing?: FramingStats;
}

async function channelStats(daemon: DaemonProcess, n: number): Promise<ChannelStats> {
  const { stdout } = await run(process.execPath, cliArgs(daemon, ['stats', '--json']));
  const c = (JSON.parse(stdout) as { channels: ChannelStats[] }).channels.find((x) => x.channel === n);
  if (!c) throw new Error(`channel ${n} missing from stats`);
  return c;
}

const mtuOf = (ns: string, ifname: string) => links(ns).find((l) => l.ifname === ifname)?.mtu;

// An echo server: hashes what it receives and sends it back; prints the hash when the client is done.
const ECHO_SERVER = `
const net = require('node:net'), { createHash } = require('node:crypto');
const srv = net.createServer((s) => {
  const h = createHash('sha256'); let n = 0;
  s.on('data', (d) => { h.update(d); n += d.length; });
  s.on('end', () => { console.log(JSON.stringify({ bytes: n, sha256: h.digest('hex') })); srv.close(); });
  s.pipe(s);
});
srv.listen(Number(process.argv[2]), process.argv[1], () => console.log('listening'));
`;
// A client: sends a file, hashes what comes back.
const ECHO_CLIENT = `
const net = require('node:net'), fs = require('node:fs'), { createHash } = require('node:crypto');
const h = createHash('sha256'); let n = 0;
const s = net.connect(Number(process.argv[2]), process.argv[1], () => fs.createReadStream(process.argv[3]).pipe(s));
s.on('data', (d) => { h.update(d); n += d.length; });
s.on('end', () => console.log(JSON.stringify({ bytes: n, sha256: h.digest('hex') })));
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

describe('frag framing over 512-byte buffers (sim)', () => {
  let daemon: DaemonProcess;

  beforeAll(async () => {
    requireRoot();
    createTestNetns(LNX, { ipv6: true });
    createTestNetns(VX, { ipv6: true });
    daemon = new DaemonProcess([
      'config/lanta.dts', '--transport', 'sim', '--netns', LNX, '--peer-netns', VX,
      '--channels', `${BIG},${FRAG},${RAW}`, '--framing', 'frag', '--sim-raw-only-peers', String(RAW),
    ]);
    await daemon.ready();
    await daemon.waitFor((l) => l.ifname === `rpmsg${FRAG}` && /peer speaks frag/.test(l.msg), 10_000);
    await daemon.waitFor((l) => l.ifname === `rpmsg${RAW}` && /falling back to raw/.test(l.msg), 10_000);
  }, 180_000);

  afterAll(async () => {
    await daemon?.stop();
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
  });

  it('negotiates frag with a frag peer: interface MTU 1500 on both sides', async () => {
    expect(mtuOf(LNX, `rpmsg${FRAG}`)).toBe(1500);
    expect(mtuOf(VX, `vx${FRAG}`)).toBe(1500);
    const s = await channelStats(daemon, FRAG);
    expect(s.mtu).toBe(1500);
    expect(s.framing).toMatchObject({ mode: 'frag', negotiations: 1, fallbacks: 0, peerMaxFrame: 1514 });
  });

  it('passes ping -s 1472 -M do (1514-byte frames, 4 fragments each way) and refuses 1473', async () => {
    const before = await channelStats(daemon, FRAG);
    const r = await ping(LNX, ['-c', '3', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1472', peerOf(FRAG)]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/3 packets transmitted, 3 received/);
    const after = await channelStats(daemon, FRAG);
    // Each 1514-byte echo takes 4 fragments; ARP or other small frames may add single fragments.
    expect((after.framing?.tx.fragmentsSent ?? 0) - (before.framing?.tx.fragmentsSent ?? 0)).toBeGreaterThanOrEqual(12);
    expect((after.framing?.rx.fragmentsReceived ?? 0) - (before.framing?.rx.fragmentsReceived ?? 0)).toBeGreaterThanOrEqual(12);
    const big = await ping(LNX, ['-c', '1', '-M', 'do', '-s', '1473', peerOf(FRAG)]);
    expect(big.code).not.toBe(0);
    expect(big.out).toMatch(/message too long/i);
  });

  it('carries IPv6: ping -6 to the peer, also at full size', async () => {
    sh('ip', ['-n', LNX, 'addr', 'add', `${V6_LINUX}/64`, 'dev', `rpmsg${FRAG}`, 'nodad']);
    sh('ip', ['-n', VX, 'addr', 'add', `${V6_PEER}/64`, 'dev', `vx${FRAG}`, 'nodad']);
    const r = await ping(LNX, ['-6', '-c', '3', '-i', '0.2', '-W', '2', V6_PEER]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/3 packets transmitted, 3 received/);
    const full = await ping(LNX, ['-6', '-c', '2', '-i', '0.2', '-W', '2', '-M', 'do', '-s', String(1500 - 48), V6_PEER]);
    expect(full.code, full.out).toBe(0);
  });

  it('moves a 10 MB file over TCP both ways byte-identical (sha256)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpe-frag-'));
    try {
      const data = randomBytes(10 * 1024 * 1024);
      const file = join(dir, 'payload.bin');
      writeFileSync(file, data);
      const sha = createHash('sha256').update(data).digest('hex');
      const before = await channelStats(daemon, FRAG);

      const server = spawn('ip', ['netns', 'exec', VX, process.execPath, '-e', ECHO_SERVER, peerOf(FRAG), '5007'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      server.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      const serverDone = new Promise((resolve) => server.once('exit', resolve));
      try {
        const end = Date.now() + 10_000;
        while (!out.includes('listening')) {
          if (Date.now() > end) throw new Error('echo server did not start');
          await new Promise((r) => setTimeout(r, 50));
        }
        const client = await run('ip', ['netns', 'exec', LNX, process.execPath, '-e', ECHO_CLIENT, peerOf(FRAG), '5007', file], {
          timeout: 120_000,
        });
        await serverDone;
        const atServer = JSON.parse(out.split('\n')[1] ?? '{}') as { bytes: number; sha256: string };
        const atClient = JSON.parse(client.stdout) as { bytes: number; sha256: string };
        expect(atServer).toEqual({ bytes: data.length, sha256: sha });
        expect(atClient).toEqual({ bytes: data.length, sha256: sha });
      } finally {
        server.kill();
      }
      // A healthy link loses nothing: no reassembly failure, no drop, and the data really was fragmented.
      const after = await channelStats(daemon, FRAG);
      expect(after.framing?.rx.failures).toEqual({ lost: 0, duplicate: 0, truncated: 0, overlong: 0, badVersion: 0, badHeader: 0, timeout: 0 });
      expect(after.drops.framing).toBe(0);
      // 10 MiB each way in 480-byte fragment payloads: at least 21846 fragments each way.
      const minFragments = Math.ceil(data.length / 480);
      expect((after.framing?.tx.fragmentsSent ?? 0) - (before.framing?.tx.fragmentsSent ?? 0)).toBeGreaterThan(minFragments);
      expect((after.framing?.rx.fragmentsReceived ?? 0) - (before.framing?.rx.fragmentsReceived ?? 0)).toBeGreaterThan(minFragments);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('over 8192-byte buffers uses MTU 8146, one fragment per frame', async () => {
    await daemon.waitFor((l) => l.ifname === `rpmsg${BIG}` && /peer speaks frag/.test(l.msg), 10_000);
    expect(mtuOf(LNX, `rpmsg${BIG}`)).toBe(8146);
    const before = await channelStats(daemon, BIG);
    const r = await ping(LNX, ['-c', '3', '-i', '0.2', '-W', '2', '-M', 'do', '-s', String(8146 - 28), peerOf(BIG)]);
    expect(r.code, r.out).toBe(0);
    const after = await channelStats(daemon, BIG);
    const frames = (after.framing?.tx.framesSent ?? 0) - (before.framing?.tx.framesSent ?? 0);
    expect((after.framing?.tx.fragmentsSent ?? 0) - (before.framing?.tx.fragmentsSent ?? 0)).toBe(frames);
  });

  it('keeps a raw-only peer working at MTU 482 after a logged fallback', async () => {
    const warning = daemon.lines.find((l) => l.ifname === `rpmsg${RAW}` && /falling back to raw/.test(l.msg));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toMatch(/mtu 482/);
    expect(mtuOf(LNX, `rpmsg${RAW}`)).toBe(482);
    expect(mtuOf(VX, `vx${RAW}`)).toBe(482);
    const r = await ping(LNX, ['-c', '3', '-i', '0.2', '-W', '2', '-M', 'do', '-s', String(482 - 28), peerOf(RAW)]);
    expect(r.code, r.out).toBe(0);
    const big = await ping(LNX, ['-c', '1', '-M', 'do', '-s', String(482 - 27), peerOf(RAW)]);
    expect(big.out).toMatch(/message too long/i);
    const s = await channelStats(daemon, RAW);
    expect(s.mtu).toBe(482);
    expect(s.framing).toMatchObject({ mode: 'raw', fallbacks: 1, peerMaxFrame: null });
    expect(s.framing?.tx.fragmentsSent).toBe(0);
    expect(s.framing?.rx.fragmentsReceived).toBe(0);
  });

  it('renegotiates after a peer restart and keeps MTU 1500', async () => {
    const before = await channelStats(daemon, FRAG);
    await run(process.execPath, cliArgs(daemon, ['peer-restart', String(FRAG), '--down', '500ms']));
    const end = Date.now() + 15_000;
    for (;;) {
      const s = await channelStats(daemon, FRAG);
      if (s.framing && s.framing.negotiations > (before.framing?.negotiations ?? 0) && s.framing.mode === 'frag') break;
      if (Date.now() > end) throw new Error(`no renegotiation: ${JSON.stringify(s.framing)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The restarted peer has a new TAP: its address comes back with the channel, the IPv6 one does not.
    const r = await ping(LNX, ['-c', '2', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1472', peerOf(FRAG)]);
    expect(r.code, r.out).toBe(0);
    expect(mtuOf(LNX, `rpmsg${FRAG}`)).toBe(1500);
  });
});
