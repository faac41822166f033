// One `rpmsg-eth capture` run in the daemon: takes the frames the bridges hand it for the chosen
// channels, passes them to a sink (the client's connection), and ends after --count frames or
// --duration, or when stopped. A frame the sink cannot take — its reader fell behind — is not captured
// and counted per channel; the data path never waits for a capture. The bridges call frame() only while
// a session is attached, so capture costs nothing when nobody captures.
import type { CaptureResult } from '../control/protocol.js';
import type { DropReason } from '../bridge/counters.js';
import type { CaptureDirection } from './pcapng-writer.js';

export interface CapturedFrameOptions {
  /** The daemon dropped this frame, for this reason. */
  dropReason?: DropReason;
  /** Length on the wire when `data` holds less. */
  originalLength?: number;
}

export interface CaptureSink {
  /** Takes a frame (copying it) or refuses it (false): then it is not captured. */
  write(channel: number, direction: CaptureDirection, data: Uint8Array, opts: CapturedFrameOptions): boolean;
}

export interface CaptureLimits {
  /** End after this many frames (frames not captured included). */
  count?: number;
  /** End after this long. */
  durationMs?: number;
}

export class CaptureSession {
  private readonly channels: ReadonlySet<number>;
  private readonly limit: number;
  private frames = 0;
  private missedFrames = 0;
  private readonly notCaptured = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private result: CaptureResult | undefined;
  private resolveDone!: (r: CaptureResult) => void;
  /** Resolves once the capture has ended. */
  readonly done = new Promise<CaptureResult>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly sink: CaptureSink,
    channels: readonly number[],
    limits: CaptureLimits = {},
    /** Told of frames not captured, with how many (the daemon's stats count them): once per call, not per frame. */
    private readonly onNotCaptured: (channel: number, count: number) => void = () => undefined,
  ) {
    for (const [what, v] of [['count', limits.count], ['duration', limits.durationMs]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new RangeError(`capture: ${what} must be a positive integer`);
    }
    this.channels = new Set(channels);
    this.limit = limits.count ?? Infinity;
    if (limits.durationMs !== undefined) this.timer = setTimeout(() => this.end('duration'), limits.durationMs);
  }

  /** True until the capture ends. */
  get active(): boolean {
    return this.result === undefined;
  }

  /** Records a frame of `channel`; frames of other channels, and frames after the end, are ignored. */
  frame(channel: number, direction: CaptureDirection, data: Uint8Array, opts: CapturedFrameOptions = {}): void {
    if (!this.active || !this.channels.has(channel)) return;
    if (this.sink.write(channel, direction, data, opts)) {
      this.frames++;
    } else {
      this.missedFrames++;
      this.notCaptured.set(channel, (this.notCaptured.get(channel) ?? 0) + 1);
      this.onNotCaptured(channel, 1);
    }
    if (this.frames + this.missedFrames >= this.limit) this.end('count');
  }

  /** `count` frames of `channel` went by without being captured (the kernel's socket queue was full). */
  missed(channel: number, count: number): void {
    if (!this.active || !this.channels.has(channel) || count <= 0) return;
    this.missedFrames += count;
    this.notCaptured.set(channel, (this.notCaptured.get(channel) ?? 0) + count);
    this.onNotCaptured(channel, count);
    if (this.frames + this.missedFrames >= this.limit) this.end('count');
  }

  /** Ends the capture now (the client stopped it or went away, the daemon stops). */
  stop(): CaptureResult {
    return this.end('stopped');
  }

  private end(ended: CaptureResult['ended']): CaptureResult {
    if (this.result) return this.result;
    clearTimeout(this.timer);
    this.result = { frames: this.frames, notCaptured: Object.fromEntries([...this.notCaptured].map(([c, n]) => [String(c), n])), ended };
    this.resolveDone(this.result);
    return this.result;
  }
}
