// One channel's bridge: frames read from the TAP go to the endpoint, messages from the endpoint go to
// the TAP, one Ethernet frame per message. Batches are handed on as they arrive, never copied.
//
// Back-pressure: when the endpoint cannot take more, the unsent rest of the TAP batch stays in the TAP's
// receive arena, reading the TAP stops, and the kernel's queue holds (or its qdisc drops, visible in
// `ip -s link`) until the endpoint signals room.
import { constants } from 'node:os';
import { MessageFd, tapSetCarrier } from '../native/index.js';
import type { ChannelPlan } from '../channels/types.js';
import type { Logger } from '../log.js';
import type { ChannelLink, DropReason, LinkEvents, MessageBatch } from '../transport/transport.js';
import { newCounters, type ChannelCounters } from './counters.js';

const TAP_BATCH = 64;
const { EAGAIN, ENOBUFS } = constants.errno;

export class ChannelBridge implements LinkEvents {
  readonly counters: ChannelCounters = newCounters();
  private link: ChannelLink | undefined;
  private readonly tap: MessageFd;
  private readonly tapBatch: MessageBatch;
  /** Index of the first frame of the current TAP batch not yet taken by the endpoint. */
  private pendingFrom = 0;
  private blocked = false;
  /** Bytes dropped during the current send() call, to keep tx counters exact. */
  private txDroppedBytes = 0;
  private txDroppedPackets = 0;

  constructor(
    readonly plan: ChannelPlan,
    private readonly tapFd: number,
    private readonly log: Logger,
  ) {
    // A frame longer than the endpoint's payload comes back with its true length: counted as oversize.
    const slotSize = plan.maxPayload;
    this.tap = new MessageFd(tapFd, {
      slotSize,
      batch: TAP_BATCH,
      onReadable: (count) => this.fromTap(count),
      onWritable: () => this.link?.resumeReceive(),
      onHangup: (errno) => this.log.error({ ifname: plan.ifname, errno }, 'TAP device went away'),
    });
    this.tapBatch = { buffer: this.tap.rx.buffer, slotSize, lengths: this.tap.rx.lengths, count: 0 };
    tapSetCarrier(tapFd, false);
  }

  attach(link: ChannelLink): void {
    this.link = link;
  }

  private fromTap(count: number): void {
    this.tapBatch.count = count;
    this.pendingFrom = 0;
    this.pump();
  }

  /** Offers the pending part of the TAP batch to the endpoint. */
  private pump(): void {
    const batch = this.tapBatch;
    const start = this.pendingFrom;
    if (start >= batch.count) return;
    if (!this.link) {
      for (let i = start; i < batch.count; i++) this.onDrop('linkDown', 'tx', batch.lengths[i] as number);
      this.pendingFrom = batch.count;
      return;
    }
    this.txDroppedBytes = 0;
    this.txDroppedPackets = 0;
    const { consumed, busy } = this.link.send(batch, start);
    let bytes = 0;
    for (let i = start; i < start + consumed; i++) bytes += batch.lengths[i] as number;
    this.counters.tx.packets += consumed - this.txDroppedPackets;
    this.counters.tx.bytes += bytes - this.txDroppedBytes;
    this.pendingFrom = start + consumed;
    if (busy && !this.blocked) {
      this.blocked = true;
      this.tap.pauseRead();
    }
  }

  onWritable(): void {
    this.pump();
    if (this.blocked && this.pendingFrom >= this.tapBatch.count) {
      this.blocked = false;
      this.tap.resumeRead();
    }
  }

  onMessages(batch: MessageBatch): void {
    const { lengths, count } = batch;
    let i = 0;
    while (i < count) {
      if (lengths[i] === 0) {
        i++;
        continue;
      }
      let end = i;
      while (end < count && lengths[end] !== 0) end++;
      const written = this.tap.writeBatch(batch.buffer, batch.slotSize, lengths, i, end);
      this.counters.rx.packets += written;
      for (let k = i; k < i + written; k++) this.counters.rx.bytes += lengths[k] as number;
      i += written;
      if (i < end) {
        // The TAP refused one frame (queue full, or not a valid frame): count it and go on.
        const errno = this.tap.lastErrno;
        this.onDrop(errno === EAGAIN || errno === ENOBUFS ? 'busy' : 'runt', 'rx', lengths[i] as number);
        i++;
      }
    }
  }

  onLinkChange(up: boolean): void {
    const state = up ? 'up' : 'down';
    if (this.counters.link === state) return;
    this.counters.link = state;
    this.counters.linkChangedAt = new Date().toISOString();
    this.counters.linkChanges++;
    tapSetCarrier(this.tapFd, up);
    this.log.info({ ifname: this.plan.ifname, channel: this.plan.channel, link: state }, `${this.plan.ifname}: link ${state}`);
    if (!up) {
      // Frames held for a link that is gone will not be sent: count them and start reading again.
      for (let i = this.pendingFrom; i < this.tapBatch.count; i++) {
        this.onDrop('linkDown', 'tx', this.tapBatch.lengths[i] as number);
      }
      this.pendingFrom = this.tapBatch.count;
      if (this.blocked) {
        this.blocked = false;
        this.tap.resumeRead();
      }
    }
  }

  onDrop(reason: DropReason, direction: 'tx' | 'rx', bytes: number): void {
    this.counters.drops[reason]++;
    if (direction === 'tx') {
      this.txDroppedPackets++;
      this.txDroppedBytes += bytes;
    }
  }

  close(): void {
    this.tap.close();
  }
}
