// Durations on the command line: one syntax (number + unit) on every option.
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/util/duration.js';
import { UserError } from '../../../src/util/errors.js';

function error(value: string, limits = {}): UserError {
  try {
    parseDuration('--x', value, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    return err as UserError;
  }
  throw new Error(`expected "${value}" to be refused`);
}

describe('parseDuration', () => {
  it('reads ms, s, m and h, with decimals', () => {
    expect(['500ms', '5s', '1.5s', '2m', '1h', ' 250ms '].map((v) => parseDuration('--x', v))).toEqual([
      500, 5000, 1500, 120_000, 3_600_000, 250,
    ]);
  });

  it('refuses a bare number, naming the option and the units to use', () => {
    expect(error('4000').message).toBe('--x: "4000" needs a unit: 4000ms, 4000s or 4000m (e.g. 500ms, 5s, 2m)');
    expect(error('fast').message).toBe('--x: "fast" is not a duration (e.g. 500ms, 5s, 2m)');
    expect(error('5 s').message).toMatch(/is not a duration/);
    expect(error('-5s').message).toMatch(/is not a duration/);
  });

  it('0 means off only where the option allows it', () => {
    expect(parseDuration('--x', '0', { zero: true })).toBe(0);
    expect(parseDuration('--x', '0s', { zero: true })).toBe(0);
    expect(error('0').message).toMatch(/needs a unit/);
    expect(error('0ms').message).toBe('--x: "0ms" is shorter than 1ms');
  });

  it('enforces the limits', () => {
    expect(error('50ms', { minMs: 100 }).message).toBe('--x: "50ms" is shorter than 100ms');
    expect(error('2h', { maxMs: 3_600_000 }).message).toBe('--x: "2h" is longer than 1h');
    expect(parseDuration('--x', '100ms', { minMs: 100 })).toBe(100);
  });

  it('formats durations back', () => {
    expect([250, 1000, 1500, 60_000, 90_000, 7_200_000].map(formatDuration)).toEqual(['250ms', '1s', '1.5s', '1m', '90s', '2h']);
  });
});
