// The client side of a streaming command (capture, replay): sends the request line, then reads the
// daemon's records — its `start` and `end` messages (validated) and, for a capture, frames.
import { createConnection, type Socket } from 'node:net';
import { UserError } from '../util/errors.js';
import { connectError } from './client.js';
import { RecordError, RecordParser, type StreamFrame } from './records.js';
import { streamMessageSchema, type StreamMessage, type StreamRequest } from './protocol.js';

type Start = Extract<StreamMessage, { type: 'start' }>;

export interface StreamConnection {
  /** For sending frames (replay) and ending the request side (end of frames, or stopping a capture). */
  sock: Socket;
  /** The daemon accepted the request. Rejects with the daemon's reason if it refused it. */
  started: Promise<Start>;
  /** The command's result. Rejects with the daemon's error, or if the connection breaks first. */
  result: Promise<unknown>;
}

export interface StreamHandlers {
  /** The daemon's `start`, before any frame that follows it (the `started` promise comes later). */
  start?(m: Start): void;
  /** Each frame the daemon streams. */
  frame?(f: StreamFrame): void;
}

/** Connects to `path` and sends `req`. */
export function openStream(path: string, req: StreamRequest, handlers: StreamHandlers = {}): StreamConnection {
  const sock = createConnection({ path, allowHalfOpen: true });
  let onStart!: (m: Start) => void;
  let onEnd!: (result: unknown) => void;
  let failStart!: (err: Error) => void;
  let failEnd!: (err: Error) => void;
  const started = new Promise<Start>((resolve, reject) => ((onStart = resolve), (failStart = reject)));
  const result = new Promise<unknown>((resolve, reject) => ((onEnd = resolve), (failEnd = reject)));
  // Handled by whoever awaits them; never an unhandled rejection while a caller is busy elsewhere.
  started.catch(() => undefined);
  result.catch(() => undefined);
  let settled = false;
  const fail = (err: UserError) => {
    if (settled) return;
    settled = true;
    failStart(err);
    failEnd(err);
    sock.destroy();
  };
  const parser = new RecordParser({
    message: (text) => {
      let msg: StreamMessage;
      try {
        msg = streamMessageSchema.parse(JSON.parse(text));
      } catch {
        throw new RecordError('an invalid message');
      }
      if (msg.type === 'start') {
        handlers.start?.(msg);
        return onStart(msg);
      }
      settled = true;
      if (msg.ok) {
        onEnd(msg.result);
      } else {
        const err = new UserError(`the daemon refused "${req.cmd}": ${msg.error ?? 'no reason given'}`, 1);
        failStart(err);
        failEnd(err);
      }
    },
    frame: (f) => handlers.frame?.(f),
  });
  sock.once('connect', () => sock.write(`${JSON.stringify(req)}\n`));
  sock.on('data', (chunk: Buffer) => {
    try {
      parser.push(chunk);
    } catch (err) {
      fail(new UserError(`garbled stream from the daemon on ${path}: ${(err as Error).message}`, 1));
    }
  });
  sock.once('end', () => {
    fail(new UserError(`the daemon on ${path} closed the connection before the end of "${req.cmd}"`, 1));
    sock.destroy();
  });
  sock.once('error', (err: NodeJS.ErrnoException) => fail(settled ? new UserError(err.message, 1) : connectError(path, err)));
  return { sock, started, result };
}
