// One `rpmsg-eth capture` run: maps channels to pcapng interfaces, records frames the bridges hand it,
// and ends the capture after --count frames or --duration, or when stopped. The bridges call frame()
// only while a session is attached, so capture costs nothing when nobody captures.
import type { CaptureDirection, FrameOptions, PcapngWriter } from './pcapng-writer.js';

export interface CaptureChannel {
  channel: number;
  /** Interface name: the pcapng if_name. */
  ifname: string;
  /** Channel name: the pcapng if_description. */
  name: string;
}

export interface CaptureLimits {
  /** End after this many frames (dropped frames included). */
  count?: number;
  /** End after this long. */
  durationMs?: number;
}

export interface CaptureResult {
  /** Frames written, dropped frames included. */
  frames: number;
  /** Frames lost because the output could not keep up. */
  lost: number;
  ended: 'count' | 'duration' | 'stopped' | 'error';
  /** Set when ended === 'error': why the capture file could not be written. */
  error?: string;
}

export class CaptureSession {
  /** Channel number -> pcapng interface id. */
  private readonly interfaces = new Map<number, number>();
  private readonly limit: number;
  private timer: NodeJS.Timeout | undefined;
  private ending: Promise<CaptureResult> | undefined;
  private resolveDone!: (r: CaptureResult) => void;
  /** Resolves (never rejects) once the capture has ended and the file is complete. */
  readonly done = new Promise<CaptureResult>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly writer: PcapngWriter,
    channels: readonly CaptureChannel[],
    limits: CaptureLimits = {},
  ) {
    for (const [what, v] of [['count', limits.count], ['duration', limits.durationMs]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`capture: ${what} must be a positive number`);
    }
    this.limit = limits.count ?? Infinity;
    for (const c of channels) this.addChannel(c);
    if (limits.durationMs !== undefined) this.timer = setTimeout(() => void this.end('duration'), limits.durationMs);
  }

  /** True until the capture ends: bridges detach when it turns false. */
  get active(): boolean {
    return this.ending === undefined;
  }

  /** Adds a channel to the capture (e.g. one added by a reload); a no-op if already there. */
  addChannel(c: CaptureChannel): void {
    if (!this.active || this.interfaces.has(c.channel)) return;
    this.interfaces.set(c.channel, this.writer.addInterface(c.ifname, c.name));
  }

  /** True if frames of `channel` are captured. */
  wants(channel: number): boolean {
    return this.active && this.interfaces.has(channel);
  }

  /**
   * Records a frame of `channel` (copied: the caller's arena may be reused at once). Frames of
   * channels not in the capture, and frames after the end, are ignored.
   */
  frame(channel: number, direction: CaptureDirection, data: Uint8Array, opts?: FrameOptions): void {
    const iface = this.interfaces.get(channel);
    if (iface === undefined || !this.active) return;
    this.writer.writeFrame(iface, direction, data, opts);
    if (this.writer.stats.written + this.writer.stats.lost >= this.limit) void this.end('count');
  }

  /** Ends the capture now (the client went away, the daemon stops). */
  stop(): Promise<CaptureResult> {
    return this.end('stopped');
  }

  private end(ended: CaptureResult['ended']): Promise<CaptureResult> {
    this.ending ??= (async () => {
      clearTimeout(this.timer);
      let result: CaptureResult;
      try {
        await this.writer.close();
        result = { frames: this.writer.stats.written, lost: this.writer.stats.lost, ended };
      } catch (err) {
        result = {
          frames: this.writer.stats.written,
          lost: this.writer.stats.lost,
          ended: 'error',
          error: err instanceof Error ? err.message : String(err),
        };
      }
      this.resolveDone(result);
      return result;
    })();
    return this.ending;
  }
}
