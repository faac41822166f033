// glibc malloc's mmap and trim thresholds, fixed for a long-running process (native/malloc_tuning.cc says why).
import { addon } from './addon.js';

/** Fixes the thresholds; false where the C library is not glibc (nothing to fix). */
export function limitMallocRetention(): boolean {
  return addon().limitMallocRetention();
}
