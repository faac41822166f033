// The control socket's protocol, declared once for the daemon and its clients: every request (zod
// schemas; the server validates each one before anything acts on it), every reply, and the messages of
// the streaming commands. Only root can connect (the socket is mode 0600 in a 0700 directory).
//
//   line requests  status, stats, reload, peer-restart, memory: one JSON line each way.
//   streams        capture, replay: the request line, then records (records.ts) both ways —
//     capture: daemon -> {type:start, interfaces}, frame records..., {type:end, ok, result | error}.
//              The client ends its side to stop early (Ctrl-C).
//     replay:  daemon -> {type:start}; client -> frame records..., end of its side;
//              daemon -> {type:end, ok, result | error}.
// Files never cross the socket: the client reads (replay) or writes (capture) them itself, in its own
// mount namespace, as its own user.
import { z } from 'zod';
import type { ChannelCounters, FramingStats, Rates } from '../bridge/counters.js';
import type { PeerHealthState } from '../health/peer-health.js';
import type { KernelCounters } from '../iface/kernel-counters.js';
import { MAX_TIMER_MS } from '../util/duration.js';

export const DEFAULT_CONTROL_SOCKET = '/run/rpmsg-eth/control.sock';
export const CONTROL_ENV = 'RPMSG_ETH_CONTROL';

/** --control-socket, else $RPMSG_ETH_CONTROL, else the config's controlSocket, else the default. */
export function controlSocketPath(explicit?: string, configured?: string): string {
  return explicit ?? (process.env[CONTROL_ENV] || undefined) ?? configured ?? DEFAULT_CONTROL_SOCKET;
}

// ---- requests -----------------------------------------------------------------------------------

/** Channel numbers are u16 in frame records; more channels than this in one request is not a board. */
const MAX_CHANNELS = 4096;
/** setTimeout's limit (2^31 - 1 ms, about 24.8 days). */
export const MAX_CAPTURE_MS = MAX_TIMER_MS;

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

const lineRequestSchemas = [
  z.strictObject({ cmd: z.literal('status') }),
  z.strictObject({ cmd: z.literal('stats') }),
  z.strictObject({ cmd: z.literal('reload') }),
  /** sim only: the simulated peer of `channel` exits and comes back after `downMs`. */
  z.strictObject({
    cmd: z.literal('peer-restart'),
    channel: z.number().int().min(0).max(0xffffffff),
    downMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
  }),
  /** The daemon's memory, after a garbage collection when it runs with --expose-gc (the soak). */
  z.strictObject({ cmd: z.literal('memory') }),
] as const;

export const streamRequestSchema = z.discriminatedUnion('cmd', [captureRequestSchema, replayRequestSchema]);

/** Every request the control socket takes. */
export const requestSchema = z.discriminatedUnion('cmd', [...lineRequestSchemas, captureRequestSchema, replayRequestSchema]);

export type ControlRequest = z.infer<typeof requestSchema>;
export type CaptureRequest = z.infer<typeof captureRequestSchema>;
export type ReplayRequest = z.infer<typeof replayRequestSchema>;
export type StreamRequest = z.infer<typeof streamRequestSchema>;
export type LineRequest = Exclude<ControlRequest, StreamRequest>;

export const STREAM_COMMANDS: ReadonlySet<string> = new Set(['capture', 'replay']);
const COMMANDS: ReadonlySet<string> = new Set(requestSchema.options.map((o) => o.shape.cmd.value));

/** The request, or why it is not one, in one line (the first problem found). */
export function parseRequest(raw: unknown): { ok: true; request: ControlRequest } | { ok: false; error: string } {
  const fail = (why: string) => ({ ok: false as const, error: `invalid request: ${why}` });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('not a JSON object');
  const cmd = (raw as { cmd?: unknown }).cmd;
  if (typeof cmd !== 'string') return fail('cmd: expected the name of a command');
  if (!COMMANDS.has(cmd)) return fail(`unknown command ${JSON.stringify(cmd).slice(0, 80)} (${[...COMMANDS].join(', ')})`);
  const parsed = requestSchema.safeParse(raw);
  if (parsed.success) return { ok: true, request: parsed.data };
  const issue = parsed.error.issues[0];
  return fail(`${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'malformed'}`);
}

// ---- replies --------------------------------------------------------------------------------------

/** One channel in `status` and `stats`. `link` (counters) is the channel's link to the peer. */
export interface ChannelStatus extends ChannelCounters {
  channel: number;
  ifname: string;
  name: string;
  mtu: number;
  address: string;
  peerAddress: string;
  /** frag channels: negotiation, fragments, reassembly failures. */
  framing?: FramingStats;
  /** netdev transport: what the kernel counts beyond the schema (dropped, errors, the driver's counters). */
  kernel?: KernelCounters;
  /** Frames a capture's reader fell too far behind to take (not a data-path drop). */
  notCaptured: number;
  /** The interface's operational state as the kernel reports it (up, down, lowerlayerdown, notpresent, ...). */
  operstate: string;
  /** The interface's carrier as the kernel reports it. */
  carrier: boolean;
  /** The interface's admin state (IFF_UP) as the kernel reports it: false after `ip link set IF down`. */
  adminUp: boolean;
  rates: Rates;
  /** Peer health; null when probes are off for the channel. */
  peer: PeerHealthState | null;
  /** Why the channel is not running (its interface was deleted, it could not be recreated), or null. */
  down: string | null;
}

/** `status` and `stats`. */
export interface StatusReply {
  channels: ChannelStatus[];
}

/** `reload`: the channel numbers by what happened to them. */
export interface ReloadResult {
  added: number[];
  removed: number[];
  /** Addresses or MTU changed in place. */
  changed: number[];
  /** Stopped and started again (the ring or the interface's identity changed). */
  restarted: number[];
  unchanged: number[];
}

export interface PeerRestartReply {
  restarted: number;
}

/** Bytes, as process.memoryUsage() gives them. */
export interface MemoryReply {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** A full garbage collection ran just before (the daemon was started with --expose-gc). */
  afterGc: boolean;
}

/** The reply to each line request. */
export interface LineReplies {
  status: StatusReply;
  stats: StatusReply;
  reload: ReloadResult;
  'peer-restart': PeerRestartReply;
  memory: MemoryReply;
}

export type LineReply = LineReplies[LineRequest['cmd']];

export type ControlResponse<R = LineReply> = { ok: true; result: R } | { ok: false; error: string };

// ---- the streams' messages ------------------------------------------------------------------------

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
