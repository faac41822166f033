// The contract between the bridge and a channel's eth-dev endpoint (kmod, rpmsg-char or sim).
// Messages move in batches held in a fixed slot arena: message i sits at buffer[i * slotSize]
// with length lengths[i]. Arenas are allocated once per channel and reused on every wakeup.
// A length of 0 marks a message the transport has already dropped (and reported through onDrop):
// consumers skip it, so a transport can reject single messages without copying the rest.
import type { ChannelPlan } from '../channels/types.js';

export interface MessageBatch {
  buffer: Buffer;
  slotSize: number;
  lengths: Uint32Array;
  count: number;
}

export interface LinkEvents {
  /** Messages received from the remote side. The batch is only valid during the call. */
  onMessages(batch: MessageBatch): void;
  /** The link can take messages again after send() accepted fewer than offered. */
  onWritable(): void;
  /** The endpoint went away (remote restart, device removed) or came back. */
  onLinkChange(up: boolean): void;
  /**
   * A message refused by the link or malformed on arrival, counted by the bridge. `frame` says where its
   * bytes are (tx: the batch given to send(); rx: the batch about to be delivered), valid only during the
   * call, so a capture can record what was dropped.
   */
  onDrop(reason: DropReason, direction: 'tx' | 'rx', bytes: number, frame?: FrameRef): void;
}

export interface FrameRef {
  batch: MessageBatch;
  index: number;
}

/** framing: a frame the `frag` framing could not send (spec rule 3.8) or reassemble (src/framing/). */
export type DropReason = 'oversize' | 'busy' | 'linkDown' | 'runt' | 'framing';

export interface SendResult {
  /** Messages consumed from the batch (sent or dropped with onDrop). */
  consumed: number;
  /** True when the link is full: stop offering until onWritable(). */
  busy: boolean;
}

export interface ChannelLink {
  /** Largest message the endpoint accepts, in bytes. */
  readonly maxPayload: number;
  readonly up: boolean;
  /** Offer messages [start, batch.count) to the remote side. */
  send(batch: MessageBatch, start: number): SendResult;
  /** Stop delivering onMessages (back-pressure from the TAP side) / resume. */
  pauseReceive(): void;
  resumeReceive(): void;
  close(): Promise<void>;
}

export interface Transport {
  readonly name: 'sim' | 'kmod' | 'rpmsg-char';
  open(plan: ChannelPlan, events: LinkEvents): Promise<ChannelLink>;
  close(): Promise<void>;
}
