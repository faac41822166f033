// One channel's native data plane (native/dataplane/): TAP <-> framing <-> endpoint in native code, on
// a thread of its own. Frames never enter JavaScript, except a running capture's (batched per wakeup).
// The methods run on that thread synchronously; the events arrive on the Node loop a turn later.
import { addon, type DeviceOptions, type NativeDataPlane } from './addon.js';

export interface DataPlaneOptions {
  /** Largest frame read from the TAP whole: the payload (raw) or MTU + 14 (frag). */
  tapSlot: number;
  frag: boolean;
  /** frag: own frame limit, MTU + 14. */
  maxFrame?: number;
  /** Tests: negotiation and reassembly timings (default: the spec's 500, 1500, 1000 ms). */
  probeResendMs?: number;
  probeGiveUpMs?: number;
  reassemblyTimeoutMs?: number;
}

export interface DataPlaneEvents {
  /** The endpoint hung up or failed; the link is down. */
  onLinkLost(errno: number, txInFlight: number): void;
  /** frag: the sending mode was settled or changed; the interface MTU it needs. */
  onModeChange(frag: boolean, mtu: number): void;
  /** Capture records (see CaptureRecords) are in the capture buffer. */
  onCapture(bytes: number): void;
  /** The TAP went away (interface deleted). */
  onTapHangup(errno: number): void;
}

export type DataPlaneCounters = Record<string, number>;

/** Reads the records the native side writes while a capture runs (native/dataplane/channel.h). */
export function* captureRecords(buffer: Buffer, bytes: number) {
  for (let at = 0; at + 12 <= bytes; ) {
    const direction = buffer[at] === 0 ? ('tx' as const) : ('rx' as const);
    const reason = buffer[at + 1] as number;
    const originalLength = buffer.readUInt32LE(at + 4);
    const length = buffer.readUInt32LE(at + 8);
    yield { direction, reason: reason === 255 ? undefined : reason, originalLength, data: buffer.subarray(at + 12, at + 12 + length) };
    at += 12 + ((length + 3) & ~3);
  }
}

export class DataPlane {
  readonly #native: NativeDataPlane;
  readonly #counters: Float64Array;
  readonly #frag: Float64Array;

  /** Takes ownership of the TAP fd (close() closes it); if this throws, the fd is still the caller's. */
  constructor(tapFd: number, options: DataPlaneOptions, events: DataPlaneEvents) {
    const a = addon();
    this.#counters = new Float64Array(a.DATA_PLANE_COUNTERS.length);
    this.#frag = new Float64Array(a.DATA_PLANE_FRAG.length);
    this.#native = new a.DataPlane(tapFd, options, {
      onLinkLost: (errno: number, inFlight: number) => events.onLinkLost(errno, inFlight),
      onModeChange: (frag: boolean, mtu: number) => events.onModeChange(frag, mtu),
      onCapture: (bytes: number) => events.onCapture(bytes),
      onTapHangup: (errno: number) => events.onTapHangup(errno),
    });
  }

  attachSim(dataFd: number, doorbellFd: number, ringFd: number, maxPayload: number, window: number): void {
    this.#native.attachSim(dataFd, doorbellFd, ringFd, maxPayload, window);
  }

  attachDevice(fd: number, options: DeviceOptions): void {
    this.#native.attachDevice(fd, options);
  }

  /** Link down; closes the endpoint's fds. Returns the frames that were in flight toward the remote. */
  detach(): number {
    return this.#native.detach();
  }

  /** The attached endpoint's fd, or -1. */
  get endpointFd(): number {
    return this.#native.endpointFd();
  }

  /** The counters by name (DATA_PLANE_COUNTERS), read now. */
  counters(): DataPlaneCounters {
    return named(addon().DATA_PLANE_COUNTERS, this.#counters, (out) => this.#native.readCounters(out));
  }

  /** The frag counters by name (DATA_PLANE_FRAG), read now. */
  frag(): DataPlaneCounters {
    return named(addon().DATA_PLANE_FRAG, this.#frag, (out) => this.#native.readFrag(out));
  }

  /** Start (with a buffer the records go to) or stop (null) recording frames for a capture. */
  setCapture(buffer: Buffer | null): void {
    this.#native.setCapture(buffer);
  }

  /** Stop / resume reading the TAP (a replay in progress). */
  pauseTap(paused: boolean): void {
    this.#native.pauseTap(paused);
  }

  /** Frames start..end-1 (frame i at buffer[i * slotSize], lengths[i] bytes) as if read from the TAP; returns how many it took. */
  inject(buffer: Buffer, slotSize: number, lengths: Uint32Array, start: number, end: number): number {
    return this.#native.inject(buffer, slotSize, lengths, start, end);
  }

  /** Nothing waits for the endpoint. */
  get txIdle(): boolean {
    return this.#native.txIdle;
  }

  /** Closes the TAP and the endpoint; no event afterwards. Safe to call twice. */
  close(): void {
    this.#native.close();
  }
}

function named(names: readonly string[], values: Float64Array, read: (out: Float64Array) => void): DataPlaneCounters {
  read(values);
  const out: DataPlaneCounters = {};
  names.forEach((name, i) => (out[name] = values[i] as number));
  return out;
}

/** A fresh shared page for the sim ring (memfd), close-on-exec. */
export function sharedRingCreate(): number {
  return addon().sharedRingCreate();
}
