// Where a capture takes a channel's frames from and a replay sends them to: the channel's bridge (the
// daemon's data plane: src/bridge/bridge.ts) or, for an interface the kernel forwards for (netdev
// transport), a packet socket on it (packet-capture.ts).
import type { DropReason } from '../bridge/counters.js';

/** Sees every frame the source moves or drops while a capture runs (rx = remote -> Linux). */
export interface FrameTap {
  frame(direction: 'tx' | 'rx', data: Uint8Array, dropReason?: DropReason, originalLength?: number): void;
  /** Frames that went by without being captured (the kernel's socket queue was full). */
  missed?(count: number): void;
}

export interface CaptureSource {
  readonly capturing: boolean;
  /** Starts (a tap) or stops (undefined) handing frames to `tap`. Throws a UserError if it cannot start. */
  setTap(tap: FrameTap | undefined): void;
  /** Sends frames toward the remote side (`replay`); frames it cannot carry are skipped and counted. */
  inject(frames: readonly Uint8Array[]): Promise<{ offered: number; skipped: number }>;
}
