// The `frag` framing as a link: a ChannelLink the bridge sends whole frames to, wrapped around the
// transport's ChannelLink, which carries messages of at most maxPayload bytes (docs/frag-wire-spec.md).
//
//   bridge --frames--> FragLink --fragments--> inner link (sim, kmod, rpmsg-char)
//   bridge <--frames-- FragLink <--messages--- inner link
//
// Every time the inner link comes up, FragLink negotiates (spec §6): it holds frames back (busy) while
// it probes, then sends with frag headers if the peer answers, or falls back to raw (one frame per
// message) with a warning and tells its owner the MTU the interface must have (onModeChange).
// Receiving always accepts both raw and frag messages (spec §5).
//
// Outgoing fragments are built in a preallocated arena of inner-sized slots. A frame is taken from the
// bridge's batch once all its fragments are in the arena; if the inner link pushes back halfway, the
// rest stays in the arena, FragLink reports busy, and sends it (before anything else) when the inner
// link has room again, so fragments of one frame always go out back to back (spec rule 3.6).
import type { Logger } from '../log.js';
import type { ChannelLink, DropReason, FrameRef, LinkEvents, MessageBatch, SendResult } from '../transport/transport.js';
import { ENCODE_NO_ROOM, FragEncoder } from './frag-encoder.js';
import { ETH_HEADER_LEN, FLAG_CONTROL, FRAG_MAX_FRAME, FRAG_MIN_MAX_PAYLOAD, OFF_FLAGS, hasFragSignature } from './frag-header.js';
import { FragNegotiator, type NegotiationStep } from './frag-negotiator.js';
import { CONTROL_MESSAGE_LEN } from './frag-probe.js';
import { FAILURE_REASONS, PushResult, Reassembler, type FailureReason } from './frag-reassembler.js';

/** negotiating: probing the peer, frames held back; frag / raw: how frames are sent. */
export type FragMode = 'negotiating' | 'frag' | 'raw';

/** Fragment slots in the outgoing arena (at least one largest frame's worth). */
const TX_ARENA_SLOTS = 64;
/** Frames collected from one inner batch before they are handed to the bridge. */
const RX_OUT_SLOTS = 16;
/** Negotiation resends and the reassembly timeout are checked this often. */
const DEFAULT_TICK_MS = 100;

export interface FragLinkOptions {
  channel: number;
  ifname: string;
  /** Largest frame sent or accepted: the configured MTU + 14 (at most 9014). */
  maxFrame: number;
  log: Logger;
  /**
   * The sending mode was settled or changed: the MTU the interface must have now. Called with 'raw'
   * and maxPayload − 14 on a fallback, with 'frag' and min(own, peer's maxFrame) − 14 otherwise.
   */
  onModeChange?: (mode: 'frag' | 'raw', mtu: number) => void;
  /** Tests: a clock in milliseconds, the tick period, the negotiation timings. */
  now?: () => number;
  tickMs?: number;
  probeResendMs?: number;
  probeGiveUpMs?: number;
  reassemblyTimeoutMs?: number;
}

export interface FragLinkTxCounters {
  framesSent: number;
  fragmentsSent: number;
  /** Longer than min(own, peer's maxFrame): dropped. */
  framesOversize: number;
  framesRunt: number;
  /** Raw mode: frames that look like frag messages, not sent (spec rule 3.8). */
  rawSignatureDrops: number;
  /** Fragments the inner link refused (its onDrop); the receiver counts the broken frame. */
  fragmentsDropped: number;
  /** Fragments still queued when the link went down. */
  fragmentsAbandoned: number;
  controlSent: number;
}

/** The `framing` object of one channel in `stats --json`. */
export interface FragLinkStats {
  mode: FragMode;
  /** The peer's announced maxFrame, once it has shown that it speaks frag. */
  peerMaxFrame: number | null;
  /** Times negotiation started (every link up) and ended in a raw fallback. */
  negotiations: number;
  fallbacks: number;
  tx: FragLinkTxCounters;
  rx: {
    fragmentsReceived: number;
    fragmentsDiscarded: number;
    framesReassembled: number;
    rawFrames: number;
    controlReceived: number;
    failures: Record<FailureReason, number>;
  };
}

export class FragLink implements ChannelLink, LinkEvents {
  private inner: ChannelLink | undefined;
  private readonly rx: Reassembler;
  private readonly negotiator: FragNegotiator;
  private encoder: FragEncoder | undefined;
  private mode: FragMode = 'negotiating';
  private negotiations = 0;
  private fallbacks = 0;
  private readonly tx: FragLinkTxCounters = {
    framesSent: 0,
    fragmentsSent: 0,
    framesOversize: 0,
    framesRunt: 0,
    rawSignatureDrops: 0,
    fragmentsDropped: 0,
    fragmentsAbandoned: 0,
    controlSent: 0,
  };

  // Outgoing: fragments [arenaSent, arena.count) are waiting for the inner link.
  private arena: MessageBatch | undefined;
  private arenaSent = 0;
  private arenaCapacity = 0;
  /** A control message that did not fit the arena; sent right after it drains. */
  private pendingControl: Buffer | null = null;
  /** The bridge was told busy and waits for onWritable(). */
  private upperWaiting = false;
  /** True while raw frames go straight through to the inner link: its drops are frame drops. */
  private passthrough = false;
  // A reusable view of the bridge's batch limited to a run of frames (raw mode).
  private readonly view: MessageBatch = { buffer: Buffer.alloc(0), slotSize: 1, lengths: new Uint32Array(0), count: 0 };
  /** The bridge's batch during send(): drops name their frame in it (for the capture tap). */
  private readonly dropRef: FrameRef = { batch: this.view, index: 0 };

  // Incoming: frames collected here, then handed to the bridge in one batch.
  private rxOut: MessageBatch | undefined;
  private rxFailuresReported = 0;

  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly frameLimit: number;

  constructor(
    private readonly upper: LinkEvents,
    private readonly opts: FragLinkOptions,
  ) {
    if (!Number.isInteger(opts.maxFrame) || opts.maxFrame < ETH_HEADER_LEN || opts.maxFrame > FRAG_MAX_FRAME) {
      throw new RangeError(`frag: maxFrame must be ${ETH_HEADER_LEN}..${FRAG_MAX_FRAME}, got ${opts.maxFrame}`);
    }
    this.frameLimit = opts.maxFrame;
    this.now = opts.now ?? (() => performance.now());
    this.rx = new Reassembler({ maxFrame: opts.maxFrame, timeoutMs: opts.reassemblyTimeoutMs });
    this.negotiator = new FragNegotiator({ maxFrame: opts.maxFrame, resendMs: opts.probeResendMs, giveUpMs: opts.probeGiveUpMs });
  }

  /** Joins the transport's link (opened with this FragLink as its LinkEvents). Call once. */
  attach(inner: ChannelLink): void {
    if (this.inner) throw new Error('FragLink.attach: already attached');
    if (inner.maxPayload < FRAG_MIN_MAX_PAYLOAD) {
      throw new RangeError(`frag framing needs messages of at least ${FRAG_MIN_MAX_PAYLOAD} bytes; ${this.opts.ifname} carries ${inner.maxPayload}`);
    }
    this.inner = inner;
    this.encoder = new FragEncoder({ maxPayload: inner.maxPayload });
    this.arenaCapacity = Math.max(TX_ARENA_SLOTS, this.encoder.fragmentCount(this.frameLimit));
    this.arena = {
      buffer: Buffer.alloc(this.arenaCapacity * inner.maxPayload),
      slotSize: inner.maxPayload,
      lengths: new Uint32Array(this.arenaCapacity),
      count: 0,
    };
    // A raw message from the peer can be as long as the inner link's payload.
    const outSlot = Math.max(this.frameLimit, inner.maxPayload);
    this.rxOut = { buffer: Buffer.alloc(RX_OUT_SLOTS * outSlot), slotSize: outSlot, lengths: new Uint32Array(RX_OUT_SLOTS), count: 0 };
    // The transport may have reported the link up while it was being opened.
    if (inner.up) this.startNegotiation();
  }

  // ---- ChannelLink (towards the bridge) ---------------------------------------------------------

  /** Largest frame the bridge may hand over: the frame limit in frag mode, one message in raw. */
  get maxPayload(): number {
    if (this.mode === 'raw' && this.inner) return this.inner.maxPayload;
    return this.encoder ? Math.min(this.frameLimit, this.encoder.maxFrame) : this.frameLimit;
  }

  get up(): boolean {
    return this.inner?.up ?? false;
  }

  get sendingMode(): FragMode {
    return this.mode;
  }

  send(batch: MessageBatch, start: number): SendResult {
    const { lengths, count } = batch;
    const inner = this.inner;
    this.dropRef.batch = batch;
    if (!inner || !inner.up) {
      for (let i = start; i < count; i++) if (lengths[i]) this.dropFrame('linkDown', i);
      return { consumed: count - start, busy: false };
    }
    // Nothing goes out before the outcome of the negotiation, nor ahead of a half-sent frame.
    if (this.mode === 'negotiating' || !this.flushArena()) return this.busy(0);
    if (this.mode === 'raw') return this.sendRaw(batch, start);

    const encoder = this.encoder as FragEncoder;
    const arena = this.arena as MessageBatch;
    let i = start;
    while (i < count) {
      // The link may have gone down (or restarted negotiating) during the last flush.
      if (!inner.up) {
        for (; i < count; i++) if (lengths[i]) this.dropFrame('linkDown', i);
        break;
      }
      if (this.mode !== 'frag') return this.busy(i - start);
      // The arena is empty here: fill it with whole frames, then offer it.
      while (i < count) {
        const len = lengths[i] as number;
        if (len === 0) {
          i++;
          continue;
        }
        const n = encoder.encode(batch.buffer, i * batch.slotSize, len, arena);
        if (n === ENCODE_NO_ROOM && arena.count > 0) break;
        // NO_ROOM on an empty arena cannot happen (it holds the largest frame); never spin on it.
        if (n <= 0) this.dropFrame(len < ETH_HEADER_LEN ? 'runt' : 'oversize', i);
        i++;
      }
      if (!this.flushArena()) return this.busy(i - start);
    }
    return { consumed: i - start, busy: false };
  }

  /** Frame `index` of the bridge's batch is not sent: the bridge counts (and may capture) it. */
  private dropFrame(reason: DropReason, index: number): void {
    const ref = this.dropRef;
    ref.index = index;
    this.upper.onDrop(reason, 'tx', ref.batch.lengths[index] as number, ref);
  }

  private busy(consumed: number): SendResult {
    this.upperWaiting = true;
    return { consumed, busy: true };
  }

  /** Raw mode: the bridge's frames go to the inner link as they are, minus any with the frag signature. */
  private sendRaw(batch: MessageBatch, start: number): SendResult {
    const { buffer, slotSize, lengths, count } = batch;
    const inner = this.inner as ChannelLink;
    const view = this.view;
    view.buffer = buffer;
    view.slotSize = slotSize;
    view.lengths = lengths;
    let i = start;
    while (i < count) {
      let end = i;
      while (end < count && !hasFragSignature(buffer, end * slotSize, lengths[end] as number)) end++;
      if (end > i) {
        view.count = end;
        this.passthrough = true;
        const { consumed, busy } = inner.send(view, i);
        this.passthrough = false;
        i += consumed;
        if (busy || i < end) return this.busy(i - start);
      }
      if (i < count) {
        // A frag receiver would take this frame for a fragment (spec rule 3.8).
        this.tx.rawSignatureDrops++;
        this.dropFrame('framing', i);
        i++;
      }
    }
    return { consumed: i - start, busy: false };
  }

  /**
   * Offers the queued fragments (then a pending control message) to the inner link. True when
   * everything went out; false when the inner link is full (it calls onWritable() later).
   */
  private flushArena(): boolean {
    const inner = this.inner;
    const arena = this.arena;
    if (!inner || !arena) return false;
    for (;;) {
      if (this.arenaSent < arena.count) {
        const { consumed } = inner.send(arena, this.arenaSent);
        for (let k = this.arenaSent; k < this.arenaSent + consumed; k++) {
          if (!arena.lengths[k]) continue;
          if ((arena.buffer[k * arena.slotSize + OFF_FLAGS] as number) & FLAG_CONTROL) this.tx.controlSent++;
          else this.tx.fragmentsSent++;
        }
        this.arenaSent += consumed;
        if (this.arenaSent < arena.count) return false;
      }
      arena.count = 0;
      this.arenaSent = 0;
      if (this.pendingControl === null) return true;
      this.appendControl(this.pendingControl);
      this.pendingControl = null;
    }
  }

  /** Queues a control message behind whole frames (never between fragments) and sends what it can. */
  private sendControl(msg: Buffer): void {
    const arena = this.arena;
    if (!arena || !this.inner?.up) return;
    if (arena.count < this.arenaCapacity && this.pendingControl === null) this.appendControl(msg);
    else this.pendingControl = msg; // only the latest probe or reply matters
    if (this.flushArena()) this.wakeUpper();
  }

  private appendControl(msg: Buffer): void {
    const arena = this.arena as MessageBatch;
    const slot = arena.count++;
    msg.copy(arena.buffer, slot * arena.slotSize, 0, CONTROL_MESSAGE_LEN);
    arena.lengths[slot] = CONTROL_MESSAGE_LEN;
  }

  private wakeUpper(): void {
    if (this.upperWaiting && this.mode !== 'negotiating' && this.inner?.up) {
      this.upperWaiting = false;
      this.upper.onWritable();
    }
  }

  pauseReceive(): void {
    this.inner?.pauseReceive();
  }

  resumeReceive(): void {
    this.inner?.resumeReceive();
  }

  async close(): Promise<void> {
    this.stopTimer();
    await this.inner?.close();
  }

  // ---- LinkEvents (from the inner link) -----------------------------------------------------------

  onMessages(batch: MessageBatch): void {
    const { buffer, slotSize, lengths, count } = batch;
    const rx = this.rx;
    const out = this.rxOut;
    if (!out) return;
    const now = this.now();
    for (let i = 0; i < count; i++) {
      const len = lengths[i] as number;
      if (len === 0) continue;
      const off = i * slotSize;
      const r = rx.push(buffer, off, len, now);
      if (r === PushResult.frame) {
        const slot = out.count++;
        rx.frameBuffer.copy(out.buffer, slot * out.slotSize, rx.frameOffset, rx.frameOffset + rx.frameLength);
        out.lengths[slot] = rx.frameLength;
        if (out.count === RX_OUT_SLOTS) this.deliver();
      } else if (r === PushResult.control) {
        this.apply(this.negotiator.onControl(buffer, off, len));
      }
    }
    this.deliver();
    this.reportRxFailures();
  }

  private deliver(): void {
    const out = this.rxOut as MessageBatch;
    if (out.count === 0) return;
    this.upper.onMessages(out);
    out.count = 0;
  }

  /** Every failed reassembly is one frame lost on the way in: the bridge counts it as a drop. */
  private reportRxFailures(): void {
    const f = this.rx.counters.failures;
    const total = f.lost + f.duplicate + f.truncated + f.overlong + f.badVersion + f.badHeader + f.timeout;
    for (; this.rxFailuresReported < total; this.rxFailuresReported++) this.upper.onDrop('framing', 'rx', 0);
  }

  onWritable(): void {
    if (this.flushArena()) this.wakeUpper();
  }

  onLinkChange(up: boolean): void {
    if (up) {
      this.upper.onLinkChange(true);
      if (this.inner) this.startNegotiation();
      return;
    }
    this.stopTimer();
    this.rx.reset();
    const arena = this.arena;
    if (arena) {
      for (let k = this.arenaSent; k < arena.count; k++) if (arena.lengths[k]) this.tx.fragmentsAbandoned++;
      arena.count = 0;
      this.arenaSent = 0;
    }
    this.pendingControl = null;
    this.upperWaiting = false;
    this.mode = 'negotiating';
    this.upper.onLinkChange(false);
  }

  onDrop(reason: DropReason, direction: 'tx' | 'rx', bytes: number, frame?: FrameRef): void {
    // A refused fragment breaks its frame at the receiver, which counts it; raw frames are the bridge's.
    if (direction === 'tx' && !this.passthrough) this.tx.fragmentsDropped++;
    else if (direction === 'tx' && frame) this.dropFrame(reason, frame.index); // the view's index is the batch's
    else this.upper.onDrop(reason, direction, bytes, frame);
  }

  // ---- negotiation -------------------------------------------------------------------------------

  private startNegotiation(): void {
    this.negotiations++;
    this.mode = 'negotiating';
    this.rx.reset();
    const probe = this.negotiator.start(this.now());
    this.startTimer();
    this.sendControl(probe);
  }

  private apply(step: NegotiationStep): void {
    if (step.send) this.sendControl(step.send);
    if (step.outcome) this.setMode(step.outcome);
  }

  private setMode(mode: 'frag' | 'raw'): void {
    const inner = this.inner as ChannelLink;
    const encoder = this.encoder as FragEncoder;
    this.mode = mode;
    let mtu: number;
    if (mode === 'frag') {
      encoder.maxFrame = this.negotiator.sendMaxFrame;
      mtu = encoder.maxFrame - ETH_HEADER_LEN;
      this.opts.log.info(
        { ifname: this.opts.ifname, channel: this.opts.channel, framing: 'frag', mtu, peerMaxFrame: this.negotiator.peer?.maxFrame },
        `${this.opts.ifname}: peer speaks frag, mtu ${mtu}`,
      );
    } else {
      this.fallbacks++;
      mtu = inner.maxPayload - ETH_HEADER_LEN;
      this.opts.log.warn(
        { ifname: this.opts.ifname, channel: this.opts.channel, framing: 'raw', mtu },
        `${this.opts.ifname}: peer did not answer the frag probe; falling back to raw framing, mtu ${mtu}`,
      );
    }
    this.opts.onModeChange?.(mode, mtu);
    this.wakeUpper();
  }

  private startTimer(): void {
    this.timer ??= setInterval(() => this.tick(), this.opts.tickMs ?? DEFAULT_TICK_MS).unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Periodic: probe resends and fallback, and the reassembly timeout. Also callable from tests. */
  tick(): void {
    const now = this.now();
    this.rx.tick(now);
    this.reportRxFailures();
    this.apply(this.negotiator.poll(now));
  }

  stats(): FragLinkStats {
    const c = this.rx.counters;
    const failures = {} as Record<FailureReason, number>;
    for (const r of FAILURE_REASONS) failures[r] = c.failures[r];
    return {
      mode: this.mode,
      peerMaxFrame: this.negotiator.peer?.maxFrame ?? null,
      negotiations: this.negotiations,
      fallbacks: this.fallbacks,
      tx: {
        ...this.tx,
        framesOversize: this.encoder?.counters.framesOversize ?? 0,
        framesRunt: this.encoder?.counters.framesRunt ?? 0,
        framesSent: this.encoder?.counters.framesSent ?? 0,
      },
      rx: {
        fragmentsReceived: c.fragmentsReceived,
        fragmentsDiscarded: c.fragmentsDiscarded,
        framesReassembled: c.framesReassembled,
        rawFrames: c.rawFrames,
        controlReceived: c.controlReceived,
        failures,
      },
    };
  }
}
