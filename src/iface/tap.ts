// A channel's interface, `rpmsgN`: a TAP created in the daemon's namespace, its MTU, MAC and admin state
// (ioctls), its IPv4 addresses (rtnetlink, no `ip` process per interface), its carrier, and its state as
// the kernel reports it — what `status` shows as LINK and CARRIER, not the daemon's idea of it (an
// administrator may have set it down, or deleted it). The TAP's fd goes to the channel's data plane,
// which reads and writes the frames and tells when the interface goes away (bridge.ts: onTapGone).
import { addressChange, closeFd, linkSet, linkState, tapCreate, tapSetCarrier, type LinkSettings } from '../native/index.js';
import { UserError } from '../util/errors.js';

export interface InterfaceState {
  /** RFC 2863 operstate (up, down, lowerlayerdown, ...); notpresent when the interface is gone. */
  operstate: string;
  carrier: boolean;
  /** IFF_UP: false after `ip link set IF down` (and when the interface is gone). */
  adminUp: boolean;
}

export function readInterfaceState(ifname: string, netns?: string): InterfaceState {
  try {
    const { operstate, carrier, adminUp } = linkState(ifname, netns);
    return { operstate, carrier, adminUp };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENODEV') return { operstate: 'notpresent', carrier: false, adminUp: false };
    return { operstate: 'unknown', carrier: false, adminUp: false };
  }
}

/** Whether an interface of that name exists in `netns`. */
export function interfaceExists(ifname: string, netns?: string): boolean {
  return readInterfaceState(ifname, netns).operstate !== 'notpresent';
}

/** " in namespace NS", or "" for the daemon's own. */
export function inNamespace(netns: string | undefined): string {
  return netns ? ` in namespace ${netns}` : '';
}

export class Tap {
  private fdOwned = true;

  private constructor(
    readonly ifname: string,
    readonly netns: string | undefined,
    readonly fd: number,
  ) {}

  /** Creates TAP `ifname` in `netns`. What stands in the way is one line naming it and what to do. */
  static create(ifname: string, netns?: string): Tap {
    try {
      return new Tap(ifname, netns, tapCreate(ifname, netns));
    } catch (err) {
      const where = `${ifname}${inNamespace(netns)}`;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EBUSY') {
        throw new UserError(`cannot create ${where}: the name is held by another process's TAP (another rpmsg-eth daemon on the same namespaces?); stop it, or give this daemon other namespaces or interface names`, 1);
      }
      if (code === 'EINVAL') {
        throw new UserError(`cannot create ${where}: an interface of that name exists and is not a TAP; remove it (ip${netns ? ` -n ${netns}` : ''} link del ${ifname}) or change interfaces.namePattern`, 1);
      }
      if (code === 'EPERM' || code === 'EACCES') throw new UserError(`cannot create ${where}: permission denied (needs root, or CAP_NET_ADMIN)`, 1);
      throw new UserError(`cannot create ${where}: ${(err as Error).message}`, 1);
    }
  }

  /** MTU, then MAC, then admin state. */
  configure(settings: Omit<LinkSettings, 'netns'>): void {
    try {
      linkSet(this.ifname, { ...settings, netns: this.netns });
    } catch (err) {
      throw new UserError((err as Error).message, 1);
    }
  }

  addAddress(cidr: string): void {
    this.address('add', cidr);
  }

  removeAddress(cidr: string): void {
    this.address('del', cidr);
  }

  private address(change: 'add' | 'del', cidr: string): void {
    try {
      addressChange(this.ifname, this.netns, change, cidr);
    } catch (err) {
      throw new UserError((err as Error).message, 1);
    }
  }

  /** Carrier on/off (TUNSETCARRIER): off shows NO-CARRIER and the kernel stops sending to the TAP. */
  setCarrier(on: boolean): void {
    tapSetCarrier(this.fd, on);
  }

  state(): InterfaceState {
    return readInterfaceState(this.ifname, this.netns);
  }

  /** The data plane takes the fd over (and closes it, also if taking it fails). */
  handOver(): number {
    this.fdOwned = false;
    return this.fd;
  }

  /** Closes the fd unless the data plane has it: the interface goes with it. */
  close(): void {
    if (!this.fdOwned) return;
    this.fdOwned = false;
    closeFd(this.fd);
  }
}
