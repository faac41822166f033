// ICMPv4 echo request encoding and echo reply parsing (RFC 792) for the peer health check.

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
const HEADER = 8;
/** Same payload size as ping's default (56 bytes) so the probe looks like what people test with. */
const PAYLOAD = Buffer.from('rpmsg-eth peer health'.padEnd(56, '.'), 'latin1');

/** The Internet checksum: ones' complement of the ones' complement sum of 16-bit words. */
export function internetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (buf.length % 2) sum += (buf[buf.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An echo request (ICMP header + payload; the kernel adds the IP header on a raw ICMP socket). */
export function echoRequest(identifier: number, sequence: number): Buffer {
  const buf = Buffer.alloc(HEADER + PAYLOAD.length);
  buf[0] = ICMP_ECHO_REQUEST;
  buf.writeUInt16BE(identifier & 0xffff, 4);
  buf.writeUInt16BE(sequence & 0xffff, 6);
  PAYLOAD.copy(buf, HEADER);
  buf.writeUInt16BE(internetChecksum(buf), 2);
  return buf;
}

export interface EchoReply {
  identifier: number;
  sequence: number;
}

/**
 * The identifier and sequence of an echo reply as a raw IPv4 ICMP socket receives it (IP header
 * included), or undefined for anything else (other ICMP types, truncated or corrupt packets).
 */
export function parseEchoReply(packet: Buffer): EchoReply | undefined {
  if (packet.length < 20) return undefined;
  const first = packet[0] as number;
  const ihl = (first & 0x0f) * 4;
  if (first >> 4 !== 4 || ihl < 20 || packet[9] !== 1 || packet.length < ihl + HEADER) return undefined;
  const icmp = packet.subarray(ihl);
  if (icmp[0] !== ICMP_ECHO_REPLY || icmp[1] !== 0 || internetChecksum(icmp) !== 0) return undefined;
  return { identifier: icmp.readUInt16BE(4), sequence: icmp.readUInt16BE(6) };
}
