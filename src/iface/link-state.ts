// What `status` shows as LINK and CARRIER: the interface's state as the kernel reports it, not the
// daemon's idea of it (an administrator may have set it down, or it may be gone).
import { linkState } from '../native/index.js';

export interface InterfaceState {
  /** RFC 2863 operstate (up, down, lowerlayerdown, ...); notpresent when the interface is gone. */
  operstate: string;
  carrier: boolean;
}

export function readInterfaceState(ifname: string, netns?: string): InterfaceState {
  try {
    const { operstate, carrier } = linkState(ifname, netns);
    return { operstate, carrier };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENODEV') return { operstate: 'notpresent', carrier: false };
    return { operstate: 'unknown', carrier: false };
  }
}
