// Records on a streaming control connection (`capture`, `replay`): after the request line, both sides
// exchange length-prefixed records — JSON messages and Ethernet frames — so frames cross the socket
// without JSON encoding and every record's size is known and bounded before it is read.
//
//   record  = u32 LE body length, u8 kind, 3 bytes zero, body
//   MESSAGE = UTF-8 JSON (at most MAX_MESSAGE bytes)
//   FRAME   = u8 direction (0 rx, 1 tx), u8 drop reason (0 none, else DROP_REASONS index + 1),
//             u16 LE channel, u32 LE length on the wire, u64 LE timestamp (ns since the epoch), then the
//             bytes (at most MAX_FRAME)
import { DROP_REASONS, type DropReason } from '../bridge/counters.js';

export const RECORD_HEADER = 8;
export const FRAME_HEADER = 16;
export const MAX_MESSAGE = 64 * 1024;
/** Larger than any frame a channel carries (frag: 9000 + 14); pcapng and pcap cap a frame at 2^16 - 1 here. */
export const MAX_FRAME = 0xffff;

const KIND_MESSAGE = 1;
const KIND_FRAME = 2;

export interface StreamFrame {
  /** 'rx' = remote -> Linux; 'tx' = Linux -> remote. */
  direction: 'rx' | 'tx';
  channel: number;
  /** A view into the received bytes (not copied; never reused by the parser). */
  data: Uint8Array;
  originalLength: number;
  timestampNs: bigint;
  dropReason?: DropReason;
}

export class RecordError extends Error {}

export function encodeMessage(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_MESSAGE) throw new RecordError(`message of ${body.length} bytes exceeds ${MAX_MESSAGE}`);
  const out = Buffer.allocUnsafe(RECORD_HEADER + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(KIND_MESSAGE, 4);
  body.copy(out, RECORD_HEADER);
  return out;
}

/** One buffer holding the record: the data is copied, so the caller's arena may be reused at once. */
export function encodeFrame(f: Omit<StreamFrame, 'data'>, data: Uint8Array): Buffer {
  if (data.length > MAX_FRAME) throw new RecordError(`frame of ${data.length} bytes exceeds ${MAX_FRAME}`);
  const out = Buffer.allocUnsafe(RECORD_HEADER + FRAME_HEADER + data.length);
  out.writeUInt32LE(FRAME_HEADER + data.length, 0);
  out.writeUInt32LE(KIND_FRAME, 4);
  out[8] = f.direction === 'tx' ? 1 : 0;
  out[9] = f.dropReason === undefined ? 0 : DROP_REASONS.indexOf(f.dropReason) + 1;
  out.writeUInt16LE(f.channel, 10);
  out.writeUInt32LE(f.originalLength >>> 0, 12);
  out.writeBigUInt64LE(f.timestampNs, 16);
  out.set(data, RECORD_HEADER + FRAME_HEADER);
  return out;
}

export interface RecordHandlers {
  message(text: string): void;
  frame(f: StreamFrame): void;
}

/**
 * Splits a byte stream into records. Holds at most one partial record; a record that announces more than
 * the limits allow, or an unknown kind, is a RecordError (the peer is not speaking this protocol).
 */
export class RecordParser {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly handlers: RecordHandlers) {}

  /** True when the stream ended between records. */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  push(chunk: Buffer): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= RECORD_HEADER) {
      const len = buf.readUInt32LE(at);
      const kind = buf[at + 4];
      if (kind === KIND_MESSAGE ? len > MAX_MESSAGE : kind === KIND_FRAME ? len < FRAME_HEADER || len > FRAME_HEADER + MAX_FRAME : true) {
        throw new RecordError(`bad record (kind ${kind}, ${len} bytes)`);
      }
      if (buf.length - at < RECORD_HEADER + len) break;
      const body = buf.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len);
      at += RECORD_HEADER + len;
      if (kind === KIND_MESSAGE) {
        this.handlers.message(body.toString('utf8'));
        continue;
      }
      const reason = body[1] as number;
      if (body[0]! > 1 || reason > DROP_REASONS.length) throw new RecordError('bad frame record header');
      this.handlers.frame({
        direction: body[0] === 1 ? 'tx' : 'rx',
        dropReason: reason === 0 ? undefined : DROP_REASONS[reason - 1],
        channel: body.readUInt16LE(2),
        originalLength: body.readUInt32LE(4),
        timestampNs: body.readBigUInt64LE(8),
        data: body.subarray(FRAME_HEADER),
      });
    }
    // Keep only the partial record (copied, so the rest of a large chunk is not held).
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
  }
}
