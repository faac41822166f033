// Validation rules beyond the per-fixture ones, on channel objects directly.
import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../src/channels/types.js';
import { validateChannels } from '../../../src/channels/validate.js';
import { channelWindows, vringSize } from '../../../src/channels/windows.js';

const base: Channel = {
  index: 0,
  role: 1,
  outputMsgirq: 7,
  channel: 0,
  src: 0,
  dst: 0x100,
  name: 'ch0',
  ethEndpoint: 0x10,
  miscEndpoint: 0x12,
  rxVring: 0xb8000000n,
  txVring: 0xb8008000n,
  dataBufferPool: 0xb8010000n,
  numBufs: 512,
  bufSize: 512,
};

function only(ch: Partial<Channel>): Array<[string, string, string]> {
  return validateChannels([{ ...base, ...ch }]).map((f) => [f.severity, f.property, f.message]);
}

describe('vring sizes', () => {
  it('match Linux vring_size(num, 4096)', () => {
    // 128 entries (256 buffers): 2048 + 262 -> 4096, + 6 + 1024.
    expect(vringSize(128)).toBe(5126n);
    expect(vringSize(256)).toBe(10246n);
    expect(vringSize(1)).toBe(4096n + 6n + 8n);
  });

  it('the data pool is num-bufs x buf-size and is absent without a pool address', () => {
    expect(channelWindows(base).map((w) => w.end - w.start)).toEqual([10246n, 10246n, 512n * 512n]);
    expect(channelWindows({ ...base, dataBufferPool: undefined })).toHaveLength(2);
  });
});

describe('channel rules', () => {
  it('a clean channel has no findings', () => {
    expect(only({})).toEqual([]);
  });
  it('an empty name', () => {
    expect(only({ name: '' })).toEqual([['error', 'channel-name', 'is empty']]);
  });
  it('a multi-byte name is measured in bytes', () => {
    expect(only({ name: `${'é'.repeat(16)}` })[0]?.[2]).toMatch(/^is 32 bytes/);
  });
  it('a payload beyond the 16-bit length field', () => {
    expect(only({ bufSize: 65536 + 16, dataBufferPool: undefined })).toEqual([
      ['error', 'rpmsg-buf-size', 'is 65552: rpmsg\'s 16-bit length field carries at most 65535 bytes of payload'],
    ]);
  });
  it('the smallest buffer that still carries a 68-byte MTU is accepted', () => {
    expect(only({ bufSize: 98 })).toEqual([]);
    expect(only({ bufSize: 97 })[0]?.slice(0, 2)).toEqual(['error', 'rpmsg-buf-size']);
  });
  it('more ring entries than a virtio ring holds', () => {
    expect(only({ numBufs: 131072, dataBufferPool: undefined, txVring: 0xc0000000n })).toEqual([
      ['error', 'rpmsg-num-bufs', 'is 131072: a virtio ring holds at most 32768 entries'],
    ]);
  });
  it('an endpoint on the channel-src address, and one on the name-service address', () => {
    expect(only({ ethEndpoint: 0 })).toEqual([['error', 'eth-dev-endpoints', "0x0 is also the channel's channel-src address"]]);
    expect(only({ miscEndpoint: 53 })).toEqual([['warning', 'misc-dev-endpoints', 'is 53, the rpmsg name-service address']]);
  });
  it('a window past the end of the 64-bit address space', () => {
    const findings = only({ dataBufferPool: 0xffffffffffff0000n });
    expect(findings).toEqual([['error', 'data-buffer-pool', 'data pool at 0xFFFFFFFFFFFF0000 runs past the end of the 64-bit address space']]);
  });
  it('windows that only touch do not overlap', () => {
    expect(only({ txVring: 0xb8000000n + vringSize(256) })).toEqual([]);
    expect(only({ txVring: 0xb8000000n + vringSize(256) - 1n })[0]?.[1]).toBe('shmem-tx-vring');
  });
});
