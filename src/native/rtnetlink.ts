// An interface over rtnetlink, inside its network namespace: its state and counters as the kernel
// reports them (RTM_GETLINK) and its IPv4 addresses (RTM_NEWADDR / RTM_DELADDR).
import { addon } from './addon.js';

/** The kernel's standard interface counters (IFLA_STATS64: /sys/class/net/IF/statistics/). */
export interface KernelLinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

export interface KernelLinkState {
  /** RFC 2863 operational state, as in /sys/class/net/IF/operstate: up, down, lowerlayerdown, dormant, ... */
  operstate: string;
  /** The carrier (IFLA_CARRIER), also while the interface is administratively down. */
  carrier: boolean;
  /** IFF_UP: `ip link set IF up`. */
  adminUp: boolean;
  /** The interface's index (a new one after the interface was deleted and made again). */
  index: number;
  mtu: number;
  /** Carrier transitions since the interface was made (IFLA_CARRIER_CHANGES). */
  carrierChanges: number;
  /** null if the kernel sent none. */
  stats: KernelLinkStats | null;
}

/** Throws an Error with code 'ENODEV' when the interface does not exist. */
export function linkState(name: string, netns?: string): KernelLinkState {
  return addon().linkState(name, netns ?? '');
}

/**
 * Adds (`ip addr add`) or removes (`ip addr del`) an IPv4 address, "a.b.c.d/prefix". Errors carry the
 * kernel's code: 'EEXIST' (already there), 'EADDRNOTAVAIL' (not there), 'ENODEV' (no such interface).
 */
export function addressChange(name: string, netns: string | undefined, change: 'add' | 'del', cidr: string): void {
  const [address = '', prefix = '32'] = cidr.split('/');
  addon().addressChange(name, netns ?? '', change === 'add', address, Number(prefix));
}
