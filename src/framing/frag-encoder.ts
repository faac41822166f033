// Sender side of the `frag` framing (docs/frag-wire-spec.md §3): cuts a frame into messages written
// straight into the transport's slot arena, header and payload, with no allocation per fragment.
import type { MessageBatch } from '../transport/transport.js';
import {
  ETH_HEADER_LEN,
  FLAG_FIRST,
  FLAG_LAST,
  FRAG_HEADER_LEN,
  FRAG_MAX_FRAME,
  FRAG_MIN_MAX_PAYLOAD,
  hasFragSignature,
  writeFragHeader,
} from './frag-header.js';

export interface FragEncoderCounters {
  /** Messages produced into the arena (the link may still drop them; it counts those). */
  fragmentsSent: number;
  framesSent: number;
  /** Frames longer than the peer accepts (or than 9014 bytes). */
  framesOversize: number;
  /** Frames shorter than an Ethernet header. */
  framesRunt: number;
}

/** encode() result when the arena has too few free slots: nothing written, retry after a flush. */
export const ENCODE_NO_ROOM = 0;
/** encode() result when the frame cannot be sent at all: dropped and counted. */
export const ENCODE_DROPPED = -1;

export class FragEncoder {
  readonly maxPayload: number;
  /** Fragment payload size F = maxPayload − 16. */
  readonly fragPayload: number;
  readonly counters: FragEncoderCounters = {
    fragmentsSent: 0,
    framesSent: 0,
    framesOversize: 0,
    framesRunt: 0,
  };
  private seq: number;
  private frameLimit = FRAG_MAX_FRAME;

  constructor(opts: { maxPayload: number; initialSeq?: number }) {
    if (!Number.isInteger(opts.maxPayload) || opts.maxPayload < FRAG_MIN_MAX_PAYLOAD) {
      throw new RangeError(`frag framing needs maxPayload >= ${FRAG_MIN_MAX_PAYLOAD}, got ${opts.maxPayload}`);
    }
    this.maxPayload = opts.maxPayload;
    this.fragPayload = opts.maxPayload - FRAG_HEADER_LEN;
    this.seq = (opts.initialSeq ?? 0) & 0xffff;
  }

  /** Largest frame sent: min(9014, the peer's announced maxFrame). */
  get maxFrame(): number {
    return this.frameLimit;
  }

  set maxFrame(value: number) {
    this.frameLimit = Math.max(ETH_HEADER_LEN, Math.min(FRAG_MAX_FRAME, Math.floor(value)));
  }

  /** Sequence number the next frame will carry. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Messages a frame of `length` bytes takes. */
  fragmentCount(length: number): number {
    return Math.ceil(length / this.fragPayload);
  }

  /**
   * Append the fragments of frame src[offset, offset+length) to `out` at slots [out.count, ...) and
   * advance out.count. Returns the number of messages written, ENCODE_NO_ROOM (0) when the arena lacks
   * free slots (nothing written, no sequence number used), or ENCODE_DROPPED (-1) for a frame that is
   * too short or too long (counted).
   */
  encode(src: Buffer, offset: number, length: number, out: MessageBatch): number {
    if (length < ETH_HEADER_LEN) {
      this.counters.framesRunt++;
      return ENCODE_DROPPED;
    }
    if (length > this.frameLimit) {
      this.counters.framesOversize++;
      return ENCODE_DROPPED;
    }
    const f = this.fragPayload;
    const n = Math.ceil(length / f);
    const msgLen = n === 1 ? length + FRAG_HEADER_LEN : this.maxPayload;
    if (out.slotSize < msgLen) {
      throw new RangeError(`arena slot of ${out.slotSize} bytes cannot hold a ${msgLen}-byte message`);
    }
    const capacity = Math.min(out.lengths.length, Math.floor(out.buffer.length / out.slotSize));
    if (out.count + n > capacity) return ENCODE_NO_ROOM;

    const seq = this.seq;
    this.seq = (seq + 1) & 0xffff;
    let slot = out.count;
    for (let i = 0, pos = 0; i < n; i++, pos += f, slot++) {
      const chunk = i === n - 1 ? length - pos : f;
      const flags = (i === 0 ? FLAG_FIRST : 0) | (i === n - 1 ? FLAG_LAST : 0);
      const base = slot * out.slotSize;
      writeFragHeader(out.buffer, base, flags, seq, length, pos);
      src.copy(out.buffer, base + FRAG_HEADER_LEN, offset + pos, offset + pos + chunk);
      out.lengths[slot] = FRAG_HEADER_LEN + chunk;
    }
    out.count = slot;
    this.counters.fragmentsSent += n;
    this.counters.framesSent++;
    return n;
  }
}

/**
 * Raw framing must not emit a frame that a frag receiver would take for a frag message
 * (spec rule 3.8). The raw path calls this and drops (and counts) such frames.
 */
export function rawFrameLooksLikeFrag(buf: Buffer, offset: number, length: number): boolean {
  return hasFragSignature(buf, offset, length);
}
