// Capture timestamps: nanoseconds since the epoch from the monotonic clock, anchored to the wall clock
// once, so the timestamps of one capture never jump backwards.

export function wallClockNs(): () => bigint {
  const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => base + process.hrtime.bigint();
}
