// A channel link over a message device that can disappear and come back: /dev/rpmsg-ethN (kmod) or
// an rpmsg_char endpoint /dev/rpmsgM (rpmsg-char). The device-specific steps (open, info ioctl,
// endpoint creation) sit behind `LinkDevice`, so this part runs the same against a stand-in fd.
// The open fd goes to the data plane (native/dataplane/device_endpoint.cc), which moves the frames:
//   room     'pollout': wait for POLLOUT (kmod reports it truthfully);
//            'timer': retry after a few ms, backing off (rpmsg_char on virtio never reports POLLOUT)
//   hangup   POLLHUP/POLLERR/EPIPE/ENODEV: the data plane closes the fd, link down; this side tries
//            to reopen it every reopenMs
import type { ChannelPlan } from '../channels/types.js';
import type { Logger } from '../log.js';
import type { ChannelLink, EndpointLoss, LinkEvents } from './transport.js';

/** An open device: the fd (non-blocking, owned by the link from here on) and what it carries. */
export interface DeviceSession {
  fd: number;
  /** Largest message the device accepts. */
  maxPayload: number;
  /** Move batches with the rpmsg-eth batch ioctls (only for /dev/rpmsg-ethN). */
  batchIoctl: boolean;
}

/** The device-specific steps of a link. */
export interface LinkDevice {
  /** The device as the user knows it, for logs: "/dev/rpmsg-eth3". */
  readonly label: string;
  /**
   * Opens the device: a session, or undefined while it is absent (the link waits for it).
   * Throws (a UserError) for what the user must fix; at start the error ends the daemon, later it
   * is logged and the link keeps trying.
   */
  open(): DeviceSession | undefined;
  /** Called with the open fd before the link closes it for good (not after a hangup). */
  release?(fd: number): void;
}

export interface DeviceLinkOptions {
  log: Logger;
  channel: number;
  /** Largest message, used until the device has been opened once. */
  defaultMaxPayload: number;
  /** How the link learns that it can write again after a busy errno. */
  room: 'pollout' | 'timer';
  /** errno values of write() that mean "no room now, try again later". */
  busyErrnos: readonly number[];
  /** errno values of write() that drop just that message (counted as 'busy'); others end the link. */
  dropErrnos?: readonly number[];
  /** Pause between attempts to reopen a missing device. */
  reopenMs: number;
  /** 'timer' room: first and longest retry delay. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Called once the link has been closed. */
  onClosed?: () => void;
}

export class DeviceLink implements ChannelLink {
  maxPayload: number;
  up = false;
  private closing = false;
  private opened = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private lastReopenError = '';

  constructor(
    private readonly device: LinkDevice,
    private readonly events: LinkEvents,
    private readonly opts: DeviceLinkOptions,
  ) {
    this.maxPayload = opts.defaultMaxPayload;
  }

  /** Opens the device now, or starts waiting for it. Throws what device.open() throws. */
  start(): void {
    const session = this.device.open();
    if (session) return this.attach(session);
    this.opts.log.warn({ channel: this.opts.channel, device: this.device.label }, `${this.device.label} is not there yet; link down until it appears`);
    this.scheduleReopen();
  }

  private attach(session: DeviceSession): void {
    if (!this.opened) this.maxPayload = session.maxPayload;
    else if (session.maxPayload !== this.maxPayload)
      this.opts.log.warn(
        { channel: this.opts.channel, was: this.maxPayload, now: session.maxPayload },
        `${this.device.label} came back with a different maximum payload; keeping ${this.maxPayload} (restart the daemon to change the MTU)`,
      );
    this.opened = true;
    const { opts } = this;
    this.events.attach(
      {
        kind: 'device',
        fd: session.fd,
        // A longer message comes back with a length above the slot: counted as oversize.
        maxPayload: this.maxPayload,
        batchIoctl: session.batchIoctl,
        room: opts.room,
        busyErrnos: opts.busyErrnos,
        dropErrnos: opts.dropErrnos ?? [],
        retryMinMs: opts.retryMinMs ?? 2,
        retryMaxMs: opts.retryMaxMs ?? 50,
      },
      (loss) => this.lost(loss),
    );
    this.up = true;
  }

  /** The data plane lost the device (hangup, or a write error that is not about one message). */
  private lost(loss: EndpointLoss): void {
    this.up = false;
    if (this.closing) return;
    this.opts.log.warn(
      { channel: this.opts.channel, device: this.device.label, errno: loss.errno },
      `${this.device.label} went away; link down until it is back`,
    );
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.closing || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.closing) return;
      try {
        const session = this.device.open();
        if (!session) return this.scheduleReopen();
        this.lastReopenError = '';
        this.attach(session);
        this.opts.log.info({ channel: this.opts.channel, device: this.device.label }, `${this.device.label} is back; link up`);
      } catch (err) {
        // Logged once per distinct problem: the link keeps trying quietly.
        const message = (err as Error).message;
        if (message !== this.lastReopenError)
          this.opts.log.error({ channel: this.opts.channel, device: this.device.label, err: message }, 'cannot reopen the device; retrying');
        this.lastReopenError = message;
        this.scheduleReopen();
      }
    }, this.opts.reopenMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    const release = this.device.release?.bind(this.device);
    this.events.detach((fd) => {
      try {
        release?.(fd);
      } catch (err) {
        this.opts.log.warn({ channel: this.opts.channel, device: this.device.label, err: (err as Error).message }, 'releasing the device');
      }
    });
    this.up = false;
    this.opts.onClosed?.();
  }
}

/** What the device transports' options share. */
export interface DeviceTransportOptions {
  log: Logger;
  /** Pause between attempts to reopen a missing device (default: kmod 300 ms, rpmsg-char 500 ms). */
  reopenMs?: number;
  /** Stands in for the real device in tests. */
  device?: (plan: ChannelPlan) => LinkDevice;
}

/** How a device transport's links behave: DeviceLinkOptions but what the options and each channel give. */
export type DeviceLinkBehaviour = Omit<DeviceLinkOptions, 'channel' | 'defaultMaxPayload' | 'onClosed' | 'log' | 'reopenMs'>;

/** A transport whose channels are character devices: one DeviceLink per channel. */
export abstract class DeviceTransport {
  private readonly links = new Set<DeviceLink>();
  private readonly device: (plan: ChannelPlan) => LinkDevice;
  private readonly behaviour: Omit<DeviceLinkOptions, 'channel' | 'defaultMaxPayload' | 'onClosed'>;

  /** `device`: the channel's device, unless the options name a stand-in. */
  constructor(opts: DeviceTransportOptions, device: (plan: ChannelPlan) => LinkDevice, behaviour: DeviceLinkBehaviour, defaultReopenMs: number) {
    this.device = opts.device ?? device;
    this.behaviour = { ...behaviour, log: opts.log, reopenMs: opts.reopenMs ?? defaultReopenMs };
  }

  async open(plan: ChannelPlan, events: LinkEvents): Promise<ChannelLink> {
    const link: DeviceLink = new DeviceLink(this.device(plan), events, {
      ...this.behaviour,
      channel: plan.channel,
      defaultMaxPayload: plan.maxPayload,
      onClosed: () => this.links.delete(link),
    });
    link.start();
    this.links.add(link);
    return link;
  }

  async close(): Promise<void> {
    await Promise.all([...this.links].map((l) => l.close()));
    this.links.clear();
  }
}
