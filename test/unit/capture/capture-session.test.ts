// A capture session in the daemon: the channels it takes, --count and --duration, stop, and frames its
// sink refuses (a reader that fell behind) counted per channel instead of waited for.
import { describe, expect, it } from 'vitest';
import { CaptureSession, type CaptureSink } from '../../../src/capture/capture-session.js';

const frame = (tag: number): Buffer => Buffer.alloc(60, tag);

/** Takes frames while `open`, remembering them. */
function sink(): CaptureSink & { open: boolean; got: Array<[number, string, number, string | undefined]> } {
  const s = {
    open: true,
    got: [] as Array<[number, string, number, string | undefined]>,
    write(channel: number, direction: 'rx' | 'tx', data: Uint8Array, opts: { dropReason?: string }) {
      if (!s.open) return false;
      s.got.push([channel, direction, data[0]!, opts.dropReason]);
      return true;
    },
  };
  return s;
}

describe('CaptureSession', () => {
  it('ends after --count frames, ignoring channels not captured', async () => {
    const out = sink();
    const s = new CaptureSession(out, [0, 5], { count: 3 });
    s.frame(0, 'rx', frame(1));
    s.frame(7, 'rx', frame(2)); // not captured
    s.frame(5, 'tx', frame(3), { dropReason: 'busy' });
    expect(s.active).toBe(true);
    s.frame(5, 'rx', frame(4));
    expect(s.active).toBe(false);
    s.frame(0, 'rx', frame(5)); // after the end
    expect(await s.done).toEqual({ frames: 3, notCaptured: {}, ended: 'count' });
    expect(out.got).toEqual([[0, 'rx', 1, undefined], [5, 'tx', 3, 'busy'], [5, 'rx', 4, undefined]]);
  });

  it('counts frames the sink refuses, per channel, and they count toward --count', async () => {
    const out = sink();
    const missed: number[] = [];
    const s = new CaptureSession(out, [1, 2], { count: 5 }, (ch, n) => missed.push(ch, n));
    s.frame(1, 'tx', frame(1));
    out.open = false;
    s.frame(2, 'tx', frame(2));
    s.frame(2, 'rx', frame(3));
    s.frame(1, 'rx', frame(4));
    out.open = true;
    s.frame(1, 'tx', frame(5));
    expect(await s.done).toEqual({ frames: 2, notCaptured: { '1': 1, '2': 2 }, ended: 'count' });
    expect(missed).toEqual([2, 1, 2, 1, 1, 1]);
  });

  it('frames the kernel could not queue (missed): told once with the count, not once per frame', async () => {
    const calls: Array<[number, number]> = [];
    const s = new CaptureSession(sink(), [3], { count: 2_000_001 }, (ch, n) => calls.push([ch, n]));
    s.missed(3, 2_000_000);
    s.missed(4, 5); // not captured
    expect(calls).toEqual([[3, 2_000_000]]);
    s.frame(3, 'rx', frame(1));
    expect(await s.done).toEqual({ frames: 1, notCaptured: { '3': 2_000_000 }, ended: 'count' });
  });

  it('ends after --duration', async () => {
    const t0 = Date.now();
    const s = new CaptureSession(sink(), [0], { durationMs: 200 });
    s.frame(0, 'tx', frame(1));
    expect(await s.done).toEqual({ frames: 1, notCaptured: {}, ended: 'duration' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('stop() ends it once, and done reports the same result', async () => {
    const s = new CaptureSession(sink(), [0], { durationMs: 60_000 });
    s.frame(0, 'tx', frame(1));
    const a = s.stop();
    const b = s.stop();
    expect(a).toEqual({ frames: 1, notCaptured: {}, ended: 'stopped' });
    expect(b).toBe(a);
    expect(await s.done).toBe(a);
  });

  it('rejects a count or duration that is not a positive integer', () => {
    expect(() => new CaptureSession(sink(), [0], { count: 0 })).toThrow(/count must be a positive integer/);
    expect(() => new CaptureSession(sink(), [0], { count: 1.5 })).toThrow(/count must be a positive integer/);
    expect(() => new CaptureSession(sink(), [0], { durationMs: -1 })).toThrow(/duration must be a positive integer/);
  });
});
