// The daemon's side of the `frag` negotiation (docs/frag-wire-spec.md §6) as a clock-driven state
// machine with no timers or I/O of its own: the bridge sends the messages it returns, feeds it the
// control messages the Reassembler reports, and calls poll() from its periodic timer.
import { randomInt } from 'node:crypto';
import { FRAG_MAX_FRAME } from './frag-header.js';
import { PROBE, PROBE_REPLY, buildProbe, buildProbeReply, parseProbe, type ProbeMessage } from './frag-probe.js';

/** probing: waiting for a reply; frag: the peer speaks frag; raw: no reply, send raw frames. */
export type NegotiationState = 'idle' | 'probing' | 'frag' | 'raw';

export const PROBE_RESEND_MS = 500;
export const PROBE_GIVE_UP_MS = 1500;

export interface NegotiationStep {
  /** A control message to send now (PROBE resend or PROBE_REPLY), or null. */
  send: Buffer | null;
  /** Set when the sending mode changed: 'frag' (peer answered / probed) or 'raw' (fallback). */
  outcome: 'frag' | 'raw' | null;
}

export class FragNegotiator {
  state: NegotiationState = 'idle';
  /** The peer's last PROBE or PROBE_REPLY, once it has shown that it speaks frag. */
  peer: ProbeMessage | null = null;
  readonly maxFrame: number;
  private readonly resendMs: number;
  private readonly giveUpMs: number;
  private nonce = 0;
  private startedAt = 0;
  private sentAt = 0;

  constructor(opts: { maxFrame?: number; resendMs?: number; giveUpMs?: number } = {}) {
    this.maxFrame = opts.maxFrame ?? FRAG_MAX_FRAME;
    this.resendMs = opts.resendMs ?? PROBE_RESEND_MS;
    this.giveUpMs = opts.giveUpMs ?? PROBE_GIVE_UP_MS;
  }

  /** Largest frame to send in frag mode: min(ours, the peer's announced maxFrame). */
  get sendMaxFrame(): number {
    return Math.min(this.maxFrame, this.peer?.maxFrame ?? this.maxFrame);
  }

  /** Channel start or link back up: returns the PROBE to send. */
  start(nowMs: number): Buffer {
    this.state = 'probing';
    this.peer = null;
    this.nonce = randomInt(0, 0x100000000);
    this.startedAt = nowMs;
    this.sentAt = nowMs;
    return buildProbe(this.nonce, this.maxFrame);
  }

  /** Periodic: resend the PROBE every resendMs; fall back to raw after giveUpMs without a reply. */
  poll(nowMs: number): NegotiationStep {
    if (this.state !== 'probing') return { send: null, outcome: null };
    if (nowMs - this.startedAt >= this.giveUpMs) {
      this.state = 'raw';
      return { send: null, outcome: 'raw' };
    }
    if (nowMs - this.sentAt >= this.resendMs) {
      this.sentAt = nowMs;
      return { send: buildProbe(this.nonce, this.maxFrame), outcome: null };
    }
    return { send: null, outcome: null };
  }

  /**
   * A control message from the peer (Reassembler returned PushResult.control). A PROBE is answered;
   * a PROBE or a PROBE_REPLY with our current nonce shows the peer speaks frag. A stale or invalid
   * message changes nothing.
   */
  onControl(buf: Buffer, off: number, len: number): NegotiationStep {
    const msg = parseProbe(buf, off, len);
    if (msg === null) return { send: null, outcome: null };
    let send: Buffer | null = null;
    if (msg.type === PROBE) send = buildProbeReply(msg, this.maxFrame);
    else if (msg.type !== PROBE_REPLY || this.state === 'idle' || msg.nonce !== this.nonce) return { send: null, outcome: null };
    this.peer = msg;
    if (this.state === 'frag') return { send, outcome: null };
    this.state = 'frag';
    return { send, outcome: 'frag' };
  }
}
