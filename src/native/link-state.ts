// An interface's state as the kernel reports it (RTM_GETLINK), read inside its network namespace.
import { addon } from './addon.js';

export interface KernelLinkState {
  /** RFC 2863 operational state, as in /sys/class/net/IF/operstate: up, down, lowerlayerdown, dormant, ... */
  operstate: string;
  /** The carrier (IFLA_CARRIER), also while the interface is administratively down. */
  carrier: boolean;
  /** IFF_UP: `ip link set IF up`. */
  adminUp: boolean;
}

/** Throws an Error with code 'ENODEV' when the interface does not exist. */
export function linkState(name: string, netns?: string): KernelLinkState {
  return addon().linkState(name, netns ?? '');
}
