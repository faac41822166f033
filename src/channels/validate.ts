// The checks `rpmsg-eth check` runs on a channel table: what the board driver would refuse, what
// Linux cannot do, and what silently corrupts shared memory on the board (overlapping windows).
import type { Finding } from './findings.js';
import type { Channel } from './types.js';
import { channelWindows, hex, type Window } from './windows.js';

export { formatFinding, hasErrors, type Finding, type Severity } from './findings.js';

/** RPMSG_NAME_SIZE: 32 bytes including the terminating NUL. */
export const RPMSG_NAME_SIZE = 32;
export const RPMSG_HEADER_SIZE = 16;
export const ETH_HEADER_SIZE = 14;
/** The smallest MTU Linux accepts on an Ethernet device (ETH_MIN_MTU). */
export const ETH_MIN_MTU = 68;
/** rpmsg_hdr.len is 16 bits. */
export const RPMSG_MAX_PAYLOAD = 0xffff;
/** The name-service endpoint of virtio rpmsg. */
const RPMSG_NS_ADDR = 53;

const U64_END = 1n << 64n;

export function validateChannels(channels: readonly Channel[]): Finding[] {
  const findings: Finding[] = [];
  for (const ch of channels) checkChannel(ch, findings);
  checkDuplicates(channels, findings);
  checkOverlaps(channels, findings);
  return findings;
}

function ref(ch: Channel): { index: number; name: string } {
  return { index: ch.index, name: ch.name };
}

function checkChannel(ch: Channel, findings: Finding[]): void {
  const error = (property: string, message: string): void => {
    findings.push({ severity: 'error', property, channel: ref(ch), message });
  };
  const warning = (property: string, message: string): void => {
    findings.push({ severity: 'warning', property, channel: ref(ch), message });
  };

  if (ch.role !== 1 && ch.role !== 2) error('rpmsg-role', `is ${ch.role}: must be 1 (master) or 2 (remote)`);

  const nameBytes = new TextEncoder().encode(ch.name).length;
  if (nameBytes >= RPMSG_NAME_SIZE) {
    error('channel-name', `is ${nameBytes} bytes: an rpmsg name holds at most ${RPMSG_NAME_SIZE - 1} (RPMSG_NAME_SIZE ${RPMSG_NAME_SIZE} with the NUL)`);
  } else if (nameBytes === RPMSG_NAME_SIZE - 1) {
    warning('channel-name', `is ${nameBytes} bytes: fits RPMSG_NAME_SIZE, but the board driver rejects names of ${RPMSG_NAME_SIZE - 1} bytes or more`);
  } else if (nameBytes === 0) {
    error('channel-name', 'is empty');
  }

  const n = ch.numBufs;
  if (n === 0) {
    error('rpmsg-num-bufs', 'is 0: a channel needs buffers');
  } else if (n % 2 !== 0) {
    error('rpmsg-num-bufs', `is ${n}, an odd number: the buffers are split evenly between the rx and tx rings`);
  } else if (!isPowerOfTwo(n / 2)) {
    error('rpmsg-num-bufs', `is ${n}: each ring gets ${n / 2} entries, and a split virtio ring's size must be a power of two`);
  } else if (n / 2 > 32768) {
    error('rpmsg-num-bufs', `is ${n}: a virtio ring holds at most 32768 entries`);
  }

  const minBuf = RPMSG_HEADER_SIZE + ETH_HEADER_SIZE + ETH_MIN_MTU;
  if (ch.bufSize < minBuf) {
    const room = ch.bufSize - RPMSG_HEADER_SIZE;
    error(
      'rpmsg-buf-size',
      `is ${ch.bufSize}: after the ${RPMSG_HEADER_SIZE}-byte rpmsg header ${room > 0 ? `only ${room} bytes remain` : 'nothing remains'}, ` +
        `too small for an Ethernet header (${ETH_HEADER_SIZE}) and the minimum MTU ${ETH_MIN_MTU} (needs at least ${minBuf})`,
    );
  } else if (ch.bufSize - RPMSG_HEADER_SIZE > RPMSG_MAX_PAYLOAD) {
    error('rpmsg-buf-size', `is ${ch.bufSize}: rpmsg's 16-bit length field carries at most ${RPMSG_MAX_PAYLOAD} bytes of payload`);
  }

  if (ch.ethEndpoint === RPMSG_NS_ADDR) warning('eth-dev-endpoints', `is ${RPMSG_NS_ADDR}, the rpmsg name-service address`);
  if (ch.miscEndpoint === RPMSG_NS_ADDR) warning('misc-dev-endpoints', `is ${RPMSG_NS_ADDR}, the rpmsg name-service address`);
  if (ch.ethEndpoint === ch.src) error('eth-dev-endpoints', `0x${ch.ethEndpoint.toString(16)} is also the channel's channel-src address`);
  if (ch.miscEndpoint === ch.src) error('misc-dev-endpoints', `0x${ch.miscEndpoint.toString(16)} is also the channel's channel-src address`);

  for (const w of channelWindows(ch)) {
    if (w.end > U64_END) error(w.property, `${w.kind} at ${hex(w.start)} runs past the end of the 64-bit address space`);
  }
}

function checkDuplicates(channels: readonly Channel[], findings: Finding[]): void {
  const dup = <T>(property: string, what: string, key: (ch: Channel) => T, show: (v: T) => string): void => {
    const first = new Map<T, Channel>();
    for (const ch of channels) {
      const k = key(ch);
      const prev = first.get(k);
      if (prev === undefined) {
        first.set(k, ch);
        continue;
      }
      findings.push({
        severity: 'error',
        property,
        channel: ref(ch),
        message: `${what} ${show(k)} is also used by channel #${prev.index} "${prev.name}"`,
      });
    }
  };
  dup('channel-num', 'channel number', (c) => c.channel, String);
  dup('channel-name', 'name', (c) => c.name, (v) => `"${v}"`);

  // Endpoint addresses: eth-dev and misc-dev endpoints must be distinct across the whole table.
  const owner = new Map<number, { ch: Channel; property: string }>();
  for (const property of ['eth-dev-endpoints', 'misc-dev-endpoints'] as const) {
    for (const ch of channels) {
      const addr = property === 'eth-dev-endpoints' ? ch.ethEndpoint : ch.miscEndpoint;
      const prev = owner.get(addr);
      if (prev === undefined) {
        owner.set(addr, { ch, property });
        continue;
      }
      findings.push({
        severity: 'error',
        property,
        channel: ref(ch),
        message: `endpoint address 0x${addr.toString(16)} is also the ${prev.property} of channel #${prev.ch.index} "${prev.ch.name}"`,
      });
    }
  }
}

function checkOverlaps(channels: readonly Channel[], findings: Finding[]): void {
  const windows: Window[] = channels.flatMap(channelWindows).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  // Sorted by start: each window can only overlap windows that start before it ends.
  for (let i = 0; i < windows.length; i++) {
    const a = windows[i]!;
    for (let j = i + 1; j < windows.length && windows[j]!.start < a.end; j++) {
      const b = windows[j]!;
      if (b.start === b.end || a.start === a.end) continue;
      const same = a.channel === b.channel;
      const later = a.channel.index > b.channel.index || (same && b.kind < a.kind) ? a : b;
      const other = later === a ? b : a;
      findings.push({
        severity: 'error',
        property: later.property,
        channel: ref(later.channel),
        message:
          `${later.kind} [${hex(later.start)}, ${hex(later.end)}) overlaps the ${other.kind} ` +
          `[${hex(other.start)}, ${hex(other.end)})` +
          (same ? ' of the same channel' : ` of channel #${other.channel.index} "${other.channel.name}" (${other.property})`),
      });
    }
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
