// Issue 10: the first run of a new user, end to end. `rpmsg-eth up` started from / finds the packaged
// config (or /etc/rpmsg-eth/rpmsg-eth.yaml when there is one, in a private mount namespace here), logs
// human lines on a terminal and JSON otherwise, sums up the IPv6 MTU problem in one line, reports the
// kernel's operstate in `status`, and speaks systemd's notify protocol with watchdog keep-alives.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, cliArgs, cliPath, repoRoot, type LogLine } from '../helpers/daemon.js';
import { sh } from '../helpers/netns.js';
import { useTestNamespaces } from '../helpers/test-namespaces.js';
import { NotifyListener, type NotifyMessage } from '../helpers/notify-socket.js';
import { privateEtc } from '../helpers/private-etc.js';
import { requireTools } from '../helpers/tools.js';
import type { StatusLine as StatusChannel } from '../../daemon/commands/status.js';

const run = promisify(execFile);
const packagedConfig = join(repoRoot, 'config/rpmsg-eth.yaml');
const lanta = join(repoRoot, 'config/lanta.dts');
/** The lookup starts from nothing: no $RPMSG_ETH_CONFIG or $RPMSG_ETH_CONTROL from the caller. */
const cleanEnv = { RPMSG_ETH_CONFIG: '', RPMSG_ETH_CONTROL: '' };


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ipv6Lines = (lines: LogLine[]) => lines.filter((l) => /IPv6/.test(String(l.msg)));

describe('up from / with the packaged config, as a systemd service would run it', () => {
  const LNX = 'rpe-fr-lnx';
  const VX = 'rpe-fr-vx';
  const WATCHDOG_MS = 1000;
  const scratch = useTestNamespaces(LNX, VX);
  let notify: NotifyListener;
  let daemon: DaemonProcess;
  let ready: NotifyMessage;

  beforeAll(async () => {
    notify = new NotifyListener(join(scratch.dir, 'notify.sock'));
    await notify.listening;
    daemon = new DaemonProcess(['--netns', LNX, '--peer-netns', VX, '--health-interval', '0'], undefined, {
      cwd: '/',
      env: { ...cleanEnv, RPMSG_ETH_LOG: '', NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(WATCHDOG_MS * 1000) },
    });
    await daemon.ready();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    notify?.close();
  });

  it('finds the packaged config from / and logs which config and device tree it read', () => {
    const used = daemon.lines.find((l) => String(l.msg).startsWith('config '));
    expect(used).toMatchObject({ config: packagedConfig, configSource: 'packaged', deviceTree: lanta });
    expect(used!.msg).toBe(`config ${packagedConfig} (packaged default), device tree ${lanta}`);
    expect(daemon.lines.find((l) => String(l.msg).startsWith('ready:'))!.msg).toBe('ready: 17 interface(s) up');
  });

  it('logs JSON when stderr is not a terminal, and the IPv6 MTU problem once for all 16 channels', () => {
    // DaemonProcess turns a line that is not JSON into {level: 50, msg: <text>}: pino's lines have `time`.
    expect(daemon.lines.every((l) => typeof l.time === 'number' && typeof l.pid === 'number')).toBe(true);
    expect(ipv6Lines(daemon.lines).map((l) => l.msg)).toEqual([
      `${lanta}: warning: rpmsg-buf-size: rpmsg1..rpmsg16 (16 channels): MTU 482 < 1280, IPv6 cannot run; framing: frag gives 1500`,
    ]);
  });

  it('tells systemd READY=1 with the interface count, then WATCHDOG=1 at least every half period', async () => {
    ready = await notify.waitFor('READY', '1');
    expect(ready.fields.STATUS).toBe('17 interfaces up');
    await sleep(4 * WATCHDOG_MS);
    const keepAlives = notify.messages.filter((m) => m.raw === 'WATCHDOG=1' && m.atMs > ready.atMs).map((m) => m.atMs);
    const gaps = [ready.atMs, ...keepAlives].slice(1).map((t, i) => t - [ready.atMs, ...keepAlives][i]!);
    expect(keepAlives.length).toBeGreaterThanOrEqual(6);
    // Every half period (500 ms): the typical gap. A timer may fire late on a busy machine, but no gap may
    // reach the period, where systemd would kill the daemon.
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    expect(median).toBeGreaterThan(0.4 * WATCHDOG_MS);
    expect(median).toBeLessThan(0.6 * WATCHDOG_MS);
    expect(Math.max(...gaps)).toBeLessThan(WATCHDOG_MS);
  });

  it("status: LINK is the kernel's operstate — down after `ip link set rpmsg3 down` while the peer link stays up", async () => {
    sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg3', 'down']);
    try {
      const { stdout } = await run(process.execPath, cliArgs(daemon, ['status', '--json']));
      const channels = (JSON.parse(stdout) as { channels: StatusChannel[] }).channels;
      const ch3 = channels.find((c) => c.channel === 3)!;
      const ch4 = channels.find((c) => c.channel === 4)!;
      expect(ch3).toMatchObject({ operstate: 'down', adminUp: false, link: 'up', carrier: true });
      expect(ch4.link).toBe('up');
      expect(ch4.operstate).not.toBe('down');
      expect(Object.keys(ch3.rates).sort()).toEqual(['rxBitsPerSecond', 'rxPacketsPerSecond', 'txBitsPerSecond', 'txPacketsPerSecond']);
      const table = (await run(process.execPath, cliArgs(daemon, ['status']))).stdout.split('\n');
      expect(table.find((l) => l.startsWith('rpmsg3 '))).toMatch(/^rpmsg3\s+3 \S+\s+admin-down\s+yes\s+482 .*\dbit\/s \d+pkt\/s/);
    } finally {
      sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg3', 'up']);
    }
  });

  it('says STOPPING=1 on SIGTERM and exits 0', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0);
    const stopping = await notify.waitFor('STOPPING', '1', 5000);
    expect(stopping.atMs).toBeGreaterThan(ready.atMs);
    expect(notify.messages.filter((m) => m.fields.READY === '1')).toHaveLength(1);
  });
});

describe('the system config /etc/rpmsg-eth/rpmsg-eth.yaml (private mount namespace)', () => {
  const LNX = 'rpe-fe-lnx';
  const VX = 'rpe-fe-vx';
  const scratch = useTestNamespaces(LNX, VX);
  let prefix: string[];
  let daemon: DaemonProcess;

  beforeAll(async () => {
    const socket = join(scratch.dir, 'control.sock');
    prefix = privateEtc(
      {
        // A relative deviceTree: next to this config, in /etc/rpmsg-eth.
        'rpmsg-eth.yaml': `deviceTree: ./board.dts\ncontrolSocket: ${socket}\nhealth: { intervalMs: 0 }\n`,
        'board.dts': readFileSync(join(repoRoot, 'test/fixtures/dts/three-channels.dts'), 'utf8'),
      },
      scratch.dir,
    );
    daemon = new DaemonProcess(['--netns', LNX, '--peer-netns', VX], socket, { cwd: '/', env: cleanEnv, prefix, socketFromConfig: true });
    await daemon.ready();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
  });

  it('up uses it, with its device tree resolved next to it, and serves the control socket it names', async () => {
    expect(daemon.lines.find((l) => String(l.msg).startsWith('config '))).toMatchObject({
      config: '/etc/rpmsg-eth/rpmsg-eth.yaml',
      configSource: 'system',
      deviceTree: '/etc/rpmsg-eth/board.dts',
    });
    expect(ipv6Lines(daemon.lines).map((l) => l.msg)).toEqual([
      '/etc/rpmsg-eth/board.dts: warning: rpmsg-buf-size: rpmsg1, rpmsg2 (2 channels): MTU 482 < 1280, IPv6 cannot run; framing: frag gives 1500',
    ]);
    // A client finds the daemon through the same config: no --control-socket.
    const { stdout } = await run(prefix[0]!, [...prefix.slice(1), process.execPath, cliPath, 'status', '--json'], {
      cwd: '/',
      env: { ...process.env, ...cleanEnv },
    });
    expect((JSON.parse(stdout) as { channels: StatusChannel[] }).channels.map((c) => c.ifname)).toEqual(['rpmsg0', 'rpmsg1', 'rpmsg2']);
  });

  it('plan follows the same order: --config, then $RPMSG_ETH_CONFIG, then /etc', () => {
    const plan = (args: string[], env: Record<string, string>) => {
      const r = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, cliPath, 'plan', '--json', ...args], {
        cwd: '/',
        encoding: 'utf8',
        env: { ...process.env, ...cleanEnv, ...env },
      });
      expect(r.status, r.stderr).toBe(0);
      return { read: r.stderr.split('\n')[0], interfaces: (JSON.parse(r.stdout) as unknown[]).length };
    };
    expect(plan([], {})).toEqual({ read: 'config /etc/rpmsg-eth/rpmsg-eth.yaml (system config), device tree /etc/rpmsg-eth/board.dts', interfaces: 3 });
    expect(plan([], { RPMSG_ETH_CONFIG: packagedConfig })).toEqual({ read: `config ${packagedConfig} ($RPMSG_ETH_CONFIG), device tree ${lanta}`, interfaces: 17 });
    expect(plan(['-c', packagedConfig], { RPMSG_ETH_CONFIG: '/etc/rpmsg-eth/rpmsg-eth.yaml' })).toEqual({
      read: `config ${packagedConfig} (--config), device tree ${lanta}`,
      interfaces: 17,
    });
  });
});

describe('up on a terminal', () => {
  const LNX = 'rpe-ft-lnx';
  const VX = 'rpe-ft-vx';
  const scratch = useTestNamespaces(LNX, VX);
  beforeAll(() => requireTools('script'));

  it('logs one human line per event (pino-pretty), no JSON, and the IPv6 summary once', async () => {
    const pidFile = join(scratch.dir, 'pid');
    const up = [process.execPath, cliPath, 'up', '--netns', LNX, '--peer-netns', VX, '--channels', '1-3', '--health-interval', '0', '--control-socket', join(scratch.dir, 'control.sock')];
    // script(1) gives the daemon a pseudo-terminal; the shell records the daemon's pid, then becomes it.
    const inner = `echo $$ > ${pidFile}; exec ${up.join(' ')}`;
    const child = spawn('script', ['-qfec', `sh -c '${inner}'`, '/dev/null'], {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...cleanEnv, RPMSG_ETH_LOG: '', NO_COLOR: '1', TERM: 'xterm' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const end = Date.now() + 60_000;
    while (!out.includes('ready: 3 interface(s) up')) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`no ready line on the terminal:\n${out}`);
      await sleep(100);
    }
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    expect(await exited).toBe(0);

    // eslint-disable-next-line no-control-regex
    const lines = out.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).filter((l) => l.trim() !== '');
    for (const line of lines) {
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): \S/);
      expect(line).not.toMatch(/[{}]/);
    }
    const messages = lines.map((l) => l.replace(/^\[[^\]]+\] \w+: /, ''));
    expect(messages).toContain(`config ${packagedConfig} (packaged default), device tree ${lanta}`);
    expect(messages.filter((m) => m.includes('IPv6'))).toEqual([
      `${lanta}: warning: rpmsg-buf-size: rpmsg1..rpmsg3 (3 channels): MTU 482 < 1280, IPv6 cannot run; framing: frag gives 1500`,
    ]);
    expect(messages).toContain('rpmsg2 up: nokia-redundancy-channel, mtu 482, 169.254.102.1/24 -> 169.254.102.2');
    expect(messages).toContain('SIGTERM: stopping');
    expect(messages[messages.length - 1]).toBe('stopped: interfaces and namespaces removed');
  });
});
