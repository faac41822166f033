// Receiver side of the `frag` framing (docs/frag-wire-spec.md §4): in-order reassembly of one frame at a
// time into a buffer allocated once. Every rule of the spec's algorithm maps to one branch below, with
// the spec's step number; a frame is delivered only when complete and consistent, otherwise dropped and
// counted once.
import {
  ETH_HEADER_LEN,
  FLAG_CONTROL,
  FLAG_FIRST,
  FLAG_LAST,
  FLAG_RESERVED,
  FRAG_HEADER_LEN,
  FRAG_MAX_FRAME,
  FRAG_VERSION,
  OFF_FLAGS,
  OFF_OFFSET,
  OFF_SEQ,
  OFF_TOTAL,
  OFF_VERSION,
  hasFragSignature,
} from './frag-header.js';
import { CONTROL_MIN_LEN, PROBE } from './frag-probe.js';

export const FAILURE_REASONS = [
  'lost',
  'duplicate',
  'truncated',
  'overlong',
  'badVersion',
  'badHeader',
  'timeout',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface ReassemblyCounters {
  /** Frag messages that passed the header checks and are not control messages. */
  fragmentsReceived: number;
  /** Fragments of an already dropped frame, thrown away without a new failure. */
  fragmentsDiscarded: number;
  /** Multi- and single-fragment frames delivered. */
  framesReassembled: number;
  /** Messages without the frag signature, delivered whole (spec §5). */
  rawFrames: number;
  controlReceived: number;
  failures: Record<FailureReason, number>;
}

/** push() results. Numbers, so the hot path allocates nothing. */
export const PushResult = { none: 0, frame: 1, control: 2 } as const;
export type PushResult = (typeof PushResult)[keyof typeof PushResult];

const IDLE = 0;
const ASSEMBLING = 1;
const DISCARDING = 2;

export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 1000;

export class Reassembler {
  readonly maxFrame: number;
  readonly timeoutMs: number;
  readonly counters: ReassemblyCounters = {
    fragmentsReceived: 0,
    fragmentsDiscarded: 0,
    framesReassembled: 0,
    rawFrames: 0,
    controlReceived: 0,
    failures: { lost: 0, duplicate: 0, truncated: 0, overlong: 0, badVersion: 0, badHeader: 0, timeout: 0 },
  };

  /** After push() returned PushResult.frame: the frame, valid until the next push(). */
  frameBuffer: Buffer;
  frameOffset = 0;
  frameLength = 0;

  private readonly buf: Buffer;
  private state = IDLE;
  private curSeq = 0;
  private curTotal = 0;
  private received = 0;
  private fragSize = 0;
  private started = 0;
  private lastSeq = 0;
  private lastSeqValid = false;

  constructor(opts: { maxFrame?: number; timeoutMs?: number } = {}) {
    const maxFrame = opts.maxFrame ?? FRAG_MAX_FRAME;
    if (!Number.isInteger(maxFrame) || maxFrame < ETH_HEADER_LEN || maxFrame > FRAG_MAX_FRAME) {
      throw new RangeError(`maxFrame must be ${ETH_HEADER_LEN}..${FRAG_MAX_FRAME}, got ${maxFrame}`);
    }
    this.maxFrame = maxFrame;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REASSEMBLY_TIMEOUT_MS;
    this.buf = Buffer.alloc(maxFrame);
    this.frameBuffer = this.buf;
  }

  /** True while a multi-fragment frame is partly received. */
  get assembling(): boolean {
    return this.state === ASSEMBLING;
  }

  /** Forget all state (link went down); counters are kept. */
  reset(): void {
    this.state = IDLE;
    this.lastSeqValid = false;
  }

  /** Drop a frame in progress whose FIRST fragment is older than the timeout (spec §4 step 0). */
  tick(nowMs: number): void {
    if (this.state === ASSEMBLING && nowMs - this.started > this.timeoutMs) {
      this.counters.failures.timeout++;
      this.state = DISCARDING;
    }
  }

  /**
   * Take one received message buf[off, off+len). Returns PushResult.frame when a frame is ready
   * (frameBuffer/frameOffset/frameLength), PushResult.control for a control message (parse it with
   * parseProbe on the same bytes), PushResult.none otherwise.
   */
  push(buf: Buffer, off: number, len: number, nowMs: number): PushResult {
    this.tick(nowMs);
    const c = this.counters;

    // Step 1: raw message.
    if (!hasFragSignature(buf, off, len)) {
      if (len < ETH_HEADER_LEN) {
        c.failures.truncated++;
        return PushResult.none;
      }
      c.rawFrames++;
      return this.deliver(buf, off, len);
    }

    // Step 2: header checks; the header itself cannot be trusted, so abort().
    if (len < FRAG_HEADER_LEN) return this.abort('truncated');
    if (buf[off + OFF_VERSION] !== FRAG_VERSION) return this.abort('badVersion');
    const flags = buf[off + OFF_FLAGS] ?? 0;
    if (flags & FLAG_CONTROL) {
      if (flags !== FLAG_CONTROL) return this.abort('badHeader');
      if (len < CONTROL_MIN_LEN) return this.abort('truncated');
      c.controlReceived++;
      if (buf[off + FRAG_HEADER_LEN] === PROBE) this.peerRestarted();
      return PushResult.control;
    }
    if (flags & FLAG_RESERVED) return this.abort('badHeader');
    c.fragmentsReceived++;

    const first = (flags & FLAG_FIRST) !== 0;
    const last = (flags & FLAG_LAST) !== 0;
    const seq = buf.readUInt16BE(off + OFF_SEQ);
    const total = buf.readUInt16BE(off + OFF_TOTAL);
    const fragOffset = buf.readUInt16BE(off + OFF_OFFSET);
    const p = len - FRAG_HEADER_LEN;

    if (this.state === ASSEMBLING) {
      if (!first && seq === this.curSeq) {
        // Step 3: continuation of the frame in progress.
        if (total !== this.curTotal) return this.drop('badHeader', seq, last);
        if (fragOffset < this.received) return this.drop('duplicate', seq, last);
        if (fragOffset > this.received) return this.drop('lost', seq, last);
        if (p === 0) return this.drop('truncated', seq, last);
        if (fragOffset + p > total) return this.drop('overlong', seq, last);
        if (!last) {
          if (p < this.fragSize) return this.drop('truncated', seq, last);
          if (p > this.fragSize) return this.drop('badHeader', seq, last);
          if (fragOffset + p === total) return this.drop('badHeader', seq, last);
        } else if (fragOffset + p < total) {
          return this.drop('truncated', seq, last);
        }
        buf.copy(this.buf, fragOffset, off + FRAG_HEADER_LEN, off + len);
        this.received += p;
        if (!last) return PushResult.none;
        this.state = IDLE;
        c.framesReassembled++;
        return this.deliver(this.buf, 0, total);
      }
      // Step 4: the frame in progress is broken.
      if (first && seq === this.curSeq) return this.drop('duplicate', seq, last);
      c.failures.lost++;
      this.state = IDLE;
    }

    if (first) {
      // Step 5: a FIRST fragment, no frame in progress.
      if (this.lastSeqValid && seq === this.lastSeq) return this.drop('duplicate', seq, last);
      if (fragOffset !== 0) return this.drop('badHeader', seq, last);
      if (total < ETH_HEADER_LEN) return this.drop('badHeader', seq, last);
      if (total > this.maxFrame) return this.drop('overlong', seq, last);
      if (p === 0) return this.drop('truncated', seq, last);
      if (p > total) return this.drop('overlong', seq, last);
      if (last && p < total) return this.drop('truncated', seq, last);
      if (!last && p === total) return this.drop('badHeader', seq, last);
      this.curSeq = seq;
      this.lastSeq = seq;
      this.lastSeqValid = true;
      this.curTotal = total;
      this.received = p;
      this.fragSize = p;
      this.started = nowMs;
      if (last) {
        // Single-fragment frame: hand it up from the message itself, no copy.
        this.state = IDLE;
        c.framesReassembled++;
        return this.deliver(buf, off + FRAG_HEADER_LEN, p);
      }
      buf.copy(this.buf, 0, off + FRAG_HEADER_LEN, off + len);
      this.state = ASSEMBLING;
      return PushResult.none;
    }

    // Step 6: a continuation fragment, no frame in progress.
    if (this.state === DISCARDING && seq === this.curSeq) {
      c.fragmentsDiscarded++;
      if (last) this.state = IDLE;
      return PushResult.none;
    }
    if (this.lastSeqValid && seq === this.lastSeq) return this.drop('duplicate', seq, last);
    return this.drop('lost', seq, last);
  }

  private deliver(buf: Buffer, off: number, len: number): PushResult {
    this.frameBuffer = buf;
    this.frameOffset = off;
    this.frameLength = len;
    return PushResult.frame;
  }

  /** drop(reason): count; the frame `seq` is over if this was its LAST fragment, else discard the rest. */
  private drop(reason: FailureReason, seq: number, last: boolean): PushResult {
    this.counters.failures[reason]++;
    this.curSeq = seq;
    this.state = last ? IDLE : DISCARDING;
    return PushResult.none;
  }

  /** abort(reason): count; a frame in progress is dropped with it (its rest discarded). */
  private abort(reason: FailureReason): PushResult {
    this.counters.failures[reason]++;
    if (this.state === ASSEMBLING) this.state = DISCARDING;
    return PushResult.none;
  }

  /** A PROBE: the other side (re)started, its sequence numbers begin again (spec §6.6). */
  private peerRestarted(): void {
    if (this.state === ASSEMBLING) this.counters.failures.lost++;
    this.state = IDLE;
    this.lastSeqValid = false;
  }
}
