// Control messages of the `frag` framing: the negotiation PROBE and its PROBE_REPLY
// (docs/frag-wire-spec.md §6). Rare, so these helpers favour clarity over zero allocation.
import {
  ETH_HEADER_LEN,
  FLAG_CONTROL,
  FRAG_HEADER_LEN,
  FRAG_MAX_FRAME,
  FRAG_VERSION,
  OFF_FLAGS,
  OFF_VERSION,
  hasFragSignature,
  writeFragHeader,
} from './frag-header.js';

export const PROBE = 1;
export const PROBE_REPLY = 2;
export type ProbeType = typeof PROBE | typeof PROBE_REPLY;

/** Control messages are padded to the minimum Ethernet frame length. */
export const CONTROL_MESSAGE_LEN = 60;
/** Header plus body: the shortest control message a receiver accepts. */
export const CONTROL_MIN_LEN = FRAG_HEADER_LEN + 8;

export interface ProbeMessage {
  type: ProbeType;
  /** Highest frag version the sender speaks. */
  version: number;
  /** Largest frame the sender accepts. */
  maxFrame: number;
  nonce: number;
}

/** Write a 60-byte PROBE or PROBE_REPLY at buf[off]; returns its length. */
export function encodeProbe(buf: Buffer, off: number, msg: ProbeMessage): number {
  if (buf.length - off < CONTROL_MESSAGE_LEN) throw new RangeError('buffer too small for a control message');
  if (msg.maxFrame < ETH_HEADER_LEN || msg.maxFrame > FRAG_MAX_FRAME) {
    throw new RangeError(`maxFrame ${msg.maxFrame} outside ${ETH_HEADER_LEN}..${FRAG_MAX_FRAME}`);
  }
  buf.fill(0, off, off + CONTROL_MESSAGE_LEN);
  writeFragHeader(buf, off, FLAG_CONTROL, 0, 0, 0);
  buf[off + 16] = msg.type;
  buf[off + 17] = msg.version;
  buf.writeUInt16BE(msg.maxFrame, off + 18);
  buf.writeUInt32BE(msg.nonce >>> 0, off + 20);
  return CONTROL_MESSAGE_LEN;
}

/** A fresh 60-byte PROBE message. */
export function buildProbe(nonce: number, maxFrame: number = FRAG_MAX_FRAME): Buffer {
  const buf = Buffer.alloc(CONTROL_MESSAGE_LEN);
  encodeProbe(buf, 0, { type: PROBE, version: FRAG_VERSION, maxFrame, nonce });
  return buf;
}

/** The PROBE_REPLY answering `probe`, announcing our own maxFrame. */
export function buildProbeReply(probe: ProbeMessage, maxFrame: number = FRAG_MAX_FRAME): Buffer {
  const buf = Buffer.alloc(CONTROL_MESSAGE_LEN);
  encodeProbe(buf, 0, { type: PROBE_REPLY, version: FRAG_VERSION, maxFrame, nonce: probe.nonce });
  return buf;
}

/**
 * Parse a PROBE or PROBE_REPLY. Returns null for anything else: not a frag message, not a control
 * message, too short, an unknown control type, version 0, or a maxFrame below 14. A maxFrame above
 * 9014 is read as 9014 (no frame is ever longer).
 */
export function parseProbe(buf: Buffer, off: number, len: number): ProbeMessage | null {
  if (len < CONTROL_MIN_LEN || !hasFragSignature(buf, off, len)) return null;
  if (buf[off + OFF_VERSION] !== FRAG_VERSION || buf[off + OFF_FLAGS] !== FLAG_CONTROL) return null;
  const type = buf[off + 16];
  if (type !== PROBE && type !== PROBE_REPLY) return null;
  const version = buf[off + 17] ?? 0;
  const maxFrame = buf.readUInt16BE(off + 18);
  if (maxFrame < ETH_HEADER_LEN || version < 1) return null;
  return { type, version, maxFrame: Math.min(maxFrame, FRAG_MAX_FRAME), nonce: buf.readUInt32BE(off + 20) };
}
