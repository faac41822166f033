// An interface the daemon did not make and does not own — rpmsg_eth's `rpmsgN` in netdev mode — taken
// over for one channel: its MTU, admin state and IPv4 addresses set as the plan says (rtnetlink and
// ioctls, in the interface's namespace). It remembers what it found and what it changed, so release()
// takes back exactly that — the addresses it added (not one that was there before), the MTU and the
// admin state as found — and the interface stays where it is.
import { addressChange, linkSet, linkState, type KernelLinkState } from '../native/index.js';
import { UserError } from '../util/errors.js';
import { inNamespace } from './tap.js';

export class AdoptedInterface {
  /** The interface's index when adopted: a different one later means it was made anew. */
  readonly index: number;
  /** As found. */
  readonly foundMtu: number;
  readonly foundUp: boolean;
  private mtuChanged = false;
  private broughtUp = false;
  private readonly added = new Set<string>();

  private constructor(
    readonly ifname: string,
    readonly netns: string | undefined,
    found: KernelLinkState,
  ) {
    this.index = found.index;
    this.foundMtu = found.mtu;
    this.foundUp = found.adminUp;
  }

  /** The interface as it is now, or undefined when there is none of that name (in that namespace). */
  static find(ifname: string, netns?: string): KernelLinkState | undefined {
    try {
      return linkState(ifname, netns);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENODEV') return undefined;
      throw new UserError(`${ifname}${inNamespace(netns)}: ${(err as Error).message}`, 1);
    }
  }

  /** Takes over `ifname` as the kernel reports it now (`found`, from find()); changes nothing yet. */
  static adopt(ifname: string, netns: string | undefined, found: KernelLinkState): AdoptedInterface {
    return new AdoptedInterface(ifname, netns, found);
  }

  private where(): string {
    return `${this.ifname}${inNamespace(this.netns)}`;
  }

  setMtu(mtu: number): void {
    try {
      linkSet(this.ifname, { netns: this.netns, mtu });
    } catch (err) {
      throw new UserError(`${this.where()}: cannot set mtu ${mtu}: ${(err as Error).message}`, 1);
    }
    this.mtuChanged = mtu !== this.foundMtu;
  }

  /** Admin up (`ip link set IF up`); remembered only if it was down. */
  up(): void {
    try {
      linkSet(this.ifname, { netns: this.netns, up: true });
    } catch (err) {
      throw new UserError(`${this.where()}: cannot bring it up: ${(err as Error).message}`, 1);
    }
    if (!this.foundUp) this.broughtUp = true;
  }

  /** Adds an address; one that is there already is left as it is (and is not removed on release). */
  addAddress(cidr: string): void {
    try {
      addressChange(this.ifname, this.netns, 'add', cidr);
      this.added.add(cidr);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw new UserError((err as Error).message, 1);
    }
  }

  /** Removes an address this adoption added; others are not the daemon's to remove. */
  removeAddress(cidr: string): void {
    if (!this.added.has(cidr)) return;
    try {
      addressChange(this.ifname, this.netns, 'del', cidr);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw new UserError((err as Error).message, 1);
    }
    this.added.delete(cidr);
  }

  /** The addresses this adoption added and has not removed. */
  get addedAddresses(): string[] {
    return [...this.added];
  }

  /**
   * Takes back what the adoption changed: its addresses, the MTU and the admin state as found. Returns
   * the problems (one line each); the interface itself stays. Nothing to do when it is gone. Never
   * throws: a stop must go on to the other channels when one interface cannot be read (its namespace
   * deleted, no buffer space), and a failed start must report its own error, not this one.
   */
  release(): string[] {
    const problems: string[] = [];
    let now: KernelLinkState | undefined;
    try {
      now = AdoptedInterface.find(this.ifname, this.netns);
    } catch (err) {
      return [`cannot read it to take back the daemon's changes (${this.addedAddresses.join(', ') || 'no address'}): ${(err as Error).message}`];
    }
    if (!now || now.index !== this.index) return problems; // gone (or made anew): its addresses went with it
    for (const cidr of this.added) {
      try {
        this.removeAddress(cidr);
      } catch (err) {
        problems.push(`removing ${cidr}: ${(err as Error).message}`);
      }
    }
    if (this.broughtUp) {
      try {
        linkSet(this.ifname, { netns: this.netns, up: false });
      } catch (err) {
        problems.push(`setting it down again: ${(err as Error).message}`);
      }
    }
    if (this.mtuChanged) {
      try {
        linkSet(this.ifname, { netns: this.netns, mtu: this.foundMtu });
      } catch (err) {
        problems.push(`mtu back to ${this.foundMtu}: ${(err as Error).message}`);
      }
    }
    return problems;
  }
}
