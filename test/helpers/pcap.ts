// Reads a classic pcap file with pcap-parser into plain packets.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pcapp = require('pcap-parser') as {
  parse(path: string): NodeJS.EventEmitter;
};

export interface CapturedPacket {
  data: Buffer;
}

export function readPcap(path: string): Promise<{ linkLayerType: number; packets: CapturedPacket[] }> {
  return new Promise((resolve, reject) => {
    const parser = pcapp.parse(path);
    const packets: CapturedPacket[] = [];
    let linkLayerType = -1;
    parser.on('globalHeader', (h: { linkLayerType: number }) => (linkLayerType = h.linkLayerType));
    parser.on('packet', (p: { data: Buffer }) => packets.push({ data: p.data }));
    parser.on('end', () => resolve({ linkLayerType, packets }));
    parser.on('error', reject);
  });
}

export interface IcmpEcho {
  src: string;
  dst: string;
  type: 'request' | 'reply';
}

/** Ethernet + IPv4 + ICMP echo, or undefined for anything else. */
export function parseIcmpEcho(frame: Buffer): IcmpEcho | undefined {
  if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ihl = ((frame[14] as number) & 0x0f) * 4;
  if (frame[14 + 9] !== 1) return undefined;
  const icmpType = frame[14 + ihl];
  if (icmpType !== 0 && icmpType !== 8) return undefined;
  const ip = (o: number) => [...frame.subarray(o, o + 4)].join('.');
  return { src: ip(14 + 12), dst: ip(14 + 16), type: icmpType === 8 ? 'request' : 'reply' };
}
