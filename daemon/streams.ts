// `capture` and `replay` in the running daemon, over the client's own connection: captured frames stream
// out to the client (which writes the pcapng), replayed frames stream in from the client (which reads
// the file). The daemon never opens a capture file, and holds at most a fixed amount of either stream.
// Streams keeps what outlives one stream: the captures running (stopped with the daemon), the frames each
// channel's captures missed (`stats`), the channels being replayed into (one replay at a time each).
import type { FrameTap } from '../src/capture/capture-source.js';
import { CaptureSession, type CapturedFrameOptions, type CaptureSink } from '../src/capture/capture-session.js';
import { wallClockNs } from '../src/capture/wall-clock.js';
import type { CaptureRequest, CaptureResult, ReplayResult, StreamMessage, StreamRequest } from '../src/control/protocol.js';
import { encodeFrame, encodeMessage, MAX_FRAME, RecordError, RecordParser } from '../src/control/records.js';
import type { StreamContext } from '../src/control/server.js';
import type { Logger } from '../src/log.js';
import { UserError } from '../src/util/errors.js';
import type { CaptureTarget } from './channel.js';

export class Streams {
  private readonly captureStops = new Set<AbortController>();
  /** Frames captures did not take because their reader fell behind, per channel. */
  private readonly missed = new Map<number, number>();
  private readonly replaying = new Set<number>();

  constructor(private readonly log: Logger) {}

  /** Frames the captures of `channel` missed so far. */
  notCaptured(channel: number): number {
    return this.missed.get(channel) ?? 0;
  }

  /** Runs one capture or replay over `ctx`'s connection; its result (or error) ends the stream. */
  async serve(req: StreamRequest, ctx: StreamContext, targets: readonly CaptureTarget[]): Promise<CaptureResult | ReplayResult> {
    try {
      return req.cmd === 'capture' ? await this.capture(req, ctx, targets) : await this.replay(req.channel, ctx, targets);
    } catch (err) {
      this.log.warn({ cmd: req.cmd, err: (err as Error).message }, `${req.cmd} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Ends every capture (the daemon stops). */
  stopAll(): void {
    for (const stop of this.captureStops) stop.abort();
  }

  private async capture(req: CaptureRequest, ctx: StreamContext, targets: readonly CaptureTarget[]): Promise<CaptureResult> {
    // Ends with the client (Ctrl-C) or with the daemon, whichever goes first.
    const stop = new AbortController();
    this.captureStops.add(stop);
    try {
      const result = await runCapture(
        req,
        targets,
        ctx,
        stop.signal,
        (ifnames) => this.log.info({ interfaces: ifnames }, `capture started: ${ifnames.join(', ')}`),
        (channel, n) => this.missed.set(channel, this.notCaptured(channel) + n),
      );
      this.log.info({ ...result }, `capture ended (${result.ended}): ${result.frames} frame(s)`);
      return result;
    } finally {
      this.captureStops.delete(stop);
    }
  }

  private async replay(channel: number, ctx: StreamContext, targets: readonly CaptureTarget[]): Promise<ReplayResult> {
    const target = targets.find((t) => t.channel === channel);
    if (!target) throw new UserError(`no running channel ${channel}`, 1);
    if (this.replaying.has(channel)) throw new UserError(`channel ${channel} is already being replayed into`, 1);
    this.replaying.add(channel);
    try {
      const result = await runReplay(target, ctx);
      this.log.info({ channel, ...result }, `replay into ${target.ifname}: ${result.offered} of ${result.frames} frame(s) offered`);
      return result;
    } finally {
      this.replaying.delete(channel);
    }
  }
}

/** How far a capture client may fall behind (bytes queued for its socket) before frames are not captured. */
export const CAPTURE_BACKLOG = 4 * 1024 * 1024;
/** Replayed frames handed to the channel at a time (a bridge's TAP batch). */
const REPLAY_BATCH = 64;

/** Frames to a capture client's socket, refused while the client is more than `maxBacklog` bytes behind. */
class SocketSink implements CaptureSink {
  private corked = false;
  private readonly now = wallClockNs();

  constructor(
    private readonly ctx: StreamContext,
    private readonly maxBacklog: number,
  ) {}

  write(channel: number, direction: 'rx' | 'tx', data: Uint8Array, opts: CapturedFrameOptions): boolean {
    const { sock } = this.ctx;
    if (!sock.writable || sock.writableLength > this.maxBacklog) return false;
    // Frames of one event-loop turn (a bridge's batch) leave in one writev.
    if (!this.corked) {
      this.corked = true;
      sock.cork();
      process.nextTick(() => {
        this.corked = false;
        sock.uncork();
      });
    }
    const header = { channel, direction, originalLength: opts.originalLength ?? data.length, timestampNs: this.now(), dropReason: opts.dropReason };
    sock.write(encodeFrame(header, data.subarray(0, MAX_FRAME)));
    return true;
  }
}

function send(ctx: StreamContext, message: StreamMessage): void {
  ctx.sock.write(encodeMessage(message));
}

/**
 * Streams the chosen channels' frames to the client until the count or duration is reached, the client
 * ends its side (Ctrl-C) or goes away, or `stop` aborts (the daemon stops).
 */
async function runCapture(
  req: CaptureRequest,
  all: readonly CaptureTarget[],
  ctx: StreamContext,
  stop: AbortSignal,
  onStarted: (ifnames: string[]) => void,
  onNotCaptured: (channel: number, frames: number) => void,
): Promise<CaptureResult> {
  const targets = req.channels ? all.filter((t) => req.channels?.includes(t.channel)) : [...all];
  const missing = (req.channels ?? []).filter((n) => !all.some((t) => t.channel === n));
  if (missing.length) throw new UserError(`no running channel ${missing.join(', ')}`, 1);
  if (!targets.length) throw new UserError('no running channel to capture', 1);
  for (const t of targets) {
    if (t.source.capturing) throw new UserError(`${t.ifname} is already being captured`, 1);
  }
  const session = new CaptureSession(
    new SocketSink(ctx, CAPTURE_BACKLOG),
    targets.map((t) => t.channel),
    { count: req.count, durationMs: req.durationMs },
    onNotCaptured,
  );
  send(ctx, { type: 'start', interfaces: targets.map(({ channel, ifname, name }) => ({ channel, ifname, name })) });
  for (const t of targets) {
    const tap: FrameTap = {
      frame: (direction, data, dropReason, originalLength) => session.frame(t.channel, direction, data, { dropReason, originalLength }),
      missed: (count) => session.missed(t.channel, count),
    };
    try {
      t.source.setTap(tap);
    } catch (err) {
      for (const s of targets) s.source.setTap(undefined);
      session.stop();
      throw err;
    }
  }
  const onStop = () => void session.stop();
  stop.addEventListener('abort', onStop);
  ctx.gone.addEventListener('abort', onStop);
  ctx.sock.once('end', onStop);
  ctx.sock.resume(); // for 'end'; the client sends nothing else
  onStarted(targets.map((t) => t.ifname));
  try {
    return await session.done;
  } finally {
    stop.removeEventListener('abort', onStop);
    ctx.gone.removeEventListener('abort', onStop);
    ctx.sock.off('end', onStop);
    for (const t of targets) t.source.setTap(undefined);
  }
}

/**
 * Sends the frames the client streams into one channel, toward the remote side, until the client ends
 * its side. Reading the connection waits for the bridge, so at most one received chunk is held.
 */
async function runReplay(target: CaptureTarget, ctx: StreamContext): Promise<ReplayResult> {
  let batch: Uint8Array[] = [];
  const result: ReplayResult = { frames: 0, offered: 0, skipped: 0 };
  const parser = new RecordParser({
    message: () => {
      throw new RecordError('a message where frames were expected');
    },
    frame: (f) => {
      result.frames++;
      batch.push(f.data);
    },
  });
  const flush = async (): Promise<void> => {
    for (let at = 0; at < batch.length; at += REPLAY_BATCH) {
      const { offered, skipped } = await target.source.inject(batch.slice(at, at + REPLAY_BATCH));
      result.offered += offered;
      result.skipped += skipped;
    }
    batch = [];
  };
  send(ctx, { type: 'start' });
  try {
    parser.push(ctx.rest);
    await flush();
    for await (const chunk of ctx.sock.iterator({ destroyOnReturn: false })) {
      parser.push(chunk as Buffer);
      await flush();
    }
  } catch (err) {
    if (err instanceof RecordError) throw new UserError(`replay: the client's stream is malformed: ${err.message}`, 1);
    throw new UserError(`replay: the client went away after ${result.frames} frame(s)`, 1);
  }
  if (!parser.idle) throw new UserError(`replay: the client's stream ended inside a frame after ${result.frames} frame(s)`, 1);
  return result;
}
