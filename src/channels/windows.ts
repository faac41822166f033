// Shared-memory windows of a channel: its two vrings and its data-buffer pool, sized as Linux
// and the board driver size them.
import type { Channel } from './types.js';

/** RPMSG_VRING_ALIGN in the board driver: part of the wire protocol with the VxWorks side. */
export const VRING_ALIGN = 4096n;

/** Linux vring_size(num, align) for a split virtqueue: descriptors + avail ring, aligned, + used ring. */
export function vringSize(num: number, align: bigint = VRING_ALIGN): bigint {
  const n = BigInt(num);
  const descAndAvail = 16n * n + 2n * (3n + n);
  return ((descAndAvail + align - 1n) / align) * align + 2n * 3n + 8n * n;
}

export type WindowKind = 'rx vring' | 'tx vring' | 'data pool';

export interface Window {
  channel: Channel;
  kind: WindowKind;
  property: string;
  start: bigint;
  /** Exclusive. */
  end: bigint;
}

export function channelWindows(ch: Channel): Window[] {
  // The driver builds each virtqueue with num-bufs/2 entries (one ring for rx, one for tx).
  const ring = vringSize(Math.floor(ch.numBufs / 2));
  const windows: Window[] = [
    { channel: ch, kind: 'rx vring', property: 'shmem-rx-vring', start: ch.rxVring, end: ch.rxVring + ring },
    { channel: ch, kind: 'tx vring', property: 'shmem-tx-vring', start: ch.txVring, end: ch.txVring + ring },
  ];
  if (ch.dataBufferPool !== undefined) {
    const size = BigInt(ch.numBufs) * BigInt(ch.bufSize);
    windows.push({
      channel: ch,
      kind: 'data pool',
      property: 'data-buffer-pool',
      start: ch.dataBufferPool,
      end: ch.dataBufferPool + size,
    });
  }
  return windows;
}

export function hex(v: bigint): string {
  return `0x${v.toString(16).toUpperCase()}`;
}
