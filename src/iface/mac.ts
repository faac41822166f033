// Deterministic, locally administered MAC addresses: the same channel always gets the same address,
// so neighbour caches and captures stay stable across daemon restarts.
//   02:72:70:SS:HH:LL   SS = 00 for the Linux side, 01 for the (simulated) VxWorks side,
//                       HHLL = channel number.

export type MacSide = 'linux' | 'peer';

export function channelMac(channel: number, side: MacSide): string {
  const bytes = [0x02, 0x72, 0x70, side === 'linux' ? 0 : 1, (channel >> 8) & 0xff, channel & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
