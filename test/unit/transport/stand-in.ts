// A SOCK_SEQPACKET pair standing in for an rpmsg device (one message per read/write, EAGAIN when
// full, hangup when the other end closes), behind the transports' LinkDevice seam, plus a recorder of
// LinkEvents. The "remote" end is a MessageFd the test drives.
import { pino } from 'pino';
import type { ChannelPlan } from '../../../src/channels/types.js';
import { MessageFd, closeFd, seqpacketPair } from '../../../src/native/index.js';
import type { DeviceSession, LinkDevice } from '../../../src/transport/device-link.js';
import type { DropReason, FrameRef, LinkEvents, MessageBatch } from '../../../src/transport/transport.js';

export const silentLog = pino({ level: 'silent' });

export function testPlan(overrides: Partial<ChannelPlan> = {}): ChannelPlan {
  return {
    channel: 3,
    index: 3,
    name: 'nokia-test-channel',
    ifname: 'rpmsg3',
    ethEndpoint: 0x30,
    remoteEndpoint: 0x30,
    bufSize: 512,
    numBufs: 512,
    maxPayload: 496,
    mtu: 482,
    address: '169.254.103.1/24',
    peerAddress: '169.254.103.2',
    enabled: true,
    framing: 'raw',
    ...overrides,
  };
}

/** The device: present or not; each open() makes a new pair and hands its remote end to the test. */
export class StandInDevice implements LinkDevice {
  readonly label = '/dev/stand-in';
  present = true;
  opens = 0;
  released: number[] = [];
  remote: Remote | undefined;
  private readonly remotes: Remote[] = [];

  constructor(private readonly maxPayload = 496) {}

  open(): DeviceSession | undefined {
    if (!this.present) return undefined;
    this.opens++;
    const [ours, theirs] = seqpacketPair();
    this.remote = new Remote(theirs, this.maxPayload);
    this.remotes.push(this.remote);
    return { fd: ours, maxPayload: this.maxPayload, batchIoctl: false };
  }

  release(fd: number): void {
    this.released.push(fd);
  }

  closeAll(): void {
    for (const r of this.remotes.splice(0)) r.close();
  }
}

/** The far end of the stand-in: collects what the link sent, sends messages to it. */
export class Remote {
  readonly received: Buffer[] = [];
  readonly fd: MessageFd;
  hungUp = false;
  private wake: (() => void) | undefined;

  constructor(fd: number, slotSize: number) {
    // Room for oversize messages sent by the test: receive slots larger than the payload.
    this.fd = new MessageFd(fd, {
      slotSize: slotSize + 64,
      batch: 64,
      onReadable: (count) => {
        const { buffer, lengths } = this.fd.rx;
        for (let i = 0; i < count; i++)
          this.received.push(Buffer.from(buffer.subarray(i * this.fd.slotSize, i * this.fd.slotSize + lengths[i]!)));
        this.wake?.();
      },
      onHangup: () => {
        this.hungUp = true;
      },
    });
  }

  /** Sends each buffer as one message; returns how many went. */
  send(messages: Buffer[]): number {
    const slot = Math.max(...messages.map((m) => m.length), 1);
    const buffer = Buffer.alloc(slot * messages.length);
    const lengths = new Uint32Array(messages.length);
    messages.forEach((m, i) => {
      m.copy(buffer, i * slot);
      lengths[i] = m.length;
    });
    return this.fd.writeBatch(buffer, slot, lengths, 0, messages.length);
  }

  pause(): void {
    this.fd.pauseRead();
  }

  resume(): void {
    this.fd.resumeRead();
  }

  async waitReceived(count: number, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`remote got ${this.received.length} of ${count} messages`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.fd.close();
  }
}

/** LinkEvents that record everything. */
export class Recorder implements LinkEvents {
  readonly messages: Buffer[] = [];
  readonly batchSizes: number[] = [];
  readonly drops: { reason: DropReason; direction: 'tx' | 'rx'; bytes: number }[] = [];
  /** Where each drop said its bytes were: the first bytes of the frame, copied during the call. */
  readonly dropFrames: (Buffer | undefined)[] = [];
  readonly linkChanges: boolean[] = [];
  writable = 0;
  /** Called from onWritable, e.g. to send again. */
  onWritableHook: (() => void) | undefined;

  onMessages(batch: MessageBatch): void {
    this.batchSizes.push(batch.count);
    for (let i = 0; i < batch.count; i++) {
      const len = batch.lengths[i]!;
      if (len) this.messages.push(Buffer.from(batch.buffer.subarray(i * batch.slotSize, i * batch.slotSize + len)));
    }
  }

  onWritable(): void {
    this.writable++;
    this.onWritableHook?.();
  }

  onLinkChange(up: boolean): void {
    this.linkChanges.push(up);
  }

  onDrop(reason: DropReason, direction: 'tx' | 'rx', bytes: number, frame?: FrameRef): void {
    this.drops.push({ reason, direction, bytes });
    const at = frame && frame.index * frame.batch.slotSize;
    this.dropFrames.push(frame && Buffer.from(frame.batch.buffer.subarray(at, at! + Math.min(bytes, frame.batch.slotSize, 16))));
  }
}

/** A batch in the transport's slot layout; message i is sizes[i] bytes of a pattern seeded by i. */
export function batchOf(sizes: number[], slotSize: number): MessageBatch {
  const buffer = Buffer.alloc(sizes.length * slotSize);
  const lengths = new Uint32Array(sizes.length);
  sizes.forEach((size, i) => {
    lengths[i] = size;
    for (let j = 0; j < Math.min(size, slotSize); j++) buffer[i * slotSize + j] = (i * 7 + j) & 0xff;
  });
  return { buffer, slotSize, lengths, count: sizes.length };
}

export function frame(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (seed * 13 + j) & 0xff;
  return b;
}

export function messageOf(batch: MessageBatch, i: number): Buffer {
  return batch.buffer.subarray(i * batch.slotSize, i * batch.slotSize + batch.lengths[i]!);
}

export async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { closeFd };
