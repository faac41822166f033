// The streaming commands of the control socket, `capture` and `replay`: their requests and the JSON
// messages exchanged after them (records.ts carries them), with zod schemas so either side validates
// what it reads before acting on it. Files never cross the socket: the client reads (replay) or writes
// (capture) them itself, in its own mount namespace, as its own user.
//
//   capture: client -> request line; daemon -> {type:start, interfaces}, frame records...,
//            {type:end, ok, result | error}. The client ends its side to stop early (Ctrl-C).
//   replay:  client -> request line; daemon -> {type:start}; client -> frame records..., end of its
//            side; daemon -> {type:end, ok, result | error}.
import { z } from 'zod';

/** Channel numbers are u16 on the wire; more channels than this in one request is not a board. */
const MAX_CHANNELS = 4096;
/** setTimeout's limit (2^31 - 1 ms, about 24.8 days). */
export const MAX_CAPTURE_MS = 2 ** 31 - 1;

const channelNumber = z.number().int().min(0).max(0xffff);

export const captureRequestSchema = z.strictObject({
  cmd: z.literal('capture'),
  channels: z.array(channelNumber).min(1).max(MAX_CHANNELS).optional(),
  /** End after this many frames (those dropped for a slow reader included). */
  count: z.number().int().min(1).max(2 ** 32).optional(),
  durationMs: z.number().int().min(1).max(MAX_CAPTURE_MS).optional(),
});

export const replayRequestSchema = z.strictObject({
  cmd: z.literal('replay'),
  channel: channelNumber,
});

export const streamRequestSchema = z.discriminatedUnion('cmd', [captureRequestSchema, replayRequestSchema]);

export type CaptureRequest = z.infer<typeof captureRequestSchema>;
export type ReplayRequest = z.infer<typeof replayRequestSchema>;
export type StreamRequest = z.infer<typeof streamRequestSchema>;

export const STREAM_COMMANDS: ReadonlySet<string> = new Set(['capture', 'replay']);

export const captureInterfaceSchema = z.strictObject({
  channel: channelNumber,
  /** The interface name: the pcapng if_name. */
  ifname: z.string().max(64),
  /** The channel name: the pcapng if_description. */
  name: z.string().max(64),
});
export type CaptureInterface = z.infer<typeof captureInterfaceSchema>;

export const captureResultSchema = z.strictObject({
  /** Frames streamed to the client (frames the daemon dropped included: they carry a reason). */
  frames: z.number().int().min(0),
  /** Frames not streamed because the client fell behind, per channel number. */
  notCaptured: z.record(z.string(), z.number().int().min(0)),
  ended: z.enum(['count', 'duration', 'stopped']),
});
export type CaptureResult = z.infer<typeof captureResultSchema>;

export const replayResultSchema = z.strictObject({
  /** Frames received from the client. */
  frames: z.number().int().min(0),
  /** Frames offered to the channel (the bridge's counters and drops apply to them). */
  offered: z.number().int().min(0),
  /** Frames that could not be carried (empty or longer than the channel takes). */
  skipped: z.number().int().min(0),
});
export type ReplayResult = z.infer<typeof replayResultSchema>;

export const streamMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), interfaces: z.array(captureInterfaceSchema).max(MAX_CHANNELS).optional() }),
  /** ok: result holds the command's result; else error says why it failed. */
  z.strictObject({ type: z.literal('end'), ok: z.boolean(), result: z.unknown().optional(), error: z.string().max(4096).optional() }),
]);
export type StreamMessage = z.infer<typeof streamMessageSchema>;
