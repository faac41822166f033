// A native data plane (src/native/data-plane.ts) between two SOCK_SEQPACKET pairs the test drives: one
// stands in for the TAP (the test writes frames "from Linux" and reads what the plane delivers), the
// other for a device endpoint (the test plays the remote core). Sockets keep messages whole as a TAP
// and the rpmsg devices do, and push back (EAGAIN) when full. `events` is a LinkEvents for the
// transports (like ChannelBridge, minus the TAP carrier a socket does not have).
import { readSync, writeSync } from 'node:fs';
import { DataPlane, captureRecords, closeFd, seqpacketPair, type DataPlaneOptions } from '../../src/native/index.js';
import { DROP_REASONS } from '../../src/bridge/counters.js';
import type { DeviceEndpoint, Endpoint, EndpointLoss, LinkEvents } from '../../src/transport/transport.js';

export interface Captured {
  direction: 'tx' | 'rx';
  reason: string | undefined;
  originalLength: number;
  data: Buffer;
}

/** Reads every message waiting on a non-blocking socket. */
export function drain(fd: number, max = 70_000): Buffer[] {
  const out: Buffer[] = [];
  const buf = Buffer.alloc(max);
  for (;;) {
    try {
      const n = readSync(fd, buf);
      out.push(Buffer.from(buf.subarray(0, n)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return out;
      throw err;
    }
  }
}

/** Writes each buffer as one message; returns how many went before the socket pushed back. */
export function put(fd: number, messages: Buffer[]): number {
  let n = 0;
  for (const m of messages) {
    try {
      writeSync(fd, m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return n;
      throw err;
    }
    n++;
  }
  return n;
}

export async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An Ethernet frame of `len` bytes (unicast, EtherType 0x88b6) whose bytes depend on `tag`. */
export function frame(len: number, tag: number): Buffer {
  const f = Buffer.alloc(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + tag * 13) & 0xff;
  Buffer.from([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb6]).copy(f, 0, 0, Math.min(14, len));
  return f;
}

export class PlaneRig implements LinkEvents {
  readonly plane: DataPlane;
  /** The test's end of the "TAP". */
  readonly tap: number;
  /** The test's end of the current device endpoint (-1 before attach). */
  remote = -1;
  readonly losses: EndpointLoss[] = [];
  readonly modes: Array<['frag' | 'raw', number]> = [];
  readonly captured: Captured[] = [];
  linkUp = false;
  private onLost: ((loss: EndpointLoss) => void) | undefined;
  private readonly captureBuffer = Buffer.alloc(1 << 20);
  private readonly fds: number[] = [];

  constructor(options: Partial<DataPlaneOptions> = {}) {
    const [ours, theirs] = seqpacketPair();
    this.tap = theirs;
    this.fds.push(theirs);
    this.plane = new DataPlane(ours, { tapSlot: 496, frag: false, ...options }, {
      onLinkLost: (errno, txInFlight) => {
        this.linkUp = false;
        const loss = { errno, txInFlight };
        this.losses.push(loss);
        const cb = this.onLost;
        this.onLost = undefined;
        cb?.(loss);
      },
      onModeChange: (isFrag, mtu) => this.modes.push([isFrag ? 'frag' : 'raw', mtu]),
      onCapture: (bytes) => {
        for (const r of captureRecords(this.captureBuffer, bytes))
          this.captured.push({ direction: r.direction, reason: r.reason === undefined ? undefined : DROP_REASONS[r.reason], originalLength: r.originalLength, data: Buffer.from(r.data) });
      },
      onTapHangup: () => undefined,
    });
  }

  capture(on: boolean): void {
    this.plane.setCapture(on ? this.captureBuffer : null);
  }

  /** A fresh device pair attached as the endpoint (options as a transport would give them). */
  attachDevice(options: Partial<DeviceEndpoint> = {}): void {
    const [ours, theirs] = seqpacketPair();
    this.remote = theirs;
    this.fds.push(theirs);
    this.attach({ kind: 'device', fd: ours, maxPayload: 496, batchIoctl: false, room: 'pollout', busyErrnos: [11], dropErrnos: [], retryMinMs: 2, retryMaxMs: 50, ...options }, () => undefined);
  }

  attach(endpoint: Endpoint, onLost: (loss: EndpointLoss) => void): void {
    if (endpoint.kind === 'sim') this.plane.attachSim(endpoint.dataFd, endpoint.doorbellFd, endpoint.ringFd, endpoint.maxPayload, endpoint.window);
    else this.plane.attachDevice(endpoint.fd, endpoint);
    this.onLost = onLost;
    this.linkUp = true;
  }

  detach(beforeClose?: (fd: number) => void): EndpointLoss | undefined {
    const fd = this.plane.endpointFd;
    if (fd < 0) return undefined;
    beforeClose?.(fd);
    this.onLost = undefined;
    this.linkUp = false;
    return { errno: 0, txInFlight: this.plane.detach() };
  }

  counters(): Record<string, number> {
    return this.plane.counters();
  }

  /** One counter by name, read now; a name the plane does not have throws. */
  count(name: string): number {
    const n = this.plane.counters()[name];
    if (n === undefined) throw new Error(`no counter ${name}`);
    return n;
  }

  frag(): Record<string, number> {
    return this.plane.frag();
  }

  close(): void {
    this.plane.close();
    for (const fd of this.fds.splice(0)) {
      try {
        closeFd(fd);
      } catch {
        // already closed by the test
      }
    }
  }
}
