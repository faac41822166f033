// A channel link over a message device that can disappear and come back: /dev/rpmsg-ethN (kmod) or
// an rpmsg_char endpoint /dev/rpmsgM (rpmsg-char). The device-specific steps (open, info ioctl,
// endpoint creation) sit behind `LinkDevice`, so this part runs the same against a stand-in fd.
//   receive  MessageFd batches; oversize and runt messages are dropped and counted here
//   send     runs of messages in one native call; EMSGSIZE drops one; a busy errno → busy
//   room     'pollout': wait for POLLOUT (kmod reports it truthfully);
//            'timer': retry after a few ms, backing off (rpmsg_char on virtio never reports POLLOUT)
//   hangup   POLLHUP/POLLERR/EPIPE/ENODEV → close the fd, link down, try to reopen every reopenMs
import { constants } from 'node:os';
import type { ChannelPlan } from '../channels/types.js';
import type { Logger } from '../log.js';
import { MessageFd, closeFd } from '../native/index.js';
import type { ChannelLink, LinkEvents, MessageBatch, SendResult } from './transport.js';
import { dropInvalidReceived } from './received.js';

const { EMSGSIZE } = constants.errno;
const RX_BATCH = 64;

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
  private data: MessageFd | undefined;
  /** The receive arena of `data` as the batch handed to onMessages, made once per open. */
  private rxBatch: MessageBatch | undefined;
  private receivePaused = false;
  private waitingForRoom = false;
  private closing = false;
  private opened = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private roomTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private lastReopenError = '';

  constructor(
    private readonly device: LinkDevice,
    private readonly events: LinkEvents,
    private readonly opts: DeviceLinkOptions,
  ) {
    this.maxPayload = opts.defaultMaxPayload;
    this.retryMs = opts.retryMinMs ?? 2;
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
    let data: MessageFd;
    try {
      data = new MessageFd(session.fd, {
        // A longer message comes back with a length above the slot: counted as oversize.
        slotSize: this.maxPayload,
        batch: RX_BATCH,
        batchIoctl: session.batchIoctl,
        onReadable: (count) => this.onData(count),
        onWritable: () => this.onRoom(),
        onHangup: (errno) => this.lost(errno),
      });
    } catch (err) {
      closeFd(session.fd); // not yet owned by a MessageFd
      throw err;
    }
    this.data = data;
    this.rxBatch = { buffer: data.rx.buffer, slotSize: this.maxPayload, lengths: data.rx.lengths, count: 0 };
    if (this.receivePaused) data.pauseRead();
    this.retryMs = this.opts.retryMinMs ?? 2;
    this.up = true;
    this.events.onLinkChange(true);
  }

  send(batch: MessageBatch, start: number): SendResult {
    const { lengths, count } = batch;
    let i = start;
    while (i < count) {
      const data = this.data;
      if (!this.up || !data) {
        for (; i < count; i++) if (lengths[i]) this.events.onDrop('linkDown', 'tx', lengths[i] as number, { batch, index: i });
        break;
      }
      // The longest run that fits (length 0 = already dropped: the native side skips it). A length
      // beyond the slot is a frame that was cut on arrival: oversize too.
      const limit = Math.min(this.maxPayload, batch.slotSize);
      let end = i;
      while (end < count && (lengths[end] as number) <= limit) end++;
      if (end === i) {
        this.events.onDrop('oversize', 'tx', lengths[i] as number, { batch, index: i });
        i++;
        continue;
      }
      i += data.writeBatch(batch.buffer, batch.slotSize, lengths, i, end);
      if (i === end) continue;
      const errno = data.lastErrno;
      if (this.opts.busyErrnos.includes(errno)) return this.busy(i - start);
      if (errno === EMSGSIZE) this.events.onDrop('oversize', 'tx', lengths[i] as number, { batch, index: i });
      else if (this.opts.dropErrnos?.includes(errno)) this.events.onDrop('busy', 'tx', lengths[i] as number, { batch, index: i });
      else {
        this.failDuringSend(errno);
        continue;
      }
      i++;
    }
    this.retryMs = this.opts.retryMinMs ?? 2;
    return { consumed: i - start, busy: false };
  }

  private busy(consumed: number): SendResult {
    this.waitingForRoom = true;
    if (this.opts.room === 'pollout') this.data?.waitWritable();
    else if (!this.roomTimer) {
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, this.opts.retryMaxMs ?? 50);
      this.roomTimer = setTimeout(() => {
        this.roomTimer = undefined;
        this.onRoom();
      }, delay);
    }
    return { consumed, busy: true };
  }

  private onRoom(): void {
    if (this.waitingForRoom && this.up) {
      this.waitingForRoom = false;
      this.events.onWritable();
    }
  }

  private onData(count: number): void {
    const batch = this.rxBatch;
    if (!batch) return;
    batch.count = count;
    dropInvalidReceived(batch, this.maxPayload, this.events);
    this.events.onMessages(batch);
  }

  pauseReceive(): void {
    this.receivePaused = true;
    this.data?.pauseRead();
  }

  resumeReceive(): void {
    this.receivePaused = false;
    this.data?.resumeRead();
  }

  /**
   * A write error that is not about one message: the device is gone. The rest of the batch is dropped
   * as linkDown by send() itself; the link-down event waits until send() has returned, so that the
   * caller never sees a link change in the middle of its own send() call.
   */
  private failDuringSend(errno: number): void {
    this.data?.close();
    this.data = undefined;
    this.rxBatch = undefined;
    queueMicrotask(() => this.lost(errno));
  }

  /** The device went away (hangup, or a write error that is not about one message). */
  private lost(errno: number): void {
    this.detach();
    if (this.closing) return;
    this.opts.log.warn(
      { channel: this.opts.channel, device: this.device.label, errno },
      `${this.device.label} went away; link down until it is back`,
    );
    this.scheduleReopen();
  }

  private detach(): void {
    this.data?.close();
    this.data = undefined;
    this.rxBatch = undefined;
    this.waitingForRoom = false;
    if (this.roomTimer) clearTimeout(this.roomTimer);
    this.roomTimer = undefined;
    if (this.up) {
      this.up = false;
      this.events.onLinkChange(false);
    }
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
    const data = this.data;
    if (data && this.device.release) {
      try {
        this.device.release(data.fd);
      } catch (err) {
        this.opts.log.warn({ channel: this.opts.channel, device: this.device.label, err: (err as Error).message }, 'releasing the device');
      }
    }
    this.detach();
    this.opts.onClosed?.();
  }
}

/** A transport whose channels are character devices: one DeviceLink per channel. */
export abstract class DeviceTransport {
  private readonly links = new Set<DeviceLink>();

  protected abstract device(plan: ChannelPlan): LinkDevice;
  protected abstract linkOptions(plan: ChannelPlan): Omit<DeviceLinkOptions, 'channel' | 'defaultMaxPayload' | 'onClosed'>;

  async open(plan: ChannelPlan, events: LinkEvents): Promise<ChannelLink> {
    const link: DeviceLink = new DeviceLink(this.device(plan), events, {
      ...this.linkOptions(plan),
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
