// A driver's own counters, what `ethtool -S IF` prints (ETHTOOL_GSTRINGS + ETHTOOL_GSTATS), read inside
// the interface's namespace.
import { addon } from './addon.js';

/** Counter name -> value in the driver's order; null when the driver has none. Throws 'ENODEV' for no such interface. */
export function ethtoolStats(name: string, netns?: string): Record<string, number> | null {
  return addon().ethtoolStats(name, netns ?? '');
}
