// `capture` and `replay` in the running daemon: what crossed the cores, and putting it back.
import type { ChannelBridge, FrameTap } from '../src/bridge/bridge.js';
import { CaptureSession, type CaptureResult } from '../src/capture/capture-session.js';
import { readPcap } from '../src/capture/pcap-reader.js';
import { PcapngWriter } from '../src/capture/pcapng-writer.js';
import { UserError } from '../src/util/errors.js';

export interface CaptureTarget {
  channel: number;
  ifname: string;
  name: string;
  bridge: ChannelBridge;
}

export interface CaptureRequest {
  file: string;
  channels?: number[];
  count?: number;
  durationMs?: number;
}

/** Records the chosen channels into a pcapng file until the count or duration is reached or `stop` aborts. */
export async function runCapture(
  req: CaptureRequest,
  all: readonly CaptureTarget[],
  stop: AbortSignal,
  onStarted: (ifnames: string[]) => void,
): Promise<CaptureResult> {
  const targets = req.channels ? all.filter((t) => req.channels?.includes(t.channel)) : [...all];
  const missing = (req.channels ?? []).filter((n) => !all.some((t) => t.channel === n));
  if (missing.length) throw new UserError(`no running channel ${missing.join(', ')}`, 1);
  if (!targets.length) throw new UserError('no running channel to capture', 1);
  for (const t of targets) {
    if (t.bridge.capturing) throw new UserError(`${t.ifname} is already being captured`, 1);
  }
  const writer = await PcapngWriter.toFile(req.file);
  const session = new CaptureSession(writer, targets, { count: req.count, durationMs: req.durationMs });
  for (const t of targets) {
    const tap: FrameTap = {
      frame: (direction, data, dropReason, originalLength) =>
        session.frame(t.channel, direction, data, dropReason ? { dropReason, originalLength } : undefined),
    };
    t.bridge.setTap(tap);
  }
  const onStop = () => void session.stop();
  stop.addEventListener('abort', onStop);
  onStarted(targets.map((t) => t.ifname));
  try {
    return await session.done;
  } finally {
    stop.removeEventListener('abort', onStop);
    for (const t of targets) t.bridge.setTap(undefined);
  }
}

export interface ReplayResult {
  frames: number;
  offered: number;
  skipped: number;
}

/** Sends the frames of a classic pcap file into one channel, toward the remote side. */
export async function runReplay(file: string, target: CaptureTarget): Promise<ReplayResult> {
  const capture = await readPcap(file);
  // A frame the capture cut short would go out corrupt: leave it out (reported as skipped).
  const whole = capture.frames.filter((f) => f.originalLength === f.data.length).map((f) => f.data);
  const { offered, skipped } = await target.bridge.inject(whole);
  return { frames: capture.frames.length, offered, skipped: skipped + capture.frames.length - whole.length };
}
