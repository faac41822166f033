// glibc malloc's mmap and trim thresholds, fixed for a long-running process (native/malloc_tuning.cc says why).
import { addon } from './addon.js';

/** An operator's own choice of the thresholds in the environment (mallopt(3), tunables(7)), if any. */
function operatorSetting(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_']) if (env[name] !== undefined) return name;
  if (/glibc\.malloc\.(mmap|trim)_threshold=/.test(env.GLIBC_TUNABLES ?? '')) return 'GLIBC_TUNABLES';
  return undefined;
}

/** Fixes the thresholds. Returns why it did not (to log), or undefined once they are fixed. */
export function limitMallocRetention(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = operatorSetting(env);
  if (chosen) return `${chosen} in the environment chooses them`;
  return addon().limitMallocRetention() ? undefined : 'the C library is not glibc';
}
