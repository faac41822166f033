// Issue 16 end to end: the daemon reads the board file config/lanta.dts (#include, /include/, a
// dt-bindings header, a &label override) and plans what its flattened equivalent plans; `capture` streams
// pcapng that the client writes (to a pipe into tcpdump, or a file in the client's own /tmp); a stopped
// reader neither stalls the data path nor goes unreported; `replay` sends exactly the frames of capture's
// pcapng, tshark's pcapng and tcpdump's nanosecond pcap, refuses bad files before sending anything, and
// streams a 512 MB file without the daemon holding it.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgs, cliPath, DaemonProcess, repoRoot } from '../helpers/daemon.js';
import { linkStats, sh } from '../helpers/netns.js';
import { useTestNamespaces } from '../helpers/test-namespaces.js';
import { requireTools } from '../helpers/tools.js';

const run = promisify(execFile);
const LNX = 'rpe-t16-lnx';
const VX = 'rpe-t16-vx';
const CHANNELS = [0, 1, 2, 3];

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runAll(cmd: string, args: string[], opts: { timeout?: number } = {}): Promise<RunResult> {
  return run(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeout ?? 120_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Static neighbours on both sides of channel n: no ARP frames in exact counts. */
function staticNeighbours(n: number): void {
  const mac = (ns: string, dev: string) => (JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show', dev])) as Array<{ address: string }>)[0]!.address;
  sh('ip', ['-n', LNX, 'neigh', 'replace', `169.254.${100 + n}.2`, 'lladdr', mac(VX, `vx${n}`), 'nud', 'permanent', 'dev', `rpmsg${n}`]);
  sh('ip', ['-n', VX, 'neigh', 'replace', `169.254.${100 + n}.1`, 'lladdr', mac(LNX, `rpmsg${n}`), 'nud', 'permanent', 'dev', `vx${n}`]);
}

function pingArgs(n: number, args: string[]): string[] {
  return ['netns', 'exec', LNX, 'ping', ...args, `169.254.${100 + n}.2`];
}

/** Per-packet round-trip times (ms) of a ping's output. */
function rtts(out: string): number[] {
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function vmRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

/** isb_ifdrop (option 5) of each interface statistics block of a pcapng written by PcapngWriter (little-endian). */
function ifdrops(path: string): Map<number, bigint> {
  const all = readFileSync(path);
  const out = new Map<number, bigint>();
  for (let at = 0; at + 8 <= all.length; at += all.readUInt32LE(at + 4)) {
    if (all.readUInt32LE(at) !== 5) continue;
    const end = at + all.readUInt32LE(at + 4) - 4;
    for (let o = at + 20; o + 4 <= end; ) {
      const code = all.readUInt16LE(o);
      const len = all.readUInt16LE(o + 2);
      if (code === 0) break;
      if (code === 5) out.set(all.readUInt32LE(at + 8), all.readBigUInt64LE(o + 4));
      o += 4 + ((len + 3) & ~3);
    }
  }
  return out;
}

describe('board file in, capture out, replay in', () => {
  const scratch = useTestNamespaces(LNX, VX);
  let dir: string;
  let runDir: string;
  let daemon: DaemonProcess;
  const cli = (args: string[]) => runAll(process.execPath, cliArgs(daemon, args));
  const capturesStarted = () => daemon.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('capture started')).length;
  /** Resolves once the daemon has started one more capture than `before`. */
  const captureStarted = (before: number) => daemon.waitFor(() => capturesStarted() > before, 30_000);
  const peerRx = (n: number) => linkStats(VX, `vx${n}`).rx.packets;

  beforeAll(async () => {
    requireTools('tshark', 'capinfos', 'tcpdump', 'unshare', 'mount');
    dir = scratch.dir;
    // The control socket outside /tmp: a client with its own /tmp must still reach it.
    runDir = mkdtempSync('/run/rpe-t16-');
    daemon = new DaemonProcess(
      ['config/lanta.dts', '--netns', LNX, '--peer-netns', VX, '--channels', CHANNELS.join(','), '--health-interval', '0'],
      join(runDir, 'control.sock'),
    );
    await daemon.ready();
    for (const n of CHANNELS) staticNeighbours(n);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('up reads the board file: its interfaces are what the flattened equivalent plans', async () => {
    const flat = JSON.parse((await runAll(process.execPath, [cliPath, 'plan', '--json', join(repoRoot, 'test/fixtures/dts/lanta-flat.dts')])).stdout) as Array<{
      channel: number; ifname: string; mtu: number; address: string; peerAddress: string;
    }>;
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { channels: Array<{ channel: number; ifname: string; mtu: number; address: string; peerAddress: string }> };
    const pick = ({ channel, ifname, mtu, address, peerAddress }: (typeof flat)[number]) => ({ channel, ifname, mtu, address, peerAddress });
    expect(status.channels.map(pick)).toEqual(flat.filter((p) => CHANNELS.includes(p.channel)).map(pick));
  });

  it('capture -w - --count 6 | tcpdump -nr - shows the 6 frames of a ping', async () => {
    const before = capturesStarted();
    const pipeline = runAll('sh', ['-c', `"${process.execPath}" ${cliArgs(daemon, ['capture', '-w', '-', '--count', '6', '--channels', '3']).map((a) => `'${a}'`).join(' ')} | tcpdump -nr -`]);
    await captureStarted(before);
    await run('ip', pingArgs(3, ['-c', '3', '-i', '0.2']));
    const r = await pipeline;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines, r.stdout).toHaveLength(6);
    expect(lines.filter((l) => /IP 169\.254\.103\.1 > 169\.254\.103\.2: ICMP echo request/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => /IP 169\.254\.103\.2 > 169\.254\.103\.1: ICMP echo reply/.test(l))).toHaveLength(3);
    expect(r.stderr).toMatch(/6 frame\(s\) written to -\n/);
  });

  it('-w /tmp/x.pcapng from a client with its own /tmp lands in that /tmp; the daemon never opens it', async () => {
    const name = `rpe-t16-${process.pid}.pcapng`;
    expect(existsSync(join('/tmp', name))).toBe(false);
    const args = cliArgs(daemon, ['capture', '-w', `/tmp/${name}`, '--count', '6', '--channels', '2']).map((a) => `'${a}'`).join(' ');
    // In the private mount namespace: capture into its /tmp, then show what is there. A checkout under
    // /tmp (a CI clone) is bound back over the new tmpfs, as the CLI runs from it.
    const ownTmp = repoRoot.startsWith('/tmp/')
      ? `mount --bind '${repoRoot}' /mnt && mount -t tmpfs tmpfs /tmp && mkdir -p '${repoRoot}' && mount --bind /mnt '${repoRoot}'`
      : 'mount -t tmpfs tmpfs /tmp';
    const script = `${ownTmp} && "${process.execPath}" ${args} && ls -ln /tmp/${name} && tcpdump -nr /tmp/${name}`;
    const before = capturesStarted();
    const client = runAll('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
    await captureStarted(before);
    await run('ip', pingArgs(2, ['-c', '3', '-i', '0.2']));
    const r = await client;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^-\\S+ 1 0 0 \\d+ .* /tmp/${name.replace('.', '\\.')}$`, 'm')); // the caller's (uid 0) file
    expect(r.stdout.match(/ICMP echo (request|reply)/g)).toHaveLength(6);
    // Not in the /tmp the daemon (and this test) see.
    expect(existsSync(join('/tmp', name))).toBe(false);
  });

  // Issue 13, item 6: a full disk used to leave the command silent until interrupted, the file cut mid-packet.
  it('a full disk ends the capture at once with exit 1 and a file cut after its last whole block', async () => {
    const args = cliArgs(daemon, ['capture', '-w', '/mnt/full.pcapng', '--channels', '0']).map((a) => `'${a}'`).join(' ');
    // A 256 KiB filesystem of its own, in a private mount namespace; afterwards, what readers make of the file.
    const script =
      `mount -t tmpfs -o size=256k tmpfs /mnt && "${process.execPath}" ${args}; echo "exit=$?"; ` +
      'capinfos -c -M /mnt/full.pcapng; echo "capinfos=$?"; tshark -r /mnt/full.pcapng > /dev/null; echo "tshark=$?"';
    const before = capturesStarted();
    const started = Date.now();
    const client = runAll('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { timeout: 60_000 });
    await captureStarted(before);
    // 8000-byte pings fill 256 KiB in a few dozen frames.
    const flood = spawn('ip', pingArgs(0, ['-i', '0.01', '-s', '8000', '-w', '30']), { stdio: 'ignore' });
    let r: RunResult;
    try {
      r = await client;
    } finally {
      flood.kill('SIGINT');
    }
    expect(Date.now() - started).toBeLessThan(25_000); // ended by the error, not by the ping's 30 s
    expect(r.stdout).toMatch(/^exit=1$/m);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('rpmsg-eth:'));
    expect(ours).toHaveLength(1); // one line, no stack trace
    expect(ours[0]).toMatch(/^rpmsg-eth: capture: writing the capture failed: .*no space left on device.*; \/mnt\/full\.pcapng keeps the \d+ bytes of whole blocks written before it$/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const packets = Number(/Number of packets:\s+(\d+)/.exec(r.stdout)?.[1]);
    expect(packets).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/^capinfos=0$/m);
    expect(r.stdout).toMatch(/^tshark=0$/m);
  });

  it('a stopped reader does not slow the data path; the capture, its file and stats report what it missed', async () => {
    const fifo = join(dir, 'capture.fifo');
    const file = join(dir, 'stopped-reader.pcapng');
    sh('mkfifo', [fifo]);
    const pingRtt = async (): Promise<{ median: number; loss: number }> => {
      const r = await runAll('ip', pingArgs(1, ['-c', '50', '-i', '0.02']));
      const t = rtts(r.stdout);
      return { median: median(t), loss: 50 - t.length };
    };
    // Heavy traffic on channel 2 keeps the capture busy: a flood ping with 400-byte payloads.
    const flood = spawn('ip', pingArgs(2, ['-f', '-s', '400', '-w', '120']), { stdio: 'ignore' });
    try {
      const idle = await pingRtt(); // no capture at all
      const before = capturesStarted();
      const captureArgs = cliArgs(daemon, ['capture', '-w', '-', '--channels', '1,2']).map((a) => `'${a}'`).join(' ');
      const shell = spawn('sh', ['-c', `"${process.execPath}" ${captureArgs} > '${fifo}' & echo capture $!; cat '${fifo}' > '${file}' & echo reader $!; wait`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      shell.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      shell.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      const exited = new Promise<number | null>((r) => shell.once('exit', r));
      await captureStarted(before);
      const pid = (what: string) => Number(new RegExp(`${what} (\\d+)`).exec(out)?.[1]);
      const reading = await pingRtt(); // capture running, reader keeping up

      process.kill(pid('reader'), 'SIGSTOP');
      // Wait until the daemon refuses frames to this client: its backlog is full.
      const notCaptured = async () =>
        (JSON.parse((await cli(['stats', '--json'])).stdout) as { channels: Array<{ channel: number; notCaptured: number }> }).channels.reduce(
          (n, c) => n + c.notCaptured,
          0,
        );
      const deadline = Date.now() + 60_000;
      while ((await notCaptured()) === 0) {
        if (Date.now() > deadline) throw new Error('the stopped reader never made the daemon leave frames out');
        await new Promise((r) => setTimeout(r, 200));
      }
      const stopped = await pingRtt(); // reader stopped, daemon leaving frames out
      process.kill(pid('reader'), 'SIGCONT');
      flood.kill('SIGINT');
      process.kill(pid('capture'), 'SIGINT');
      expect(await exited).toBe(0);

      console.log(
        `ping RTT median on channel 1 (channel 2 flooded): no capture ${idle.median} ms, capture with a reader ${reading.median} ms, ` +
          `reader stopped ${stopped.median} ms; lost ${idle.loss}/${reading.loss}/${stopped.loss} of 50`,
      );
      expect([idle.loss, reading.loss, stopped.loss]).toEqual([0, 0, 0]);
      // A stalled data path would show as seconds of RTT or loss; allow what two busy shared cores vary by.
      expect(stopped.median).toBeLessThan(Math.max(3 * reading.median, reading.median + 2));
      expect(stopped.median).toBeLessThan(Math.max(3 * idle.median, idle.median + 2));

      const missed = Number(/; (\d+) not captured: the reader fell behind/.exec(err)?.[1]);
      expect(missed, err).toBeGreaterThan(0);
      const drops = ifdrops(file);
      expect([...drops.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(missed));
      const stats = JSON.parse((await cli(['stats', '--json'])).stdout) as { channels: Array<{ channel: number; notCaptured: number }> };
      expect(stats.channels.reduce((n, c) => n + c.notCaptured, 0)).toBe(missed);
      expect((await cli(['stats'])).stdout).toMatch(/rpmsg2 .*\(capture missed \d+\)/);
      // The file is whole: tshark reads every frame of it.
      const info = await runAll('capinfos', ['-c', '-M', file]);
      const frames = Number(/^Number of packets:\s+(\d+)/m.exec(info.stdout)?.[1]);
      expect(frames).toBe(Number(/(\d+) frame\(s\) written to -/.exec(err)?.[1]));
    } finally {
      flood.kill('SIGKILL');
    }
  }, 240_000);

  describe('replay', () => {
    /** Replays `file` into channel 3; returns the result and how many frames the peer received. */
    async function replay(file: string, extra: string[] = []): Promise<RunResult & { received: number }> {
      const before = peerRx(3);
      const r = await cli(['replay', file, '--channel', '3', ...extra]);
      await new Promise((res) => setTimeout(res, 500)); // let the last frames land
      return { ...r, received: peerRx(3) - before };
    }

    /** Records 4 echo requests on rpmsg3 with the command `cmd` (run in the Linux-side namespace). */
    async function record(cmd: string[], file: string): Promise<void> {
      const child = spawn('ip', ['netns', 'exec', LNX, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      const deadline = Date.now() + 30_000;
      while (!/listening on|Capturing on/.test(err)) {
        if (Date.now() > deadline) throw new Error(`${cmd[0]} did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Echo requests until the tool has its 4 (it may start capturing a moment after it says so).
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      let done = false;
      void exited.then(() => (done = true));
      for (let i = 0; !done; i++) {
        if (i > 100) {
          child.kill();
          throw new Error(`${cmd[0]} did not record 4 echo requests: ${err}`);
        }
        await run('ip', pingArgs(3, ['-c', '1', '-W', '1']));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await exited, err).toBe(0);
      expect(statSync(file).size).toBeGreaterThan(0);
    }

    it("capture's own pcapng: the frames Linux sent, exactly", async () => {
      const file = join(dir, 'own.pcapng');
      const before = capturesStarted();
      const capture = cli(['capture', '-w', file, '--count', '6', '--channels', '3']);
      await captureStarted(before);
      await run('ip', pingArgs(3, ['-c', '3', '-i', '0.2']));
      expect((await capture).code).toBe(0);
      const r = await replay(file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('3 of 6 frame(s) sent into channel 3 (3 received from the other side: left out)\n');
      expect(r.received).toBe(3);
    });

    it('a pcapng written by tshark -F pcapng', async () => {
      const file = join(dir, 'tshark.pcapng');
      await record(['tshark', '-i', 'rpmsg3', '-F', 'pcapng', '-w', file, '-c', '4', '-f', 'icmp[icmptype] == 8'], file);
      expect(readFileSync(file).readUInt32BE(0)).toBe(0x0a0d0d0a);
      const r = await replay(file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('4 of 4 frame(s) sent into channel 3\n');
      expect(r.received).toBe(4);
    });

    it('a classic nanosecond pcap written by tcpdump', async () => {
      const file = join(dir, 'nano.pcap');
      await record(['tcpdump', '-i', 'rpmsg3', '--time-stamp-precision=nano', '-U', '-w', file, '-c', '4', 'icmp[icmptype] == 8'], file);
      expect(readFileSync(file).readUInt32LE(0)).toBe(0xa1b23c4d);
      const r = await replay(file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('4 of 4 frame(s) sent into channel 3\n');
      expect(r.received).toBe(4);
    });

    it('bad files: exit 1 with the reason, and the peer receives nothing', async () => {
      const anyFile = join(dir, 'any.pcap');
      await record(['tcpdump', '-i', 'any', '-U', '-w', anyFile, '-c', '4', 'icmp[icmptype] == 8'], anyFile);
      const good = readFileSync(join(dir, 'tshark.pcapng'));
      const truncated = join(dir, 'truncated.pcapng');
      writeFileSync(truncated, good.subarray(0, good.length - 30));
      const empty = join(dir, 'empty.pcap');
      writeFileSync(empty, '');
      const daemonTx = async () =>
        (JSON.parse((await cli(['stats', '--json'])).stdout) as { channels: Array<{ channel: number; tx: { packets: number } }> }).channels.find(
          (c) => c.channel === 3,
        )!.tx.packets;
      const txBefore = await daemonTx();
      for (const [file, why] of [
        [anyFile, /link type (113|276) \(Linux cooked capture/],
        [truncated, /truncated: the file ends at offset \d+, inside the block at offset \d+ \(after frame \d\)/],
        [empty, /the file is empty/],
      ] as const) {
        const r = await replay(file);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^rpmsg-eth: replay: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*\n$`));
        expect(r.stderr).toMatch(why);
        expect(r.received).toBe(0);
      }
      // Nothing entered the channel either (replayed frames count as the channel's tx).
      expect(await daemonTx()).toBe(txBefore);
    });

    it('a 512 MB pcap streams through: the daemon does not hold it, the peer gets every frame', async () => {
      const file = join(dir, 'big.pcap');
      const frames = 67_200; // 513.7 MiB
      const frame = Buffer.alloc(8000, 0x5a);
      Buffer.from('ffffffffffff020000000016', 'hex').copy(frame, 0); // broadcast from a local address
      frame.writeUInt16BE(0x88b5, 12); // local experimental ethertype
      const header = Buffer.alloc(24);
      header.writeUInt32LE(0xa1b2c3d4, 0);
      header.writeUInt16LE(2, 4);
      header.writeUInt16LE(4, 6);
      header.writeUInt32LE(65535, 16);
      header.writeUInt32LE(1, 20);
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(frame.length, 8);
      rec.writeUInt32LE(frame.length, 12);
      const chunk = Buffer.concat(Array.from({ length: 64 }, () => [rec, frame]).flat());
      const fd = openSync(file, 'w');
      writeSync(fd, header);
      for (let n = 0; n < frames / 64; n++) writeSync(fd, chunk);
      closeSync(fd);
      expect(statSync(file).size).toBeGreaterThan(510 * 1024 * 1024);

      const pid = daemon.child.pid as number;
      const base = vmRss(pid);
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, vmRss(pid))), 100);
      const before = peerRx(0);
      const r = await cli(['replay', file, '--channel', '0']);
      clearInterval(sampler);
      rmSync(file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${frames} of ${frames} frame(s) sent into channel 0\n`);
      await new Promise((res) => setTimeout(res, 1000));
      expect(peerRx(0) - before).toBe(frames);
      console.log(`replay of 512 MB: daemon RSS ${(base / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
      expect(peak - base).toBeLessThan(96 * 1024 * 1024);
    }, 300_000);
  });
});
