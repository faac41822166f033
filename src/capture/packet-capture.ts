// Capture and replay on an interface the daemon does not bridge (the netdev transport: the kernel module
// forwards the frames): an AF_PACKET socket bound to the interface (src/native/packet-socket.ts), open
// only while a capture or a replay runs. Direction comes from the kernel (PACKET_OUTGOING = tx = toward
// the remote); frames the socket's queue could not hold are reported as missed, never silently lost.
// A replay writes the frames into the interface like any sender: the module sends them to the remote,
// with the interface's counters and queue limits.
import { captureRecords, PacketSocket } from '../native/index.js';
import { UserError } from '../util/errors.js';
import type { CaptureSource, FrameTap } from './capture-source.js';

/** Records of one wakeup: at least one largest frame (64 KiB) and a good batch of small ones. */
const CAPTURE_BUFFER = 2 * 1024 * 1024;
/** A replay's socket is send-only (it is handed no frame); the binding still wants one largest frame of room. */
const REPLAY_READ_BUFFER = 80 * 1024;
const ETH_HEADER = 14;
/** Replay hands frames to the socket in runs of this many. */
const SEND_RUN = 64;

export class PacketCapture implements CaptureSource {
  private socket: PacketSocket | undefined;
  private buffer: Buffer | undefined;
  private tap: FrameTap | undefined;

  constructor(
    readonly ifname: string,
    readonly netns: string | undefined,
    /** The interface's MTU now: longer replayed frames are skipped. */
    private readonly mtu: () => number,
    /** Told of each problem a socket reports (the interface went down, ...). */
    private readonly onError: (errno: number) => void = () => undefined,
  ) {}

  get capturing(): boolean {
    return this.tap !== undefined;
  }

  /** `capture`: its frames go to the tap; else a replay's send-only socket, which reads nothing. */
  private open(capture: boolean): PacketSocket {
    const buffer = capture ? (this.buffer ??= Buffer.alloc(CAPTURE_BUFFER)) : Buffer.alloc(REPLAY_READ_BUFFER);
    try {
      return new PacketSocket(this.ifname, this.netns, buffer, {
        onRecords: capture ? (bytes) => this.records(bytes) : () => undefined,
        onError: (errno) => this.onError(errno),
        sendOnly: !capture,
      });
    } catch (err) {
      throw new UserError(`cannot open a packet socket on ${this.ifname}: ${(err as Error).message}`, 1);
    }
  }

  setTap(tap: FrameTap | undefined): void {
    if (tap) {
      this.socket ??= this.open(true);
      this.tap = tap;
      return;
    }
    this.reportMissed();
    this.tap = undefined;
    this.socket?.close();
    this.socket = undefined;
    this.buffer = undefined;
  }

  /**
   * The interface went away: the socket is bound to it (the kernel says ENETDOWN once, then nothing).
   * Closed; the tap stays, and reopen() binds a new socket once an interface of that name is back.
   */
  suspend(): void {
    this.reportMissed();
    this.socket?.close();
    this.socket = undefined;
  }

  /** A running capture (a tap) without a socket gets one on the interface as it is now. */
  reopen(): void {
    if (this.tap && !this.socket) this.socket = this.open(true);
  }

  private records(bytes: number): void {
    const tap = this.tap;
    const buffer = this.buffer;
    if (!tap || !buffer) return;
    for (const r of captureRecords(buffer, bytes)) {
      tap.frame(r.direction, r.data, undefined, r.originalLength > r.data.length ? r.originalLength : undefined);
    }
    this.reportMissed();
  }

  private reportMissed(): void {
    const n = this.tap && this.socket ? this.socket.drops() : 0;
    if (n > 0) this.tap?.missed?.(n);
  }

  async inject(frames: readonly Uint8Array[]): Promise<{ offered: number; skipped: number }> {
    const slot = this.mtu() + ETH_HEADER;
    // A socket of its own: a running capture's socket then sees the replayed frames go out (a packet
    // socket never sees what it sends itself).
    const socket = this.open(false);
    const buffer = Buffer.alloc(SEND_RUN * slot);
    const lengths = new Uint32Array(SEND_RUN);
    let offered = 0;
    let skipped = 0;
    try {
      let next = 0;
      while (next < frames.length) {
        let n = 0;
        while (n < SEND_RUN && next < frames.length) {
          const frame = frames[next++] as Uint8Array;
          if (frame.length > slot || frame.length < ETH_HEADER) {
            skipped++;
            continue;
          }
          buffer.set(frame, n * slot);
          lengths[n++] = frame.length;
        }
        for (let at = 0; at < n; ) {
          let sent: number;
          try {
            sent = socket.send(buffer, slot, lengths, at, n);
          } catch (err) {
            throw new UserError(`replay into ${this.ifname}: ${(err as Error).message}`, 1);
          }
          at += sent;
          offered += sent;
          if (at < n) await new Promise((r) => setTimeout(r, 2)); // the interface's queue is full: wait for room
        }
      }
    } finally {
      socket.close();
    }
    return { offered, skipped };
  }
}
