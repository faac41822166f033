// Issue 3 end to end: the daemon with the sim transport, all channels of config/lanta.dts, real TAPs in
// test namespaces, real ping and tcpdump.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReply } from '../../src/control/protocol.js';
import { DaemonProcess, cliArgs } from '../helpers/daemon.js';
import { createTestNetns, deleteTestNetns, links, linkStats, nsExec, ping, requireRoot, sh } from '../helpers/netns.js';
import { parseIcmpEcho, readPcap } from '../helpers/pcap.js';

const run = promisify(execFile);
const LNX = 'rpe-t3-lnx';
const VX = 'rpe-t3-vx';
const CHANNELS = Array.from({ length: 17 }, (_, i) => i);
const peerOf = (n: number) => `169.254.${100 + n}.2`;

type Stats = StatusReply;

async function stats(daemon: DaemonProcess): Promise<Stats> {
  const { stdout } = await run(process.execPath, cliArgs(daemon, ['stats', '--json']));
  return JSON.parse(stdout) as Stats;
}

function channelStats(s: Stats, n: number) {
  const c = s.channels.find((x) => x.channel === n);
  if (!c) throw new Error(`channel ${n} missing from stats`);
  return c;
}

/** Static neighbour entries on both sides of channel n, so no ARP traffic mixes into exact counts. */
function staticNeighbours(n: number): void {
  const hex = n.toString(16).padStart(2, '0');
  sh('ip', ['-n', LNX, 'neigh', 'replace', peerOf(n), 'lladdr', `02:72:70:01:00:${hex}`, 'nud', 'permanent', 'dev', `rpmsg${n}`]);
  sh('ip', ['-n', VX, 'neigh', 'replace', `169.254.${100 + n}.1`, 'lladdr', `02:72:70:00:00:${hex}`, 'nud', 'permanent', 'dev', `vx${n}`]);
}

function carrier(ifname: string): boolean {
  const link = links(LNX).find((l) => l.ifname === ifname);
  if (!link) throw new Error(`${ifname} is gone`);
  return !link.flags.includes('NO-CARRIER');
}

async function until(what: string, test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sim data path, all channels of config/lanta.dts', () => {
  let daemon: DaemonProcess;

  beforeAll(async () => {
    requireRoot();
    createTestNetns(LNX);
    createTestNetns(VX);
    // No health probes: they are traffic too, and these tests count packets exactly.
    daemon = new DaemonProcess(['config/lanta.dts', '--transport', 'sim', '--netns', LNX, '--peer-netns', VX, '--health-interval', '0']);
    await daemon.ready();
  }, 180_000);

  afterAll(async () => {
    await daemon?.stop();
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
  });

  it('brings up rpmsg0..rpmsg16 with MTU 8162 and 482 and one log line each', () => {
    const byName = new Map(links(LNX).map((l) => [l.ifname, l]));
    for (const n of CHANNELS) {
      const link = byName.get(`rpmsg${n}`);
      expect(link, `rpmsg${n}`).toBeDefined();
      expect(link?.mtu).toBe(n === 0 ? 8162 : 482);
      expect(link?.flags).toContain('UP');
      expect(link?.address).toBe(`02:72:70:00:00:${n.toString(16).padStart(2, '0')}`);
      expect(daemon.lines.filter((l) => l.ifname === `rpmsg${n}` && /^rpmsg\d+ up:/.test(l.msg))).toHaveLength(1);
    }
  });

  it('pings the peer of every channel', async () => {
    const results = await Promise.all(CHANNELS.map((n) => ping(LNX, ['-c', '3', '-i', '0.2', '-W', '2', peerOf(n)])));
    results.forEach((r, n) => expect(r.code, `channel ${n}: ${r.out}`).toBe(0));
    results.forEach((r) => expect(r.out).toMatch(/3 packets transmitted, 3 received/));
  });

  it('refuses a DF ping above the MTU with "message too long"', async () => {
    const r = await ping(LNX, ['-c', '1', '-M', 'do', '-s', '500', peerOf(1)]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/message too long/i);
    const ok = await ping(LNX, ['-c', '1', '-M', 'do', '-s', String(482 - 28), peerOf(1)]);
    expect(ok.code, ok.out).toBe(0);
  });

  it('drops and counts a frame longer than the channel payload instead of delivering it', async () => {
    // Raise the TAP's MTU behind the daemon's back so the kernel hands it a 1042-byte frame.
    staticNeighbours(2);
    const before = channelStats(await stats(daemon), 2);
    const peerBefore = linkStats(VX, 'vx2');
    sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg2', 'mtu', '1500']);
    try {
      const r = await ping(LNX, ['-c', '1', '-W', '1', '-M', 'dont', '-s', '1000', peerOf(2)]);
      expect(r.code).not.toBe(0);
    } finally {
      sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg2', 'mtu', '482']);
    }
    const after = channelStats(await stats(daemon), 2);
    expect(after.drops.oversize - before.drops.oversize).toBe(1);
    expect(after.tx.packets).toBe(before.tx.packets);
    expect(linkStats(VX, 'vx2').rx.packets).toBe(peerBefore.rx.packets);
  });

  it('drops and counts a raw frame that a frag peer would take for a frag message (spec rule 3.8)', async () => {
    staticNeighbours(6);
    const before = channelStats(await stats(daemon), 6);
    const peerBefore = linkStats(VX, 'vx6');
    // Destination 03:72:70:6d:73:67 and EtherType 0x88b5: the frag signature, sent raw on rpmsg6.
    const frame = '0372706d7367' + '027270000006' + '88b5' + '00'.repeat(46);
    nsExec(LNX, 'python3', ['-c', `import socket; s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("rpmsg6", 0)); s.send(bytes.fromhex("${frame}"))`]);
    await new Promise((r) => setTimeout(r, 300));
    const after = channelStats(await stats(daemon), 6);
    expect(after.drops.framing - before.drops.framing).toBe(1);
    expect(after.tx.packets).toBe(before.tx.packets);
    expect(linkStats(VX, 'vx6').rx.packets).toBe(peerBefore.rx.packets);
  });

  it('holds at most num-bufs/2 frames in flight while the peer does not consume, then delivers the rest', async () => {
    // Channel 7: 512 buffers, so 256 per direction. Freeze its peer (the remote core stops consuming).
    staticNeighbours(7); // no ARP re-probe of the earlier pings may mix into the exact counts
    // This daemon's peer of channel 7 (its child): other runs on the machine have peers named alike.
    const pids = sh('pgrep', ['-P', String(daemon.child.pid), '-f', `vx-peer .*--ifname vx7 `]).trim().split('\n');
    expect(pids).toHaveLength(1);
    const pid = pids[0] as string;
    const before = channelStats(await stats(daemon), 7);
    const peerBefore = linkStats(VX, 'vx7').rx.packets;
    sh('kill', ['-STOP', pid]);
    try {
      const frame = '02727001000702727000000788b6' + '00'.repeat(46);
      nsExec(LNX, 'python3', ['-c', `import socket; s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("rpmsg7", 0)); f = bytes.fromhex("${frame}"); [s.send(f) for _ in range(400)]`]);
      await new Promise((r) => setTimeout(r, 500));
      const held = channelStats(await stats(daemon), 7);
      expect(held.tx.packets - before.tx.packets).toBe(256);
      expect(held.drops).toEqual(before.drops);
    } finally {
      sh('kill', ['-CONT', pid]);
    }
    await until('the rest is delivered', () => linkStats(VX, 'vx7').rx.packets - peerBefore >= 400);
    const after = channelStats(await stats(daemon), 7);
    expect(after.tx.packets - before.tx.packets).toBe(400);
    expect(linkStats(VX, 'vx7').rx.packets - peerBefore).toBe(400);
  });

  it('shows echo requests and replies with the right addresses in a tcpdump capture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpe-cap-'));
    const file = join(dir, 'rpmsg3.pcap');
    try {
      const tcpdump = spawn('ip', ['netns', 'exec', LNX, 'tcpdump', '-i', 'rpmsg3', '-U', '-w', file, '-c', '6', 'icmp'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      tcpdump.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      await until('tcpdump listens', () => err.includes('listening on'));
      const r = await ping(LNX, ['-c', '3', '-i', '0.2', peerOf(3)]);
      expect(r.code, r.out).toBe(0);
      const code = await new Promise((resolve) => tcpdump.once('exit', resolve));
      expect(code, err).toBe(0);
      const cap = await readPcap(file);
      expect(cap.linkLayerType).toBe(1);
      const echoes = cap.packets.map((p) => parseIcmpEcho(p.data));
      expect(echoes.filter((e) => e?.type === 'request' && e.src === '169.254.103.1' && e.dst === peerOf(3))).toHaveLength(3);
      expect(echoes.filter((e) => e?.type === 'reply' && e.src === peerOf(3) && e.dst === '169.254.103.1')).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts exactly N packets each way for a burst of N pings', async () => {
    const n = 4;
    staticNeighbours(4);
    const before = channelStats(await stats(daemon), 4);
    const r = await ping(LNX, ['-c', String(n), '-i', '0.2', '-s', '100', peerOf(4)]);
    expect(r.code, r.out).toBe(0);
    const after = channelStats(await stats(daemon), 4);
    const frame = 14 + 20 + 8 + 100;
    expect(after.tx.packets - before.tx.packets).toBe(n);
    expect(after.rx.packets - before.rx.packets).toBe(n);
    expect(after.tx.bytes - before.tx.bytes).toBe(n * frame);
    expect(after.rx.bytes - before.rx.bytes).toBe(n * frame);
  });

  it('survives a peer restart: carrier off, then on, ping works again, other channels unaffected', async () => {
    const before = await stats(daemon);
    // Down long enough that `stats` (a node process, slow on a loaded machine) still sees it down.
    await run(process.execPath, cliArgs(daemon, ['peer-restart', '5', '--down', '8s']));
    await until('rpmsg5 loses carrier', () => !carrier('rpmsg5'));
    expect(channelStats(await stats(daemon), 5).link).toBe('down');
    await until('rpmsg5 regains carrier', () => carrier('rpmsg5'), 20_000);
    const r = await ping(LNX, ['-c', '2', '-i', '0.2', '-W', '2', peerOf(5)]);
    expect(r.code, r.out).toBe(0);
    const after = await stats(daemon);
    expect(channelStats(after, 5).linkChanges - channelStats(before, 5).linkChanges).toBe(2);
    for (const n of CHANNELS.filter((c) => c !== 5)) {
      expect(channelStats(after, n).linkChanges, `channel ${n}`).toBe(channelStats(before, n).linkChanges);
      expect(carrier(`rpmsg${n}`)).toBe(true);
    }
    expect(daemon.child.exitCode).toBeNull();
  });

  it('removes every interface on SIGTERM', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(links(LNX).filter((l) => l.ifname.startsWith('rpmsg'))).toEqual([]);
    expect(links(VX).filter((l) => l.ifname.startsWith('vx'))).toEqual([]);
  });
});

describe('teardown of what the daemon created', () => {
  beforeAll(() => requireRoot());

  it('removes its namespaces after SIGTERM once ready', async () => {
    const lnx = 'rpe-t3-own-lnx';
    const vx = 'rpe-t3-own-vx';
    const daemon = new DaemonProcess(['config/lanta.dts', '--netns', lnx, '--peer-netns', vx, '--channels', '1-3']);
    try {
      await daemon.ready();
      expect(nsExec(lnx, 'ip', ['-br', 'link'])).toMatch(/rpmsg3/);
      expect(await daemon.stop()).toBe(0);
      expect(sh('ip', ['netns', 'list'])).not.toMatch(/rpe-t3-own/);
    } finally {
      await daemon.stop('SIGKILL');
      deleteTestNetns(lnx);
      deleteTestNetns(vx);
    }
  });

  it('removes everything when killed while interfaces are coming up', async () => {
    const lnx = 'rpe-t3-early-lnx';
    const vx = 'rpe-t3-early-vx';
    const daemon = new DaemonProcess(['config/lanta.dts', '--netns', lnx, '--peer-netns', vx]);
    try {
      await daemon.waitFor((l) => l.ifname === 'rpmsg2' && /^rpmsg2 up:/.test(l.msg));
      daemon.child.kill('SIGTERM');
      daemon.child.kill('SIGINT'); // a second signal during teardown must not cut it short
      expect(await daemon.exited).toBe(0);
      expect(daemon.lines.some((l) => l.msg.startsWith('ready:'))).toBe(false);
      expect(sh('ip', ['netns', 'list'])).not.toMatch(/rpe-t3-early/);
    } finally {
      await daemon.stop('SIGKILL');
      deleteTestNetns(lnx);
      deleteTestNetns(vx);
    }
  });
});
