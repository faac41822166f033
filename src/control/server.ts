// Serves the control socket for the running daemon.
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ControlRequest, ControlResponse } from './protocol.js';

/** `closed` aborts when the client goes away before the answer (e.g. Ctrl-C on a running capture). */
export type ControlHandler = (req: ControlRequest, closed: AbortSignal) => Promise<unknown> | unknown;

const MAX_REQUEST = 64 * 1024;

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

  constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
  ) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    if (await socketInUse(this.path)) {
      throw new UserError(`another rpmsg-eth daemon is running (control socket ${this.path} answers)`, 1);
    }
    try {
      unlinkSync(this.path); // stale socket of a daemon that did not exit cleanly
    } catch {
      /* not there */
    }
    // Half-open: a client that closes its side (Ctrl-C on `capture`) still gets the answer.
    // One request per connection; a client that ends its side without a request in flight is gone.
    const server = createServer({ allowHalfOpen: true }, (sock) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
      let buf = '';
      let pending = false;
      const closed = new AbortController();
      sock.setEncoding('utf8');
      sock.on('error', () => sock.destroy());
      sock.once('end', () => (pending ? closed.abort() : sock.destroy()));
      sock.once('close', () => closed.abort());
      sock.on('data', (chunk: string) => {
        if (pending) return;
        buf += chunk;
        if (buf.length > MAX_REQUEST) return void sock.destroy();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        pending = true;
        void this.answer(buf.slice(0, nl), closed.signal).then((res) => {
          if (!sock.destroyed) sock.end(`${JSON.stringify(res)}\n`, () => sock.destroy());
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const old = process.umask(0o177);
      server.listen(this.path, () => {
        process.umask(old);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    this.server = server;
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
