// Issue 6: reload adds, removes and changes channels while an untouched channel keeps flowing without a
// lost frame; an invalid config is rejected and the running setup stays; the control socket is root's.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, cliArgs, lantaConfig } from '../helpers/daemon.js';
import { createTestNetns, deleteTestNetns, links, requireRoot, sh } from '../helpers/netns.js';

const run = promisify(execFile);
const LNX = 'rpe-t6r-lnx';
const VX = 'rpe-t6r-vx';

function writeConfig(dir: string, channels: string): string {
  const path = join(dir, 'rpmsg-eth.yaml');
  writeFileSync(path, `${lantaConfig}transport: sim\nchannels:\n${channels}`);
  return path;
}

function addresses(ifname: string): string[] {
  const [info] = JSON.parse(sh('ip', ['-n', LNX, '-j', 'addr', 'show', 'dev', ifname])) as Array<{
    addr_info: Array<{ local: string; prefixlen: number; family: string }>;
  }>;
  return (info?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

describe('reload', () => {
  let dir: string;
  let config: string;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'rpe-reload-'));
    // Channels 1, 2, 3 enabled; 4 disabled for now.
    config = writeConfig(dir, '  "4": { enabled: false }\n');
    createTestNetns(LNX);
    createTestNetns(VX);
    daemon = new DaemonProcess(['--config', config, '--netns', LNX, '--peer-netns', VX, '--channels', '1-4']);
    await daemon.ready();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adds, removes and changes channels while an untouched channel loses nothing', async () => {
    expect(links(LNX).map((l) => l.ifname)).toEqual(expect.arrayContaining(['rpmsg1', 'rpmsg2', 'rpmsg3']));
    expect(links(LNX).some((l) => l.ifname === 'rpmsg4')).toBe(false);

    // A continuous ping on channel 1, which the reload does not touch: 10 per second for ~4 s.
    const ping = spawn('ip', ['netns', 'exec', LNX, 'ping', '-c', '40', '-i', '0.1', '169.254.101.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ping.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    // Listened for at once: on a loaded machine the reload below may outlast the ping.
    const exited = new Promise((r) => ping.once('exit', r));
    await new Promise((r) => setTimeout(r, 800));

    // Add 4, remove 2, change 3's address and MTU.
    writeConfig(dir, '  "2": { enabled: false }\n  "3": { address: 169.254.203.1/24, peerAddress: 169.254.203.2, mtu: 400 }\n');
    const { stdout } = await run(process.execPath, cliArgs(daemon, ['reload', '--json']));
    const result = JSON.parse(stdout) as Record<string, number[]>;
    expect(result).toMatchObject({ added: [4], removed: [2], changed: [3], restarted: [] });
    expect(result.unchanged).toEqual([1]);

    const code = await exited;
    expect(out).toMatch(/40 packets transmitted, 40 received, 0% packet loss/);
    expect(code).toBe(0);

    const names = links(LNX).map((l) => l.ifname);
    expect(names).toContain('rpmsg4');
    expect(names).not.toContain('rpmsg2');
    expect(links(LNX).find((l) => l.ifname === 'rpmsg3')?.mtu).toBe(400);
    expect(addresses('rpmsg3')).toEqual(['169.254.203.1/24']);
    for (const peer of ['169.254.203.2', '169.254.104.2']) {
      const r = await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '2', '-i', '0.2', '-W', '2', peer]);
      expect(r.stdout).toMatch(/2 received/);
    }
    // Channel 1's link never went down.
    const stats = JSON.parse((await run(process.execPath, cliArgs(daemon, ['stats', '--json']))).stdout) as {
      channels: Array<{ channel: number; linkChanges: number }>;
    };
    expect(stats.channels.find((c) => c.channel === 1)?.linkChanges).toBe(1);
  });

  it('rejects an invalid config and keeps the running setup', async () => {
    const before = links(LNX).map((l) => l.ifname).sort();
    writeFileSync(config, `${lantaConfig}channels:\n  "3": { mtu: "big" }\n`);
    const err = await run(process.execPath, cliArgs(daemon, ['reload'])).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/channels\.3\.mtu/);
    expect(links(LNX).map((l) => l.ifname).sort()).toEqual(before);
    const r = await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '1', '-W', '2', '169.254.101.2']);
    expect(r.stdout).toMatch(/1 received/);
    expect(daemon.lines.some((l) => l.msg.startsWith('reload rejected') && /channels\.3\.mtu/.test(l.msg))).toBe(true);
  });

  it('reloads on SIGHUP', async () => {
    writeConfig(dir, '  "2": { enabled: false }\n  "4": { enabled: false }\n');
    daemon.child.kill('SIGHUP');
    await daemon.waitFor((l) => l.msg.startsWith('reloaded:') && Array.isArray(l.removed) && (l.removed as number[]).includes(4));
    expect(links(LNX).some((l) => l.ifname === 'rpmsg4')).toBe(false);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('refuses the control socket to a non-root user', async () => {
    const err = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...cliArgs(daemon, ['stats'])]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/permission denied|root only/i);
  });
});

describe('reload of a frag channel', () => {
  const LNXF = 'rpe-t6f-lnx';
  const VXF = 'rpe-t6f-vx';
  let dir: string;
  let daemon: DaemonProcess;
  const writeFrag = (channels: string) => {
    const path = join(dir, 'rpmsg-eth.yaml');
    writeFileSync(path, `${lantaConfig}transport: sim\nframing: frag\nchannels:\n${channels}`);
    return path;
  };

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'rpe-reload-frag-'));
    createTestNetns(LNXF);
    createTestNetns(VXF);
    daemon = new DaemonProcess(['--config', writeFrag('  "1": {}\n'), '--netns', LNXF, '--peer-netns', VXF, '--channels', '1']);
    await daemon.ready();
    await daemon.waitFor((l) => l.ifname === 'rpmsg1' && /peer speaks frag/.test(l.msg), 10_000);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    deleteTestNetns(LNXF);
    deleteTestNetns(VXF);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the negotiated frag MTU when only the address changes', async () => {
    expect(links(LNXF).find((l) => l.ifname === 'rpmsg1')?.mtu).toBe(1500);
    writeFrag('  "1": { address: 169.254.211.1/24, peerAddress: 169.254.211.2 }\n');
    const { stdout } = await run(process.execPath, cliArgs(daemon, ['reload', '--json']));
    expect(JSON.parse(stdout)).toMatchObject({ changed: [1], restarted: [] });
    expect(links(LNXF).find((l) => l.ifname === 'rpmsg1')?.mtu).toBe(1500);
    const r = await run('ip', ['netns', 'exec', LNXF, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1472', '169.254.211.2']);
    expect(r.stdout).toMatch(/2 received/);
  });
});
