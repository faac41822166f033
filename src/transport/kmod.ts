// The `kmod` transport: /dev/rpmsg-eth<channel-num> of our kernel module (kmod/rpmsg_eth_api.h).
// One frame per message; the INFO ioctl gives the maximum payload; frames move in batches through
// the module's READ_BATCH/WRITE_BATCH ioctls; POLLOUT is truthful (the module keeps a bounded
// transmit queue), so a full queue waits for POLLOUT. When the channel goes away the device reports
// POLLHUP/EPIPE and is removed: the link goes down and the device is reopened once it is back.
//
// A missing device at start: if the module is not loaded that is a UserError (load it); if it is
// loaded, the channel is just not up yet (the remote core has not announced it): the link starts
// down and waits.
import { closeSync, constants as fsc, existsSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { ChannelPlan } from '../channels/types.js';
import { rpmsgEthApiVersion, rpmsgEthInfo, type RpmsgEthInfo } from '../native/index.js';
import { UserError } from '../util/errors.js';
import { DeviceTransport, type DeviceSession, type DeviceTransportOptions, type LinkDevice } from './device-link.js';
import type { Transport } from './transport.js';

const { EAGAIN, ENOMEM, ENOBUFS } = constants.errno;

export interface KmodOptions extends DeviceTransportOptions {
  /** Where the rpmsg-eth<N> device nodes are (default /dev). */
  devDir?: string;
  /** The module's sysfs directory, present while it is loaded (default /sys/module/rpmsg_eth). */
  moduleDir?: string;
  /** Use the batch ioctls (default true); false moves one frame per read()/write(). */
  batchIoctl?: boolean;
}

export class KmodTransport extends DeviceTransport implements Transport {
  readonly name = 'kmod' as const;

  constructor(opts: KmodOptions) {
    // POLLOUT is truthful; ENOMEM/ENOBUFS: the module could not allocate that frame, lose it, not the link.
    super(opts, (plan) => new RpmsgEthDevice(plan, opts), { room: 'pollout', busyErrnos: [EAGAIN], dropErrnos: [ENOMEM, ENOBUFS] }, 300);
  }
}

/** /dev/rpmsg-eth<channel>: open non-blocking and read its INFO. */
export class RpmsgEthDevice implements LinkDevice {
  readonly label: string;
  private readonly moduleDir: string;
  private readonly batchIoctl: boolean;
  info: RpmsgEthInfo | undefined;

  constructor(
    plan: ChannelPlan,
    opts: Pick<KmodOptions, 'devDir' | 'moduleDir' | 'batchIoctl'>,
  ) {
    this.label = join(opts.devDir ?? '/dev', `rpmsg-eth${plan.channel}`);
    this.moduleDir = opts.moduleDir ?? '/sys/module/rpmsg_eth';
    this.batchIoctl = opts.batchIoctl ?? true;
  }

  open(): DeviceSession | undefined {
    const path = this.label;
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') {
        if (existsSync(this.moduleDir)) return undefined;
        throw new UserError(
          `${path} does not exist and the rpmsg_eth kernel module is not loaded: load it ` +
            '(`modprobe rpmsg_eth`, or `insmod kmod/rpmsg_eth.ko`; see kmod/README.md), or use --transport rpmsg-char',
        );
      }
      if (code === 'EACCES' || code === 'EPERM')
        throw new UserError(`no permission to open ${path}: run the daemon as root or grant its user access to the device`);
      if (code === 'EBUSY')
        throw new UserError(`${path} is already open in another process (another rpmsg-eth daemon?); only one may use it`);
      throw new UserError(`cannot open ${path}: ${(err as Error).message}`);
    }
    try {
      const info = rpmsgEthInfo(fd);
      if (info.apiVersion !== rpmsgEthApiVersion())
        throw new UserError(
          `${path} speaks rpmsg_eth API version ${info.apiVersion} but this daemon was built for version ` +
            `${rpmsgEthApiVersion()}: install the module and the daemon from the same release`,
        );
      if (info.maxPayload < 15)
        throw new UserError(`${path} reports a maximum payload of ${info.maxPayload} bytes: too small for an Ethernet frame`);
      this.info = info;
      return { fd, maxPayload: info.maxPayload, batchIoctl: this.batchIoctl };
    } catch (err) {
      closeSync(fd);
      if (err instanceof UserError) throw err;
      throw new UserError(`${path} is not an rpmsg-eth device (${(err as Error).message})`);
    }
  }
}
