// Supervises one simulated VxWorks peer process (sim/vx_peer.c) for one channel.
// The peer runs on its own, as the remote core does: the daemon only hands it the two ring sockets.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../src/util/errors.js';

const READY_TIMEOUT_MS = 10_000;

export interface PeerOptions {
  netns: string;
  ifname: string;
  mac: string;
  mtu: number;
  maxPayload: number;
  numBufs: number;
  framing?: 'raw' | 'frag';
}

/** Locates dist/sim/vx-peer (built by `npm run build:peer`) from both sim/ (tests) and dist/sim/ (installed). */
export function findPeerBinary(): string {
  for (const rel of ['../dist/sim/vx-peer', './vx-peer']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new UserError('the simulated peer (dist/sim/vx-peer) is not built: run "npm run build:peer"', 1);
}

export interface RunningPeer {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process is gone. */
  exited: Promise<string>;
  /** The counters the peer prints as one JSON line on stderr at exit (undefined if it printed none). */
  counters: Promise<Record<string, unknown> | undefined>;
}

/**
 * Starts the peer with the ring's data and doorbell sockets and its shared page as fds 3, 4 and 5;
 * resolves once it reports "ready".
 */
export function startPeer(opts: PeerOptions, dataFd: number, doorbellFd: number, ringFd: number): Promise<RunningPeer> {
  const args = [
    '--netns', opts.netns,
    '--ifname', opts.ifname,
    '--mac', opts.mac,
    '--mtu', String(opts.mtu),
    '--max-payload', String(opts.maxPayload),
    '--num-bufs', String(opts.numBufs),
  ];
  if (opts.framing === 'frag') args.push('--framing', 'frag');
  const child = spawn(findPeerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe', dataFd, doorbellFd, ringFd] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? String(code)));
  });
  const counters = new Promise<Record<string, unknown> | undefined>((resolve) => {
    const parse = () => {
      const line = stderr.trimEnd().split('\n').pop() ?? '';
      try {
        resolve(line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : undefined);
      } catch {
        resolve(undefined);
      }
    };
    if (child.stderr) child.stderr.once('end', parse).once('error', () => resolve(undefined));
    else resolve(undefined);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new UserError(`simulated peer for ${opts.ifname} did not get ready within ${READY_TIMEOUT_MS} ms`, 1));
    }, READY_TIMEOUT_MS);
    const onData = (s: string) => {
      out += s;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve({ child, exited, counters });
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('error', (err) => reject(new UserError(`cannot start the simulated peer: ${err.message}`, 1)));
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new UserError(`simulated peer for ${opts.ifname} exited (${how}) before it was ready: ${stderr.trim()}`, 1));
    });
  });
}
