// Durations on the command line: a number with a unit (500ms, 5s, 2m, 1h), the same on every option, so
// that no option's bare number means milliseconds while another's means seconds.
import { UserError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Every duration ends in a timer, and Node's timers fire at once beyond 2^31 - 1 ms (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationLimits {
  /** Smallest non-zero value, in milliseconds (default 1). */
  minMs?: number;
  /** Largest value, in milliseconds (default and at most MAX_TIMER_MS). */
  maxMs?: number;
  /** Whether a bare `0` (meaning off) is accepted. */
  zero?: boolean;
}

/** "500ms" -> 500, "1.5s" -> 1500, "2m" -> 120000; throws a UserError naming `option` otherwise. */
export function parseDuration(option: string, value: string, limits: DurationLimits = {}): number {
  const text = value.trim();
  if (limits.zero && /^0+(\.0*)?(ms|s|m|h)?$/.test(text)) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) {
    const hint = /^\d+(\.\d+)?$/.test(text) ? ` needs a unit: ${text}ms, ${text}s or ${text}m` : ' is not a duration';
    throw new UserError(`${option}: "${value}"${hint} (e.g. 500ms, 5s, 2m${limits.zero ? '; 0 = off' : ''})`, 2);
  }
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
  const min = limits.minMs ?? 1;
  if (ms < min) throw new UserError(`${option}: "${value}" is shorter than ${formatDuration(min)}`, 2);
  const max = Math.min(limits.maxMs ?? MAX_TIMER_MS, MAX_TIMER_MS);
  if (ms > max) throw new UserError(`${option}: "${value}" is longer than ${formatDuration(max)}`, 2);
  return ms;
}

/** A commander argument parser for a duration option; the value is in milliseconds. */
export function durationOption(option: string, limits: DurationLimits = {}): (value: string) => number {
  return (value) => parseDuration(option, value, limits);
}

/** 1500 -> "1.5s", 120000 -> "2m", 250 -> "250ms". */
export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
