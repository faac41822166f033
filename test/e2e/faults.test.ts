// Issue 13, items 1, 3 and 8, on the sim transport: a reload that fails while it is applied leaves the
// channels it touched as they were; a deleted interface takes its channel down (status says why) and is
// made again with its addresses; a second daemon on the same namespaces ends with one line and exit 1.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import type { ChannelStatus } from '../../src/control/protocol.js';
import { DaemonProcess, cliArgs, lantaConfig } from '../helpers/daemon.js';
import { links, nsExec, ping, sh } from '../helpers/netns.js';
import { useTestNamespaces } from '../helpers/test-namespaces.js';

const run = promisify(execFile);
const LNX = 'rpe-t13f-lnx';
const VX = 'rpe-t13f-vx';

function addresses(ns: string, ifname: string): string[] {
  const [info] = JSON.parse(sh('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', ifname])) as Array<{
    addr_info: Array<{ local: string; prefixlen: number; family: string }>;
  }>;
  return (info?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** One raw line to the control socket, as any client could send it; the daemon's reply line. */
function rawRequest(path: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path, allowHalfOpen: true });
    let out = '';
    sock.setEncoding('utf8').on('data', (s: string) => (out += s));
    sock.once('error', reject);
    sock.once('end', () => resolve(out));
    sock.end(line);
  });
}

async function pings(peer: string): Promise<boolean> {
  return (await ping(LNX, ['-c', '2', '-i', '0.2', '-W', '2', peer])).code === 0;
}

describe('faults: a reload that fails while applied, a deleted interface, a second daemon', () => {
  const ns = useTestNamespaces(LNX, VX);
  let config: string;
  let daemon: DaemonProcess;
  const writeConfig = (channels: string) => writeFileSync(config, `${lantaConfig}transport: sim\nchannels:\n${channels}`);
  const status = async (n: number): Promise<ChannelStatus> =>
    (await controlRequest(daemon.controlSocket, { cmd: 'status' })).channels.find((c) => c.channel === n)!;

  beforeAll(async () => {
    config = join(ns.dir, 'rpmsg-eth.yaml');
    writeConfig('  {}\n');
    daemon = new DaemonProcess(['--config', config, '--netns', LNX, '--peer-netns', VX, '--channels', '0-3']);
    await daemon.ready();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
  });

  it('a reload that fails while applied: channel 0, restarted before the failure, is back up and pinging', async () => {
    expect(await pings('169.254.100.2')).toBe(true);
    // Channel 0 restarts (framing), then channel 1's new peer address is refused by the kernel: it is on
    // vx1 already (EEXIST). Nothing in the plan can tell; only applying it does.
    nsExec(VX, 'ip', ['addr', 'add', '169.254.201.2/24', 'dev', 'vx1']);
    writeConfig('  "0": { framing: frag }\n  "1": { address: 169.254.201.1/24, peerAddress: 169.254.201.2 }\n');
    const err = await run(process.execPath, cliArgs(daemon, ['reload'])).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/undone: .*rpmsg0 back up/);
    nsExec(VX, 'ip', ['addr', 'del', '169.254.201.2/24', 'dev', 'vx1']);

    // Both channels as they were: channel 0 raw and up, channel 1 on its old address; both answer.
    expect(addresses(LNX, 'rpmsg0')).toEqual(['169.254.100.1/24']);
    expect(addresses(LNX, 'rpmsg1')).toEqual(['169.254.101.1/24']);
    expect(addresses(VX, 'vx1')).toEqual(['169.254.101.2/24']);
    expect(await pings('169.254.100.2')).toBe(true);
    expect(await pings('169.254.101.2')).toBe(true);
    const ch0 = await status(0);
    expect(ch0).toMatchObject({ down: null, operstate: 'up', link: 'up' });
    expect(ch0.framing).toBeUndefined();
    // The log says what was done and undone.
    const line = daemon.lines.find((l) => /^reload (rejected|failed)/.test(l.msg));
    expect(line?.msg).toMatch(/169\.254\.201\.2.*undone: .*rpmsg0 back up/);
  });

  it('`ip link del rpmsg2`: the channel goes down with the reason in status, then is made again with its addresses', async () => {
    writeConfig('  {}\n');
    await run(process.execPath, cliArgs(daemon, ['reload']));
    expect(await pings('169.254.102.2')).toBe(true);
    const recreatedBefore = daemon.lines.filter((l) => /rpmsg2 recreated/.test(l.msg)).length;
    sh('ip', ['-n', LNX, 'link', 'del', 'rpmsg2']);
    await daemon.waitFor((l) => /rpmsg2 .*was deleted: channel 2 is down/.test(l.msg), 10_000);
    const down = await status(2);
    // Down at once, unless the remake (a second later) already happened on a slow machine.
    if (daemon.lines.filter((l) => /rpmsg2 recreated/.test(l.msg)).length === recreatedBefore) {
      expect(down.down).toMatch(/rpmsg2 was deleted/);
    }
    await daemon.waitFor((l) => /rpmsg2 recreated with its addresses/.test(l.msg), 15_000);
    expect(addresses(LNX, 'rpmsg2')).toEqual(['169.254.102.1/24']);
    expect(await pings('169.254.102.2')).toBe(true);
    expect(await status(2)).toMatchObject({ down: null, operstate: 'up' });
    // Other channels did not notice.
    expect(await pings('169.254.103.2')).toBe(true);
  });

  it('a reload touching the remade channel works', async () => {
    writeConfig('  "2": { address: 169.254.202.1/24, peerAddress: 169.254.202.2 }\n');
    const { stdout } = await run(process.execPath, cliArgs(daemon, ['reload', '--json']));
    expect(JSON.parse(stdout)).toMatchObject({ changed: [2] });
    expect(addresses(LNX, 'rpmsg2')).toEqual(['169.254.202.1/24']);
    expect(await pings('169.254.202.2')).toBe(true);
  });

  it('an interface set down shows admin-down in status, from the kernel', async () => {
    sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg3', 'down']);
    try {
      expect(await status(3)).toMatchObject({ adminUp: false, operstate: 'down', down: null });
      const table = (await run(process.execPath, cliArgs(daemon, ['status']))).stdout.split('\n');
      expect(table.find((l) => l.startsWith('rpmsg3 '))).toMatch(/^rpmsg3\s+3 \S+\s+admin-down\s/);
    } finally {
      sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg3', 'up']);
    }
    expect((await status(3)).adminUp).toBe(true);
  });

  it('malformed control requests get an error reply each, and the daemon goes on (issue 14)', async () => {
    const reloads = () => daemon.lines.filter((l) => /^SIGHUP|^reload/.test(l.msg)).length;
    const before = reloads();
    for (const line of ['{"cmd":"peer-restart","channel":"0"}\n', '{"cmd":"capture","count":-5}\n', '{"cmd":"reload","now":true}\n', '[1,2]\n']) {
      expect(await rawRequest(daemon.controlSocket, line), line).toMatch(/invalid request/);
    }
    expect(reloads()).toBe(before); // the reload with a stray key was not acted on
    expect(daemon.child.exitCode).toBeNull();
    expect((await status(0)).down).toBeNull();
  });

  it('a second daemon on the same namespaces: one line naming the interface, exit 1; the first runs on', async () => {
    const second = new DaemonProcess(['--config', config, '--netns', LNX, '--peer-netns', VX, '--channels', '0-3']);
    expect(await second.exited).toBe(1);
    const ours = second.stderr.split('\n').filter((l) => l.startsWith('rpmsg-eth:'));
    expect(ours).toEqual([expect.stringMatching(/^rpmsg-eth: cannot create rpmsg0 in namespace rpe-t13f-lnx: .*another rpmsg-eth daemon/)]);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(links(LNX).map((l) => l.ifname)).toEqual(expect.arrayContaining(['rpmsg0', 'rpmsg1', 'rpmsg2', 'rpmsg3']));
    expect(await pings('169.254.100.2')).toBe(true);
  });
});
