// Issue 12: `up --transport netdev` adopts the kernel module's own interfaces. There is no module on this
// host, so each channel's rpmsgN is a stand-in that is a real kernel interface all the same: one end of a
// veth pair, named rpmsgN, in the daemon's namespace; the other end, vxN, in a "remote" namespace with the
// peer's address. The daemon must: address and bring them up, ping, report the kernel's counters
// (= /sys/class/net/rpmsgN/statistics) in `stats --json`, follow the carrier, capture through a packet
// socket (tcpdump reads the file), replay into an interface, reload an address, refuse a missing
// interface and a wrong MTU in one line with exit 1, and on stop leave the interfaces as it found them
// but for nothing of its own.
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusLine } from '../../daemon/commands/status.js';
import { DaemonProcess, cliArgs, cliPath, lantaConfig } from '../helpers/daemon.js';
import { links, nsExec, sh } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { useTestNamespaces } from '../helpers/test-namespaces.js';
import { tool } from '../helpers/tools.js';

const run = promisify(execFile);
const LNX = 'rpe-nd-lnx';
const VX = 'rpe-nd-vx';
const CHANNELS = [1, 2, 3];
const METRICS_PORT = 19474;

type Stats = StatusLine & { kernel?: { rxDropped: number; txDropped: number; rxErrors: number; txErrors: number; driver: Record<string, number> | null; dropsByReason: boolean } };

/** rpmsgN (daemon's namespace) <-> vxN (remote namespace, 169.254.(100+N).2/24), MTU 482 like rpmsg_eth's. */
function standIn(n: number, mtu = 482): void {
  sh('ip', ['-n', LNX, 'link', 'add', `rpmsg${n}`, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', `vx${n}`, 'mtu', String(mtu), 'netns', VX]);
  sh('ip', ['-n', VX, 'addr', 'add', `169.254.${100 + n}.2/24`, 'dev', `vx${n}`]);
  sh('ip', ['-n', VX, 'link', 'set', `vx${n}`, 'up']);
}

function addresses(ns: string, ifname: string): string[] {
  const [info] = JSON.parse(sh('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', ifname])) as Array<{
    addr_info: Array<{ local: string; prefixlen: number; family: string }>;
  }>;
  return (info?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

function sysfs(ifname: string, name: string): number {
  return Number(nsExec(LNX, 'cat', [`/sys/class/net/${ifname}/statistics/${name}`]).trim());
}

async function ping(peer: string, count = 3): Promise<string> {
  return (await run('ip', ['netns', 'exec', LNX, 'ping', '-c', String(count), '-i', '0.2', '-W', '2', peer])).stdout;
}

/** `up` that is expected to fail: its exit code and the last line of stderr. */
async function failedUp(args: string[]): Promise<{ code: number; last: string }> {
  const r = await run(process.execPath, [cliPath, 'up', ...args, '--log-format', 'json', '--control-socket', join(ns.dir, 'failed.sock')]).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  const lines = r.stderr.trim().split('\n');
  return { code: r.code, last: lines[lines.length - 1] ?? '' };
}

const ns = useTestNamespaces(LNX, VX);

describe('--transport netdev on stand-in interfaces (veth pairs)', () => {
  let config: string;
  let daemon: DaemonProcess;

  /** Probes on channel 1 only: the counters of 2 and 3 stand still unless the test sends. */
  const QUIET = '  "2": { health: false }\n  "3": { health: false }\n';
  /** Channel 2 on another subnet (the reload test on). */
  const MOVED = '  "2": { health: false, address: 169.254.202.1/24, peerAddress: 169.254.202.2 }\n';

  function writeConfig(channels: string): void {
    writeFileSync(
      config,
      `${lantaConfig}transport: netdev\nhealth: { intervalMs: 300, failAfter: 2 }\nchannels:\n${channels}`,
    );
  }

  async function cli(args: string[]): Promise<string> {
    return (await run(process.execPath, cliArgs(daemon, args))).stdout;
  }

  async function stats(): Promise<Stats[]> {
    return (JSON.parse(await cli(['stats', '--json'])) as { channels: Stats[] }).channels;
  }

  async function channel(n: number): Promise<Stats> {
    return (await stats()).find((c) => c.channel === n) as Stats;
  }

  beforeAll(async () => {
    config = join(ns.dir, 'rpmsg-eth.yaml');
    writeConfig(QUIET);
    for (const n of CHANNELS) standIn(n);
    // An address someone else put on rpmsg3 before the daemon came: not the daemon's to remove.
    sh('ip', ['-n', LNX, 'addr', 'add', '10.99.0.1/24', 'dev', 'rpmsg3']);
    daemon = new DaemonProcess(['--config', config, '--netns', LNX, '--channels', '1-3', '--metrics', String(METRICS_PORT)]);
    await daemon.ready();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
  });

  it('adopts rpmsg1..3 (no TAP): addresses, up, and a ping to every peer', async () => {
    for (const n of CHANNELS) {
      expect(addresses(LNX, `rpmsg${n}`)).toContain(`169.254.${100 + n}.1/24`);
      expect(await ping(`169.254.${100 + n}.2`)).toMatch(/3 packets transmitted, 3 received/);
    }
    // Still the veth pairs: the daemon made no interface of its own.
    expect(links(LNX).map((l) => l.ifname).sort()).toEqual(['lo', 'rpmsg1', 'rpmsg2', 'rpmsg3']);
    expect(daemon.lines.some((l) => l.msg === 'rpmsg2 adopted: nokia-redundancy-channel, mtu 482, 169.254.102.1/24 -> 169.254.102.2')).toBe(true);
    await until('channel 1 peer reachable', async () => ((await channel(1)).peer?.reachable === true ? true : undefined));
  });

  it('stats --json: the kernel\'s counters, equal to /sys/class/net/rpmsgN/statistics; no drops by reason a veth cannot tell', async () => {
    await ping('169.254.102.2', 4);
    await ping('169.254.103.2', 2);
    // Channels 2 and 3 have no probes: their counters stand still between the two reads.
    const all = await stats();
    for (const n of [2, 3]) {
      const c = all.find((s) => s.channel === n) as Stats;
      const ifname = `rpmsg${n}`;
      expect(c.tx).toEqual({ packets: sysfs(ifname, 'tx_packets'), bytes: sysfs(ifname, 'tx_bytes') });
      expect(c.rx).toEqual({ packets: sysfs(ifname, 'rx_packets'), bytes: sysfs(ifname, 'rx_bytes') });
      expect(c.kernel).toMatchObject({
        rxDropped: sysfs(ifname, 'rx_dropped'),
        txDropped: sysfs(ifname, 'tx_dropped'),
        rxErrors: sysfs(ifname, 'rx_errors'),
        txErrors: sysfs(ifname, 'tx_errors'),
        dropsByReason: false,
      });
      expect(c.kernel?.driver).toHaveProperty('peer_ifindex'); // veth's own `ethtool -S`
      expect(Object.values(c.drops).every((v) => v === 0)).toBe(true);
      expect(c).toMatchObject({ link: 'up', mtu: 482, operstate: 'up', carrier: true, adminUp: true, down: null });
    }
    expect((all.find((s) => s.channel === 2) as Stats).tx.packets).toBeGreaterThanOrEqual(4);

    // The metrics say the same.
    const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
    const c2 = await channel(2);
    expect(text).toContain(`rpmsg_eth_transmit_packets_total{device="rpmsg2",channel="2",channel_name="nokia-redundancy-channel"} ${c2.tx.packets}`);
    expect(text).toMatch(/rpmsg_eth_up\{device="rpmsg2"[^}]*\} 1/);
  });

  it('status: CARRIER follows the remote end (ip link set vx3 down / up), LINK is the kernel\'s', async () => {
    nsExec(VX, 'ip', ['link', 'set', 'vx3', 'down']);
    const down = await until('rpmsg3 without carrier', async () => {
      const c = (JSON.parse(await cli(['status', '--json'])) as { channels: StatusLine[] }).channels.find((s) => s.channel === 3);
      return c && !c.carrier ? c : undefined;
    });
    expect(down).toMatchObject({ operstate: 'down', adminUp: true, link: 'down', down: null });
    await daemon.waitFor((l) => l.msg === 'rpmsg3: link down', 5_000);
    expect(await cli(['status'])).toMatch(/rpmsg3 +3 nokia-swm1-channel +down +no /);

    nsExec(VX, 'ip', ['link', 'set', 'vx3', 'up']);
    const up = await until('rpmsg3 with carrier', async () => {
      const c = (JSON.parse(await cli(['status', '--json'])) as { channels: StatusLine[] }).channels.find((s) => s.channel === 3);
      return c?.carrier ? c : undefined;
    });
    expect(up).toMatchObject({ operstate: 'up', link: 'up' });
    await daemon.waitFor((l) => l.msg === 'rpmsg3: link up', 5_000);
    expect(up.linkChanges).toBe(Number(nsExec(LNX, 'cat', ['/sys/class/net/rpmsg3/carrier_changes']).trim()));
    expect(await ping('169.254.103.2', 2)).toMatch(/2 received/);
  });

  it('capture: a packet socket on the interface, pcapng that tcpdump reads, request tx and reply rx; then replay', async () => {
    const file = join(ns.dir, 'netdev.pcapng');
    const capture = spawn(process.execPath, cliArgs(daemon, ['capture', '-w', file, '--channels', '2', '--duration', '3s']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    capture.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const exited = new Promise((r) => capture.once('exit', r));
    await daemon.waitFor((l) => l.msg === 'capture started: rpmsg2');
    await ping('169.254.102.2', 3);
    expect(await exited, err).toBe(0);

    const { stdout } = await run(tool('tcpdump'), ['-nr', file, 'icmp']);
    expect(stdout.match(/169\.254\.102\.1 > 169\.254\.102\.2: ICMP echo request/g)).toHaveLength(3);
    expect(stdout.match(/169\.254\.102\.2 > 169\.254\.102\.1: ICMP echo reply/g)).toHaveLength(3);
    const dirs = await run(tool('tshark'), ['-r', file, '-Y', 'icmp', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'icmp.type', '-e', 'frame.p2p_dir']);
    const rows = dirs.stdout.trim().split('\n').map((l) => l.split('|'));
    expect(rows.filter((r) => r[0] === 'rpmsg2' && r[1] === '8' && r[2] === '0')).toHaveLength(3); // outbound
    expect(rows.filter((r) => r[0] === 'rpmsg2' && r[1] === '0' && r[2] === '1')).toHaveLength(3); // inbound

    // The frames Linux sent (outbound), into the interface again: the remote end receives them; the
    // inbound ones (received from the remote) replay leaves out.
    const all = (await run(tool('tshark'), ['-r', file, '-T', 'fields', '-e', 'frame.p2p_dir'])).stdout.trim().split('\n');
    const outbound = all.filter((d) => d === '0').length;
    const before = Number(nsExec(VX, 'cat', ['/sys/class/net/vx2/statistics/rx_packets']).trim());
    const out = await cli(['replay', file, '--channel', '2']);
    expect(out).toMatch(new RegExp(`\\b${outbound} of ${all.length} frame\\(s\\) sent into channel 2`));
    await until('vx2 got the replayed frames', async () =>
      Number(nsExec(VX, 'cat', ['/sys/class/net/vx2/statistics/rx_packets']).trim()) - before >= outbound ? true : undefined,
    );
  });

  it('reload: a new address in place; a channel added and removed', async () => {
    standIn(4);
    writeConfig(`${MOVED}  "3": { health: false }\n  "4": { health: false }\n`);
    nsExec(VX, 'ip', ['addr', 'add', '169.254.202.2/24', 'dev', 'vx2']);
    // --channels 1-3 on the command line holds: channel 4 stays out; 2 changes in place.
    const result = JSON.parse(await cli(['reload', '--json'])) as Record<string, number[]>;
    expect(result).toMatchObject({ added: [], removed: [], changed: [2], restarted: [] });
    expect(addresses(LNX, 'rpmsg2')).toEqual(['169.254.202.1/24']);
    expect(await ping('169.254.202.2', 2)).toMatch(/2 received/);
    expect((await channel(2)).address).toBe('169.254.202.1/24');

    // Channel 3 disabled: released (its address goes, the one that was there before stays, admin state
    // back to down as it was found); enabled again: adopted again.
    writeConfig(`${MOVED}  "3": { enabled: false }\n`);
    expect(JSON.parse(await cli(['reload', '--json']))).toMatchObject({ removed: [3] });
    expect(addresses(LNX, 'rpmsg3')).toEqual(['10.99.0.1/24']);
    expect(links(LNX).find((l) => l.ifname === 'rpmsg3')?.flags).not.toContain('UP');
    writeConfig(`${MOVED}  "3": { health: false }\n`);
    expect(JSON.parse(await cli(['reload', '--json']))).toMatchObject({ added: [3] });
    expect(await ping('169.254.103.2', 2)).toMatch(/2 received/);
  });

  it('an interface deleted and made again (rmmod + insmod) is adopted again, with what a reload changed meanwhile; a running capture goes on on it', async () => {
    // A capture of channel 1 across the whole episode: its packet socket was bound to the old interface.
    const file = join(ns.dir, 'readopted.pcapng');
    const capture = spawn(process.execPath, cliArgs(daemon, ['capture', '-w', file, '--channels', '1', '--duration', '10s']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    capture.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const exited = new Promise((r) => capture.once('exit', r));
    await daemon.waitFor((l) => l.msg === 'capture started: rpmsg1');
    sh('ip', ['-n', LNX, 'link', 'del', 'rpmsg1']);
    await daemon.waitFor((l) => /rpmsg1 in namespace rpe-nd-lnx is gone .*channel 1 is down/.test(l.msg), 5_000);
    expect((await channel(1)).down).toMatch(/is gone/);
    // A reload while it is away changes its plan; it is not restarted (that would fail: no interface).
    writeConfig(`${MOVED}  "3": { health: false }\n  "1": { address: 169.254.201.1/24, peerAddress: 169.254.201.2 }\n`);
    expect(JSON.parse(await cli(['reload', '--json']))).toMatchObject({ changed: [1], restarted: [] });
    standIn(1);
    nsExec(VX, 'ip', ['addr', 'add', '169.254.201.2/24', 'dev', 'vx1']);
    await daemon.waitFor((l) => l.msg === 'rpmsg1 is back: adopted again with its address', 5_000);
    expect(addresses(LNX, 'rpmsg1')).toEqual(['169.254.201.1/24']);
    expect(await ping('169.254.201.2', 2)).toMatch(/2 received/);
    expect((await channel(1)).down).toBeNull();
    await until('channel 1 peer reachable again', async () => ((await channel(1)).peer?.reachable === true ? true : undefined));
    expect(await exited, err).toBe(0);
    const { stdout } = await run(tool('tcpdump'), ['-nr', file, 'icmp']);
    expect(stdout.match(/169\.254\.201\.1 > 169\.254\.201\.2: ICMP echo request/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(stdout.match(/169\.254\.201\.2 > 169\.254\.201\.1: ICMP echo reply/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('a missing interface and a wrong MTU: one line naming the channel, exit 1; nothing left changed', async () => {
    const missing = await failedUp(['--config', config, '--netns', LNX, '--channels', '5']);
    expect(missing.code).toBe(1);
    expect(missing.last).toMatch(/^rpmsg-eth: channel 5 \(nokia-nat-channel\): there is no interface rpmsg5 in namespace rpe-nd-lnx: .*netdev=5/);

    standIn(6, 1500);
    const mtu = await failedUp(['--config', config, '--netns', LNX, '--channels', '6']);
    expect(mtu.code).toBe(1);
    expect(mtu.last).toMatch(/^rpmsg-eth: channel 6 \(.*\): rpmsg6 in namespace rpe-nd-lnx has MTU 1500, the plan says 482: /);
    expect(addresses(LNX, 'rpmsg6')).toEqual([]);
    expect(links(LNX).find((l) => l.ifname === 'rpmsg6')?.flags).not.toContain('UP');
  });

  it('an MTU the config lowers on purpose (channels.N.mtu) is set, and put back as found on stop', async () => {
    // rpmsg6 from the test before: MTU 1500, down, no address.
    const lowered = join(ns.dir, 'lowered.yaml');
    writeFileSync(lowered, `${lantaConfig}transport: netdev\nhealth: { intervalMs: 0 }\nchannels:\n  "6": { mtu: 400 }\n`);
    const second = new DaemonProcess(['--config', lowered, '--netns', LNX, '--channels', '6'], join(ns.dir, 'second.sock'));
    try {
      await second.ready();
      expect(links(LNX).find((l) => l.ifname === 'rpmsg6')?.mtu).toBe(400);
      expect(addresses(LNX, 'rpmsg6')).toEqual(['169.254.106.1/24']);
      const c6 = (JSON.parse((await run(process.execPath, cliArgs(second, ['status', '--json']))).stdout) as { channels: StatusLine[] }).channels[0];
      expect(c6).toMatchObject({ channel: 6, mtu: 400, adminUp: true });
    } finally {
      expect(await second.stop()).toBe(0);
    }
    expect(links(LNX).find((l) => l.ifname === 'rpmsg6')?.mtu).toBe(1500);
    expect(links(LNX).find((l) => l.ifname === 'rpmsg6')?.flags).not.toContain('UP');
    expect(addresses(LNX, 'rpmsg6')).toEqual([]);
  });

  it('stop: the interfaces stay, without the daemon\'s addresses, down as they were found', async () => {
    expect(await daemon.stop()).toBe(0);
    await daemon.waitFor((l) => /^stopped: the daemon's addresses removed/.test(l.msg)).catch(() => undefined);
    for (const n of CHANNELS) {
      const ifname = `rpmsg${n}`;
      expect(links(LNX).some((l) => l.ifname === ifname)).toBe(true);
      expect(addresses(LNX, ifname)).toEqual(n === 3 ? ['10.99.0.1/24'] : []);
      expect(links(LNX).find((l) => l.ifname === ifname)?.flags).not.toContain('UP');
    }
    expect(daemon.lines.some((l) => l.msg === "stopped: the daemon's addresses removed, rpmsg_eth's interfaces left in place")).toBe(true);
  });
});
