// Serves the control socket for the running daemon.
//
// The path must be absent or a socket nobody answers on (a crashed daemon's): anything else is refused,
// never deleted. Connections are bounded in number, in request size and in the time a request may take
// to arrive, so that idle or abusive clients cannot pile up.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ControlRequest, ControlResponse } from './protocol.js';

/** `closed` aborts when the client goes away before the answer (e.g. Ctrl-C on a running capture). */
export type ControlHandler = (req: ControlRequest, closed: AbortSignal) => Promise<unknown> | unknown;

const MAX_REQUEST = 64 * 1024;
/** sockaddr_un.sun_path holds 108 bytes including the NUL. */
export const MAX_SOCKET_PATH = 107;
export interface ControlLimits {
  /** Connections open at once (running captures count); more are closed as they arrive. */
  maxConnections: number;
  /** A connection whose request has not arrived whole by then is closed. */
  requestTimeoutMs: number;
}
const DEFAULT_LIMITS: ControlLimits = { maxConnections: 64, requestTimeoutMs: 10_000 };

/** Refuses a path that cannot be a control socket, with the one line a user needs. */
function checkSocketPath(path: string): 'absent' | 'socket' {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH) {
    throw new UserError(`control socket ${path}: ${bytes} bytes, but a Unix socket path holds at most ${MAX_SOCKET_PATH}: choose a shorter --control-socket`, 1);
  }
  let kind: string;
  try {
    const st = lstatSync(path);
    if (st.isSocket()) return 'socket';
    kind = st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : st.isSymbolicLink() ? 'a symbolic link' : 'not a socket';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    throw new UserError(`control socket ${path}: ${(err as Error).message}`, 1);
  }
  throw new UserError(`control socket ${path} exists and is ${kind}: refusing to replace it; remove it or choose another --control-socket`, 1);
}

/** True when a live daemon answers on `path`; false for a missing or stale socket. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private readonly limits: ControlLimits;

  constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
    limits: Partial<ControlLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  async start(): Promise<void> {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new UserError(`control socket ${this.path}: cannot create its directory: ${(err as Error).message}`, 1);
    }
    if (checkSocketPath(this.path) === 'socket') {
      if (await socketInUse(this.path)) {
        throw new UserError(`another rpmsg-eth daemon is running (control socket ${this.path} answers)`, 1);
      }
      unlinkSync(this.path); // stale socket of a daemon that did not exit cleanly
    }
    const server = createServer({ allowHalfOpen: true }, (sock) => this.serve(sock));
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', () => undefined); // over maxConnections: node closes it; nothing to log per attempt
    await new Promise<void>((resolve, reject) => {
      const old = process.umask(0o177);
      server.once('error', (err) => {
        process.umask(old);
        reject(new UserError(`control socket ${this.path}: cannot listen: ${err.message}`, 1));
      });
      server.listen(this.path, () => {
        process.umask(old);
        resolve();
      });
    });
    // From here on close() owns it, whatever fails next.
    this.server = server;
    try {
      chmodSync(this.path, 0o600);
    } catch (err) {
      throw new UserError(`control socket ${this.path}: cannot make it private (chmod 0600): ${(err as Error).message}`, 1);
    }
  }

  /**
   * One request per connection, a JSON line. Half-open: a client that closes its side (Ctrl-C on
   * `capture`) still gets the answer; a client that ends its side without a request in flight is gone.
   */
  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    let buf = '';
    let pending = false;
    const closed = new AbortController();
    const timeout = setTimeout(() => sock.destroy(), this.limits.requestTimeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.once('end', () => (pending ? closed.abort() : sock.destroy()));
    sock.once('close', () => {
      clearTimeout(timeout);
      closed.abort();
    });
    sock.on('data', (chunk: string) => {
      if (pending) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) sock.destroy();
        return;
      }
      pending = true;
      clearTimeout(timeout);
      const line = buf.slice(0, nl);
      buf = '';
      const answer: Promise<ControlResponse> =
        line.length > MAX_REQUEST ? Promise.resolve({ ok: false, error: `request longer than ${MAX_REQUEST} bytes` }) : this.answer(line, closed.signal);
      void answer.then((res) => {
        if (!sock.destroyed) sock.end(`${JSON.stringify(res)}\n`, () => sock.destroy());
      });
    });
  }

  private async answer(line: string, closed: AbortSignal): Promise<ControlResponse> {
    try {
      const req = JSON.parse(line) as ControlRequest;
      return { ok: true, result: await this.handler(req, closed) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // Answers in flight have been given their chance (captures are stopped before this); a client that
    // keeps its connection open must not hold the daemon's exit.
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    const grace = setTimeout(() => {
      for (const sock of this.sockets) sock.destroy();
    }, 1000);
    await closing;
    clearTimeout(grace);
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
