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
import type { ChannelLink, DropReason, FrameRef, LinkEvents, MessageBatch } from '../transport/transport.js';
import { rawFrameLooksLikeFrag } from '../framing/frag-encoder.js';
import { newCounters, type ChannelCounters } from './counters.js';

const TAP_BATCH = 64;

/** Sees every frame the bridge moves or drops while a capture runs (rx = remote -> Linux). */
export interface FrameTap {
  frame(direction: 'tx' | 'rx', data: Uint8Array, dropReason?: DropReason, originalLength?: number): void;
}

function frameView(ref: FrameRef, bytes: number): Uint8Array {
  const at = ref.index * ref.batch.slotSize;
  return ref.batch.buffer.subarray(at, at + Math.min(bytes, ref.batch.slotSize));
}
const { EAGAIN, ENOBUFS } = constants.errno;

export class ChannelBridge implements LinkEvents {
  readonly counters: ChannelCounters = newCounters();
  private link: ChannelLink | undefined;
  private readonly tapFdIo: MessageFd;
  private readonly tapBatch: MessageBatch;
  /** Index of the first frame of the current TAP batch not yet taken by the endpoint. */
  private pendingFrom = 0;
  private blocked = false;
  /** Bytes dropped during the current send() call, to keep tx counters exact. */
  private txDroppedBytes = 0;
  private txDroppedPackets = 0;
  /** Capture, when one runs; otherwise the data path pays one check per batch for it. */
  private tap: FrameTap | undefined;
  /** Frames of the TAP batch dropped during send(), so the capture does not also show them as sent. */
  private readonly txDroppedAt = new Uint8Array(TAP_BATCH);
  /** A replay borrows the TAP's arena: TAP reading stays paused until it is done. */
  private injecting = false;

  constructor(
    readonly plan: ChannelPlan,
    private readonly tapFd: number,
    private readonly log: Logger,
  ) {
    // A frame longer than the endpoint's payload comes back with its true length: counted as oversize.
    // With frag framing a frame may span messages: a slot holds the largest frame instead.
    const slotSize = plan.framing === 'frag' ? Math.max(plan.maxPayload, plan.mtu + 14) : plan.maxPayload;
    this.tapFdIo = new MessageFd(tapFd, {
      slotSize,
      batch: TAP_BATCH,
      onReadable: (count) => this.fromTap(count),
      onWritable: () => this.link?.resumeReceive(),
      onHangup: (errno) => this.log.error({ ifname: plan.ifname, errno }, 'TAP device went away'),
    });
    this.tapBatch = { buffer: this.tapFdIo.rx.buffer, slotSize, lengths: this.tapFdIo.rx.lengths, count: 0 };
    tapSetCarrier(tapFd, false);
  }

  attach(link: ChannelLink): void {
    this.link = link;
  }

  private fromTap(count: number): void {
    const batch = this.tapBatch;
    batch.count = count;
    this.pendingFrom = 0;
    if (this.tap) this.txDroppedAt.fill(0);
    if (this.plan.framing === 'raw') this.dropFragLookalikes(batch);
    this.pump();
  }

  /**
   * frag spec rule 3.8: a raw sender must not send a frame that a frag-capable peer would take for a frag
   * message. Such a frame starts with 0x03 (a group address with the local bit), so one byte decides for
   * nearly every frame.
   */
  private dropFragLookalikes(batch: MessageBatch): void {
    const { buffer, slotSize, lengths, count } = batch;
    for (let i = 0; i < count; i++) {
      const at = i * slotSize;
      const len = lengths[i] as number;
      if (buffer[at] === 0x03 && rawFrameLooksLikeFrag(buffer, at, len)) {
        this.onDrop('framing', 'tx', len, { batch, index: i });
        lengths[i] = 0; // pump() skips it; send() never sees it
      }
    }
  }

  /** Offers the pending part of the TAP batch to the endpoint. */
  private pump(): void {
    const batch = this.tapBatch;
    const start = this.pendingFrom;
    if (start >= batch.count) return;
    if (!this.link) {
      for (let i = start; i < batch.count; i++) this.onDrop('linkDown', 'tx', batch.lengths[i] as number, { batch, index: i });
      this.pendingFrom = batch.count;
      return;
    }
    this.txDroppedBytes = 0;
    this.txDroppedPackets = 0;
    const { consumed, busy } = this.link.send(batch, start);
    let bytes = 0;
    let packets = 0;
    for (let i = start; i < start + consumed; i++) {
      const len = batch.lengths[i] as number;
      if (len) packets++; // 0: dropped before the send, already counted
      bytes += len;
    }
    this.counters.tx.packets += packets - this.txDroppedPackets;
    this.counters.tx.bytes += bytes - this.txDroppedBytes;
    this.pendingFrom = start + consumed;
    if (this.tap) this.captureSent(start, start + consumed);
    if (busy && !this.blocked) {
      this.blocked = true;
      this.tapFdIo.pauseRead();
    }
  }

  get capturing(): boolean {
    return this.tap !== undefined;
  }

  setTap(tap: FrameTap | undefined): void {
    this.tap = tap;
    this.txDroppedAt.fill(0);
  }

  private captureSent(from: number, to: number): void {
    const { buffer, slotSize, lengths } = this.tapBatch;
    for (let i = from; i < to; i++) {
      if (this.txDroppedAt[i]) this.txDroppedAt[i] = 0;
      else if (lengths[i]) this.tap?.frame('tx', buffer.subarray(i * slotSize, i * slotSize + (lengths[i] as number)));
    }
  }

  onWritable(): void {
    this.pump();
    if (this.blocked && this.pendingFrom >= this.tapBatch.count) {
      this.blocked = false;
      if (!this.injecting) this.tapFdIo.resumeRead();
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
      const written = this.tapFdIo.writeBatch(batch.buffer, batch.slotSize, lengths, i, end);
      this.counters.rx.packets += written;
      for (let k = i; k < i + written; k++) {
        this.counters.rx.bytes += lengths[k] as number;
        if (this.tap) this.tap.frame('rx', batch.buffer.subarray(k * batch.slotSize, k * batch.slotSize + (lengths[k] as number)));
      }
      i += written;
      if (i < end) {
        // The TAP refused one frame (queue full, or not a valid frame): count it and go on.
        const errno = this.tapFdIo.lastErrno;
        this.onDrop(errno === EAGAIN || errno === ENOBUFS ? 'busy' : 'runt', 'rx', lengths[i] as number, { batch, index: i });
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
        this.onDrop('linkDown', 'tx', this.tapBatch.lengths[i] as number, { batch: this.tapBatch, index: i });
      }
      this.pendingFrom = this.tapBatch.count;
      if (this.blocked) {
        this.blocked = false;
        this.tapFdIo.resumeRead();
      }
    }
  }

  /**
   * Sends frames toward the remote side as if they had been read from the TAP (`rpmsg-eth replay`):
   * same counters, drops, capture and back-pressure. Frames longer than a slot cannot be carried and are
   * skipped (reported, not sent).
   */
  async inject(frames: readonly Uint8Array[]): Promise<{ offered: number; skipped: number }> {
    const batch = this.tapBatch;
    const idle = async () => {
      while (this.pendingFrom < batch.count) await new Promise((r) => setTimeout(r, 2));
    };
    this.injecting = true;
    this.tapFdIo.pauseRead();
    let offered = 0;
    let skipped = 0;
    try {
      let next = 0;
      while (next < frames.length) {
        await idle();
        let n = 0;
        while (n < TAP_BATCH && next < frames.length) {
          const frame = frames[next++] as Uint8Array;
          if (frame.length > batch.slotSize || frame.length === 0) {
            skipped++;
            continue;
          }
          batch.buffer.set(frame, n * batch.slotSize);
          batch.lengths[n++] = frame.length;
        }
        batch.count = n;
        this.pendingFrom = 0;
        if (this.tap) this.txDroppedAt.fill(0);
        offered += n;
        this.pump();
      }
      await idle();
    } finally {
      this.injecting = false;
      if (!this.blocked) this.tapFdIo.resumeRead();
    }
    return { offered, skipped };
  }

  onDrop(reason: DropReason, direction: 'tx' | 'rx', bytes: number, frame?: FrameRef): void {
    this.counters.drops[reason]++;
    (direction === 'tx' ? this.counters.txDrops : this.counters.rxDrops)[reason]++;
    if (direction === 'tx') {
      this.txDroppedPackets++;
      this.txDroppedBytes += bytes;
    }
    if (this.tap && frame) {
      this.tap.frame(direction, frameView(frame, bytes), reason, bytes);
      if (direction === 'tx' && frame.batch === this.tapBatch) this.txDroppedAt[frame.index] = 1;
    }
  }

  close(): void {
    this.tapFdIo.close();
  }
}
