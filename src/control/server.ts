// Serves the control socket for the running daemon. Every request is checked against the protocol
// (protocol.ts) before a handler sees it: a malformed one gets an error reply and the daemon goes on.
//
// The path must be absent or a socket nobody answers on (a crashed daemon's): anything else is refused,
// never deleted. Connections are bounded in number, in request size and in the time a request may take
// to arrive, so that idle or abusive clients cannot pile up.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.js';
import {
  parseRequest,
  STREAM_COMMANDS,
  type ControlResponse,
  type LineReply,
  type LineRequest,
  type StreamMessage,
  type StreamRequest,
} from './protocol.js';
import { encodeMessage } from './records.js';

/** `closed` aborts when the client goes away before the answer. */
export type ControlHandler = (req: LineRequest, closed: AbortSignal) => Promise<LineReply> | LineReply;

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
  private readonly streamHandler: StreamHandler | undefined;

  constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
    opts: Partial<ControlLimits> & { stream?: StreamHandler } = {},
  ) {
    const { stream, ...limits } = opts;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.streamHandler = stream;
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
   * One request per connection, a JSON line, which must arrive whole within the request timeout. Half-open:
   * a client that closes its side (Ctrl-C on `capture`, the end of `replay`'s frames) still gets the
   * answer. The streaming commands go on in records after the line.
   */
  private serve(sock: Socket): void {
    this.sockets.add(sock);
    const gone = new AbortController();
    const timeout = setTimeout(() => sock.destroy(), this.limits.requestTimeoutMs);
    sock.once('close', () => {
      clearTimeout(timeout);
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
      clearTimeout(timeout);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.pause();
      const line = buf.subarray(0, nl).toString('utf8');
      const rest = buf.subarray(nl + 1);
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        raw = undefined;
      }
      const parsed = parseRequest(raw);
      const cmd = parsed.ok ? parsed.request.cmd : (raw as { cmd?: unknown } | undefined)?.cmd;
      // A stream command's client reads records, also for its error; any other gets a JSON line.
      if (typeof cmd === 'string' && STREAM_COMMANDS.has(cmd)) {
        void this.serveStream(sock, parsed.ok ? (parsed.request as StreamRequest) : parsed.error, rest, gone.signal);
      } else {
        this.serveLine(sock, parsed.ok ? (parsed.request as LineRequest) : parsed.error, gone);
      }
    };
    sock.on('data', onData);
  }

  /** `req` is the request, or why it is not one. */
  private serveLine(sock: Socket, req: LineRequest | string, gone: AbortController): void {
    // The client ends its side only to abandon its request; anything it sends after the line is ignored.
    sock.once('end', () => gone.abort());
    sock.resume();
    void this.answer(req, gone.signal).then((res) => {
      if (!sock.destroyed) sock.end(`${JSON.stringify(res)}\n`, () => sock.destroy());
    });
  }

  private async answer(req: LineRequest | string, closed: AbortSignal): Promise<ControlResponse> {
    if (typeof req === 'string') return { ok: false, error: req };
    try {
      return { ok: true, result: await this.handler(req, closed) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** `req` is the request, or why it is not one. */
  private async serveStream(sock: Socket, req: StreamRequest | string, rest: Buffer, gone: AbortSignal): Promise<void> {
    let end: StreamMessage;
    if (typeof req === 'string') {
      end = { type: 'end', ok: false, error: req };
    } else if (!this.streamHandler) {
      end = { type: 'end', ok: false, error: `"${req.cmd}" is not served here` };
    } else {
      try {
        end = { type: 'end', ok: true, result: await this.streamHandler(req, { sock, rest, gone }) };
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
