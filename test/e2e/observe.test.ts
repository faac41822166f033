// Issue 6: peer health, Prometheus metrics against `stats --json`, pcapng capture read back by tshark,
// and replay of a classic pcap into a channel.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, cliArgs, lantaConfig } from '../helpers/daemon.js';
import { createTestNetns, deleteTestNetns, linkStats, requireRoot, sh } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { tool } from '../helpers/tools.js';
import type { StatusLine as StatusChannel } from '../../daemon/commands/status.js';

const run = promisify(execFile);
/** A peer's reachability changes with the health probes' interval and their misses. */
const PEER_WAIT_MS = 20_000;
const LNX = 'rpe-t6o-lnx';
const VX = 'rpe-t6o-vx';
const METRICS_PORT = 19464;


async function cli(daemon: DaemonProcess, args: string[]): Promise<string> {
  return (await run(process.execPath, cliArgs(daemon, args))).stdout;
}

async function status(daemon: DaemonProcess): Promise<StatusChannel[]> {
  return (JSON.parse(await cli(daemon, ['status', '--json'])) as { channels: StatusChannel[] }).channels;
}

function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('health, metrics, capture and replay', () => {
  let dir: string;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'rpe-observe-'));
    const config = join(dir, 'rpmsg-eth.yaml');
    writeFileSync(config, `${lantaConfig}health: { intervalMs: 300, failAfter: 2 }\nchannels:\n  "3": { health: false }\n`);
    createTestNetns(LNX);
    createTestNetns(VX);
    daemon = new DaemonProcess(['--config', config, '--netns', LNX, '--peer-netns', VX, '--channels', '1-3', '--metrics', String(METRICS_PORT)]);
    await daemon.ready();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports peer reachability, false while a peer is away and true again when it returns', async () => {
    const up = await until('channel 2 peer reachable', async () => {
      const c = (await status(daemon)).find((s) => s.channel === 2);
      return c?.peer?.reachable === true ? c : undefined;
    }, PEER_WAIT_MS);
    expect(up.peer?.rttMs).toBeGreaterThan(0);
    expect((await status(daemon)).find((s) => s.channel === 3)?.peer).toBeNull(); // health: false

    await cli(daemon, ['peer-restart', '2', '--down', '3s']);
    await until(
      'channel 2 peer unreachable',
      async () => ((await status(daemon)).find((s) => s.channel === 2)?.peer?.reachable === false ? true : undefined),
      PEER_WAIT_MS,
    );
    await until(
      'channel 2 peer reachable again',
      async () => ((await status(daemon)).find((s) => s.channel === 2)?.peer?.reachable === true ? true : undefined),
      PEER_WAIT_MS,
    );
    expect(daemon.lines.some((l) => /rpmsg2: peer 169.254.102.2 unreachable/.test(l.msg))).toBe(true);
    expect(daemon.lines.some((l) => /rpmsg2: peer 169.254.102.2 reachable/.test(l.msg))).toBe(true);
    // Channel 1 was never disturbed.
    expect((await status(daemon)).find((s) => s.channel === 1)?.peer?.reachable).toBe(true);
  });

  it('serves metrics on loopback that agree with stats --json', async () => {
    // Quiet the probes' effect on counters by reading both within one settled moment: health probes
    // run every 300 ms, so compare counters on channel 3 (health off) after a ping burst.
    await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '5', '-i', '0.1', '169.254.103.2']);
    const stats = JSON.parse(await cli(daemon, ['stats', '--json'])) as { channels: StatusChannel[] };
    const res = await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const c3 = stats.channels.find((c) => c.channel === 3) as StatusChannel;
    const labels = { device: 'rpmsg3', channel: '3', channel_name: 'nokia-swm1-channel' };
    expect(metricValue(text, 'rpmsg_eth_transmit_packets_total', labels)).toBe(c3.tx.packets);
    expect(metricValue(text, 'rpmsg_eth_receive_packets_total', labels)).toBe(c3.rx.packets);
    expect(metricValue(text, 'rpmsg_eth_transmit_bytes_total', labels)).toBe(c3.tx.bytes);
    expect(metricValue(text, 'rpmsg_eth_receive_bytes_total', labels)).toBe(c3.rx.bytes);
    expect(c3.tx.packets).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, 'rpmsg_eth_up', labels)).toBe(1);
    expect(metricValue(text, 'rpmsg_eth_mtu_bytes', labels)).toBe(482);
    expect(metricValue(text, 'rpmsg_eth_peer_reachable', { device: 'rpmsg1' })).toBe(1);
    expect(metricValue(text, 'rpmsg_eth_carrier_changes_total', { device: 'rpmsg2' })).toBeGreaterThanOrEqual(3);
    // Bound to loopback only: the endpoint is not reachable on another local address.
    expect(sh('ss', ['-Hltn', `sport = :${METRICS_PORT}`])).toMatch(/127\.0\.0\.1:19464/);
  });

  it('captures both directions and drops into pcapng that tshark reads', async () => {
    const file = join(dir, 'cap.pcapng');
    const capture = spawn(process.execPath, cliArgs(daemon, ['capture', '-w', file, '--channels', '1,3', '--duration', '3s']), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    capture.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    await daemon.waitFor((l) => l.msg === 'capture started: rpmsg1, rpmsg3');
    await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '3', '-i', '0.2', '169.254.103.2']);
    // An oversize frame on channel 1 (its MTU raised behind the daemon's back) is dropped and captured.
    sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg1', 'mtu', '1500']);
    try {
      await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '1', '-W', '1', '-s', '1000', '-M', 'dont', '169.254.101.2']).catch(() => undefined);
    } finally {
      sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg1', 'mtu', '482']);
    }
    const code = await new Promise((r) => capture.once('exit', r));
    expect(code, err).toBe(0);
    expect(err).toMatch(/frame\(s\) written/);

    const { stdout } = await run(tool('tshark'), ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'frame.p2p_dir', '-e', 'frame.comment', '-e', 'icmp.type', '-e', 'frame.len']);
    const rows = stdout.trim().split('\n').map((l) => l.split('|'));
    const icmp3 = rows.filter((r) => r[0] === 'rpmsg3' && (r[3] === '8' || r[3] === '0'));
    expect(icmp3.filter((r) => r[3] === '8' && r[1] === '0')).toHaveLength(3); // echo requests, outbound
    expect(icmp3.filter((r) => r[3] === '0' && r[1] === '1')).toHaveLength(3); // echo replies, inbound
    const drops = rows.filter((r) => r[0] === 'rpmsg1' && /dropped: oversize/.test(r[2] ?? ''));
    expect(drops.length).toBeGreaterThanOrEqual(1);
    expect(Number(drops[0]?.[4])).toBe(1042);
  });

  it('replays the frames of a classic pcap into a channel', async () => {
    // A pcap of 4 ICMP echo requests to channel 2's peer, made by tcpdump on channel 2 itself.
    const pcap = join(dir, 'ping.pcap');
    const tcpdump = spawn('ip', ['netns', 'exec', LNX, 'tcpdump', '-i', 'rpmsg2', '-U', '-w', pcap, '-c', '4', 'icmp[icmptype] == 8'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    tcpdump.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    await until('tcpdump listening', async () => (err.includes('listening on') ? true : undefined));
    await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '4', '-i', '0.2', '169.254.102.2']);
    expect(await new Promise((r) => tcpdump.once('exit', r))).toBe(0);

    const peerBefore = linkStats(VX, 'vx2').rx.packets;
    const out = await cli(daemon, ['replay', pcap, '--channel', '2']);
    expect(out).toMatch(/4 of 4 frame\(s\) sent into channel 2/);
    // The peer received the 4 requests (and answered them: the replies come back as rx).
    await until('the peer got the replayed frames', async () => (linkStats(VX, 'vx2').rx.packets - peerBefore >= 4 ? true : undefined));

    const bad = await run(process.execPath, cliArgs(daemon, ['replay', join(dir, 'missing.pcap'), '--channel', '2'])).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/missing\.pcap/);
  });
});
