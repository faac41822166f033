// A SOCK_SEQPACKET pair standing in for an rpmsg device (one message per read/write, EAGAIN when
// full, hangup when the other end closes), behind the transports' LinkDevice seam. The test holds the
// "remote" end as a plain fd (see test/helpers/plane-rig.ts for reading and writing it).
import { pino } from 'pino';
import type { ChannelPlan } from '../../../src/channels/types.js';
import { closeFd, seqpacketPair } from '../../../src/native/index.js';
import type { DeviceSession, LinkDevice } from '../../../src/transport/device-link.js';

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
  /** The remote end of the latest open (-1 before). */
  remote = -1;
  private readonly remotes: number[] = [];

  constructor(private readonly maxPayload = 496) {}

  open(): DeviceSession | undefined {
    if (!this.present) return undefined;
    this.opens++;
    const [ours, theirs] = seqpacketPair();
    this.remote = theirs;
    this.remotes.push(theirs);
    return { fd: ours, maxPayload: this.maxPayload, batchIoctl: false };
  }

  release(fd: number): void {
    this.released.push(fd);
  }

  /** The remote core goes away: its end closes (the device hangs up). */
  hangUp(): void {
    const fd = this.remotes.pop();
    if (fd !== undefined) closeFd(fd);
  }

  closeAll(): void {
    for (const fd of this.remotes.splice(0)) closeFd(fd);
  }
}
