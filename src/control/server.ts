// Serves the control socket for the running daemon.
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ControlRequest, ControlResponse } from './protocol.js';
import { encodeMessage } from './records.js';
import { STREAM_COMMANDS, streamRequestSchema, type StreamMessage, type StreamRequest } from './stream-protocol.js';

/** `closed` aborts when the client goes away before the answer. */
export type ControlHandler = (req: ControlRequest, closed: AbortSignal) => Promise<unknown> | unknown;

/** The connection of a streaming command, past its request line. */
export interface StreamContext {
  sock: Socket;
  /** Bytes the client sent after the request line, already read. */
  rest: Buffer;
  /** Aborts when the connection closes (the client is gone). */
  gone: AbortSignal;
}

/** Runs a capture or replay; its result (or error) becomes the stream's `end` message. */
export type StreamHandler = (req: StreamRequest, ctx: StreamContext) => Promise<unknown>;

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
    private readonly streamHandler: StreamHandler,
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
    // Half-open: a client that closes its side (Ctrl-C on `capture`, the end of `replay`'s frames) still
    // gets the answer. One request per connection.
    const server = createServer({ allowHalfOpen: true }, (sock) => this.serve(sock));
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

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    const gone = new AbortController();
    sock.once('close', () => {
      this.sockets.delete(sock);
      gone.abort();
    });
    sock.on('error', () => sock.destroy());
    // A client that ends its side before a whole request line is gone.
    const onEnd = () => sock.destroy();
    sock.once('end', onEnd);
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) sock.destroy();
        return;
      }
      if (nl > MAX_REQUEST) return void sock.destroy();
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.pause();
      const line = buf.subarray(0, nl).toString('utf8');
      const rest = buf.subarray(nl + 1);
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        req = undefined;
      }
      const cmd = (req as { cmd?: unknown } | undefined)?.cmd;
      if (typeof cmd === 'string' && STREAM_COMMANDS.has(cmd)) void this.serveStream(sock, req, rest, gone.signal);
      else this.serveLine(sock, req, gone);
    };
    sock.on('data', onData);
  }

  private serveLine(sock: Socket, req: unknown, gone: AbortController): void {
    // The client ends its side only to abandon its request; anything it sends after the line is ignored.
    sock.once('end', () => gone.abort());
    sock.resume();
    void this.answer(req, gone.signal).then((res) => {
      if (!sock.destroyed) sock.end(`${JSON.stringify(res)}\n`, () => sock.destroy());
    });
  }

  private async answer(req: unknown, closed: AbortSignal): Promise<ControlResponse> {
    try {
      if (req === undefined || typeof req !== 'object' || req === null) throw new Error('malformed request: not a JSON object');
      return { ok: true, result: await this.handler(req as ControlRequest, closed) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  private async serveStream(sock: Socket, raw: unknown, rest: Buffer, gone: AbortSignal): Promise<void> {
    let end: StreamMessage;
    const parsed = streamRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      end = { type: 'end', ok: false, error: `invalid request: ${issue ? `${issue.path.join('.') || 'request'}: ${issue.message}` : 'malformed'}` };
    } else {
      try {
        end = { type: 'end', ok: true, result: await this.streamHandler(parsed.data, { sock, rest, gone }) };
      } catch (err) {
        end = { type: 'end', ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
    if (!sock.destroyed) sock.end(encodeMessage(end), () => sock.destroy());
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
