// The 16-byte header of the `frag` framing (docs/frag-wire-spec.md §2). Big-endian throughout.
// Read as Ethernet, a frag message is addressed to a group address with the local-experimental
// EtherType, so a raw-only peer's stack discards it instead of taking it for traffic.

/** Bytes 0..5: locally administered group address 03:72:70:6D:73:67 (0x03, "rpmsg"). */
export const FRAG_SIGNATURE = Object.freeze([0x03, 0x72, 0x70, 0x6d, 0x73, 0x67] as const);
/** Bytes 12..13: IEEE 802 Local Experimental EtherType 1. */
export const FRAG_ETHERTYPE = 0x88b5;
export const FRAG_VERSION = 1;
export const FRAG_HEADER_LEN = 16;
/** Ethernet header length: the shortest frame, and MTU = frame limit − 14. */
export const ETH_HEADER_LEN = 14;
/** MTU 9000 + Ethernet header. */
export const FRAG_MAX_FRAME = 9014;
/** Smallest rpmsg payload `frag` works with: a 60-byte control message must fit. */
export const FRAG_MIN_MAX_PAYLOAD = 64;

export const FLAG_FIRST = 0x01;
export const FLAG_LAST = 0x02;
export const FLAG_CONTROL = 0x80;
export const FLAG_RESERVED = 0x7c;

// Field offsets inside the header.
export const OFF_VERSION = 6;
export const OFF_FLAGS = 7;
export const OFF_SEQ = 8;
export const OFF_TOTAL = 10;
export const OFF_ETHERTYPE = 12;
export const OFF_OFFSET = 14;

/** True when buf[off, off+len) carries the frag signature (bytes 0..5 and 12..13). */
export function hasFragSignature(buf: Buffer, off: number, len: number): boolean {
  return (
    len >= ETH_HEADER_LEN &&
    buf[off] === 0x03 &&
    buf[off + 1] === 0x72 &&
    buf[off + 2] === 0x70 &&
    buf[off + 3] === 0x6d &&
    buf[off + 4] === 0x73 &&
    buf[off + 5] === 0x67 &&
    buf[off + 12] === 0x88 &&
    buf[off + 13] === 0xb5
  );
}

/** Write a version-1 header at buf[off]. */
export function writeFragHeader(
  buf: Buffer,
  off: number,
  flags: number,
  seq: number,
  total: number,
  fragOffset: number,
): void {
  buf[off] = 0x03;
  buf[off + 1] = 0x72;
  buf[off + 2] = 0x70;
  buf[off + 3] = 0x6d;
  buf[off + 4] = 0x73;
  buf[off + 5] = 0x67;
  buf[off + OFF_VERSION] = FRAG_VERSION;
  buf[off + OFF_FLAGS] = flags;
  buf.writeUInt16BE(seq & 0xffff, off + OFF_SEQ);
  buf.writeUInt16BE(total, off + OFF_TOTAL);
  buf.writeUInt16BE(FRAG_ETHERTYPE, off + OFF_ETHERTYPE);
  buf.writeUInt16BE(fragOffset, off + OFF_OFFSET);
}

/** Fragment payload size F for a channel whose largest message is maxPayload bytes. */
export function fragPayloadSize(maxPayload: number): number {
  return maxPayload - FRAG_HEADER_LEN;
}

/** Messages needed for a frame of frameLen bytes: ceil(frameLen / F). */
export function fragmentCount(frameLen: number, maxPayload: number): number {
  const f = fragPayloadSize(maxPayload);
  return Math.ceil(frameLen / f);
}
