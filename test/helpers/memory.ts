// Memory of a daemon under test, measured the same way at every point: heap-probe.cjs, preloaded into it,
// answers SIGUSR2 with RSS and V8 heap used right after a full GC. And the straight line through a series
// (least squares), to tell steady growth from noise.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './daemon.js';

/** Node options for the daemon (DaemonProcess opts.nodeArgs) that load the probe. */
export const HEAP_PROBE_NODE_ARGS = ['--expose-gc', '--require', join(repoRoot, 'test/helpers/heap-probe.cjs')];

export interface MemorySample {
  /** ms since the epoch, in the daemon. */
  time: number;
  rss: number;
  /** RSS split as /proc/PID/status has it (null where the kernel does not say). */
  rssAnon: number | null;
  rssFile: number | null;
  rssShmem: number | null;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Asks the probe in `child` (stdout a pipe) for samples, one at a time. */
export class MemoryProbe {
  private buf = '';
  private pending: Array<(s: MemorySample) => void> = [];
  private readonly ready: Promise<void>;
  private setReady: () => void = () => undefined;

  constructor(private readonly child: ChildProcess) {
    if (!child.stdout) throw new Error('MemoryProbe: the daemon has no stdout pipe');
    this.ready = new Promise((resolve) => (this.setReady = resolve));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        let sample: MemorySample & { probe?: string };
        try {
          sample = JSON.parse(line) as typeof sample;
        } catch {
          continue; // not the probe's
        }
        if (sample.probe === 'ready') this.setReady();
        else if (typeof sample.heapUsed === 'number') this.pending.shift()?.(sample);
      }
    });
  }

  /** Waits for the probe to be loaded first: a signal sent earlier would kill the process. */
  sample(timeoutMs = 10_000): Promise<MemorySample> {
    return new Promise((resolve, reject) => {
      const answer = (s: MemorySample) => {
        clearTimeout(timer);
        resolve(s);
      };
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.pending = this.pending.filter((p) => p !== answer);
        reject(new Error(`no answer from the heap probe (pid ${this.child.pid}) within ${timeoutMs} ms`));
      }, timeoutMs);
      void this.ready.then(() => {
        if (late) return;
        this.pending.push(answer);
        this.child.kill('SIGUSR2');
      });
    });
  }
}

export interface LineFit {
  /** y per x unit. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (NaN with fewer than 3 points). */
  slopeError: number;
}

/** Ordinary least squares through (x, y); needs two distinct x at least. */
export function fitLine(points: ReadonlyArray<readonly [number, number]>): LineFit {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  if (!(sxx > 0)) throw new Error('fitLine: needs two distinct x values at least');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residuals = points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0);
  const slopeError = n > 2 ? Math.sqrt(residuals / (n - 2) / sxx) : NaN;
  return { slope, intercept, slopeError };
}
