// Runs a function with the calling thread inside another network namespace (native withNetns), so
// that sockets it creates belong there. Only fn's synchronous part runs inside: callbacks it schedules
// run later, back in the daemon's own namespace, which is what socket I/O needs.
import { addon } from './addon.js';

/** Calls fn inside `netns` (a name under /run/netns or a path); with no netns, just calls fn. */
export function withNetns<T>(netns: string | undefined, fn: () => T): T {
  return netns ? addon().withNetns(netns, fn) : fn();
}
