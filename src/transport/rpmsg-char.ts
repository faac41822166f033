// The `rpmsg-char` transport: the stock Linux rpmsg_char driver, no module of ours.
// For each channel: find the rpmsg_ctrl device of the bus carrying it (devices.ts), create an
// endpoint named after the channel with src = the channel's eth-dev address and dst = the remote's
// (RPMSG_CREATE_EPT_IOCTL), open the /dev/rpmsgM that appears, non-blocking. One message per
// read()/write(); rpmsg_char has no MTU query, so the maximum payload is the plan's (bufSize − 16).
// A full ring makes a non-blocking write fail with EAGAIN (ENOMEM on older kernels) and
// virtio never reports POLLOUT, so sending is retried on a timer. When the bus goes away the
// endpoint is destroyed (POLLERR/EPIPE): link down, and a new endpoint once an rpmsg_ctrl is back.
// Closing the link destroys the endpoint (RPMSG_DESTROY_EPT_IOCTL).
import { closeSync, constants as fsc, existsSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import type { ChannelPlan } from '../channels/types.js';
import { rpmsgCreateEndpoint, rpmsgDestroyEndpoint } from '../native/index.js';
import { UserError } from '../util/errors.js';
import { DeviceTransport, type DeviceSession, type DeviceTransportOptions, type LinkDevice } from './device-link.js';
import { SYSTEM_PATHS, ctrlSysDir, findCtrlDevice, findEndpointDevice, type SysfsPaths } from './devices.js';
import type { Transport } from './transport.js';

const { EAGAIN, ENOMEM } = constants.errno;

export interface RpmsgCharOptions extends DeviceTransportOptions {
  /** The rpmsg_ctrl device to use for every channel, instead of finding it through sysfs. */
  ctrlDevice?: string;
  /** /sys and /dev, for tests. */
  paths?: SysfsPaths;
  /** First and longest delay before retrying a send the ring refused (default 2 and 50 ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class RpmsgCharTransport extends DeviceTransport implements Transport {
  readonly name = 'rpmsg-char' as const;

  constructor(opts: RpmsgCharOptions) {
    // virtio rpmsg never reports POLLOUT: retry on a timer instead.
    const retry = { retryMinMs: opts.retryMinMs ?? 2, retryMaxMs: opts.retryMaxMs ?? 50 };
    super(opts, (plan) => new RpmsgCharEndpoint(plan, opts), { room: 'timer', busyErrnos: [EAGAIN, ENOMEM], ...retry }, 500);
  }
}

/** The channel's rpmsg_char endpoint: created through /dev/rpmsg_ctrlN (or reused), then opened. */
export class RpmsgCharEndpoint implements LinkDevice {
  label: string;
  private readonly paths: SysfsPaths;
  private readonly ept: { name: string; src: number; dst: number };

  constructor(
    private readonly plan: ChannelPlan,
    private readonly opts: Pick<RpmsgCharOptions, 'ctrlDevice' | 'paths' | 'log'>,
  ) {
    this.paths = opts.paths ?? SYSTEM_PATHS;
    this.ept = { name: plan.name, src: plan.ethEndpoint, dst: plan.remoteEndpoint };
    this.label = `rpmsg_char endpoint ${this.describeEpt()}`;
  }

  private describeEpt(): string {
    return `${this.ept.name} 0x${this.ept.src.toString(16)}->0x${this.ept.dst.toString(16)}`;
  }

  /** The control device and its sysfs directory, or undefined while there is none to use. */
  private ctrl(): { ctrl: string; sysDir: string } | undefined {
    if (this.opts.ctrlDevice) {
      const sysDir = existsSync(this.opts.ctrlDevice) ? ctrlSysDir(this.opts.ctrlDevice, this.paths) : undefined;
      return sysDir ? { ctrl: this.opts.ctrlDevice, sysDir } : undefined;
    }
    const found = findCtrlDevice(this.plan.name, this.paths);
    if (found.found) return found;
    if (found.why === 'no-bus')
      throw new UserError(
        `channel ${this.plan.name}: this kernel has no rpmsg bus (${this.paths.sysRoot}/bus/rpmsg): load the ` +
          'remote core\'s rpmsg driver (e.g. `modprobe virtio_rpmsg_bus`), or use --transport kmod',
      );
    if (found.why === 'no-ctrl-for-channel')
      throw new UserError(
        `channel ${this.plan.name} is on ${found.busDir ?? 'an rpmsg bus'} but that bus has no rpmsg_ctrl device: ` +
          'load rpmsg_char (and rpmsg_ctrl on Linux >= 5.18): `modprobe rpmsg_ctrl; modprobe rpmsg_char`',
      );
    return undefined;
  }

  open(): DeviceSession | undefined {
    const ctrl = this.ctrl();
    if (!ctrl) return undefined;
    // An endpoint left by an earlier run (a crash skips DESTROY) is reused: creating a second one
    // with the same address would fail on open.
    let path = findEndpointDevice(ctrl.sysDir, this.ept, this.paths);
    if (!path) {
      this.create(ctrl.ctrl);
      path = findEndpointDevice(ctrl.sysDir, this.ept, this.paths);
      if (!path) throw new UserError(`${ctrl.ctrl} created the endpoint ${this.describeEpt()} but no /dev/rpmsgM for it showed up in sysfs`);
    }
    this.label = `${path} (${this.describeEpt()} via ${ctrl.ctrl})`;
    try {
      const fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK | fsc.O_NOCTTY);
      return { fd, maxPayload: this.plan.maxPayload, batchIoctl: false };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The bus went away between creating and opening: wait for it.
      if (code === 'ENOENT' || code === 'ENETRESET' || code === 'ENODEV' || code === 'ENXIO') return undefined;
      if (code === 'EBUSY') throw new UserError(`${path} (${this.describeEpt()}) is already open in another process`);
      if (code === 'EINVAL')
        throw new UserError(
          `cannot open ${path}: the kernel refused endpoint address 0x${this.ept.src.toString(16)} on channel ` +
            `${this.ept.name} (already in use, e.g. by the rpmsg_eth module or another driver bound to the channel?)`,
        );
      if (code === 'EACCES' || code === 'EPERM') throw new UserError(`no permission to open ${path}: run the daemon as root`);
      throw new UserError(`cannot open ${path}: ${(err as Error).message}`);
    }
  }

  private create(ctrl: string): void {
    let ctrlFd: number;
    try {
      ctrlFd = openSync(ctrl, fsc.O_RDWR | fsc.O_NOCTTY);
    } catch (err) {
      throw new UserError(`cannot open ${ctrl} to create the endpoint of channel ${this.ept.name}: ${(err as Error).message}`);
    }
    try {
      rpmsgCreateEndpoint(ctrlFd, this.ept.name, this.ept.src, this.ept.dst);
    } catch (err) {
      throw new UserError(`creating the rpmsg_char endpoint ${this.describeEpt()} on ${ctrl}: ${(err as Error).message}`);
    } finally {
      closeSync(ctrlFd);
    }
  }

  release(fd: number): void {
    rpmsgDestroyEndpoint(fd);
  }
}
