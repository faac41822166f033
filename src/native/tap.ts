// TAP interfaces: create one (optionally inside a network namespace), configure its link, toggle carrier.
import { addon } from './addon.js';

export interface LinkSettings {
  /** Namespace name under /run/netns, or a path to a namespace file. */
  netns?: string;
  mtu?: number;
  /** "aa:bb:cc:dd:ee:ff" */
  mac?: string;
  up?: boolean;
}

/**
 * Creates TAP `name` (IFF_TAP | IFF_NO_PI) in `netns` (or the current namespace) and returns its fd,
 * non-blocking and close-on-exec. The interface disappears when the fd is closed.
 * Errors carry `code` ('EPERM', 'EBUSY', ...) and a message naming the interface.
 */
export function tapCreate(name: string, netns?: string): number {
  return addon().tapCreate(name, netns);
}

/** Applies MTU, then MAC, then up/down to interface `name` via ioctls. */
export function linkSet(name: string, settings: LinkSettings): void {
  addon().linkSet(name, settings);
}

/** Carrier on/off (TUNSETCARRIER): off shows NO-CARRIER and the kernel stops sending to the TAP. */
export function tapSetCarrier(fd: number, on: boolean): void {
  addon().tapSetCarrier(fd, on);
}
