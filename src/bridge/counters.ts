// Per-channel counters kept by the data plane and served by `rpmsg-eth stats`, `status` and metrics.

/**
 * Why a frame was not delivered. oversize/runt: longer than the endpoint takes / shorter than an
 * Ethernet header; busy: no room (the endpoint, or the TAP's queue); linkDown: read from the TAP while
 * the link to the peer was down; framing: a frame `frag` could not send (spec rule 3.8) or reassemble;
 * interfaceDown: for an interface set down (`ip link set rpmsgN down`); tapGone: for a deleted interface.
 */
export type DropReason = 'oversize' | 'busy' | 'linkDown' | 'runt' | 'framing' | 'interfaceDown' | 'tapGone';
/** In the order the native data plane numbers them (native/dataplane/channel.h). */
export const DROP_REASONS: readonly DropReason[] = ['oversize', 'busy', 'linkDown', 'runt', 'framing', 'interfaceDown', 'tapGone'];

export interface DirectionCounters {
  packets: number;
  bytes: number;
}

export type DropCounters = Record<DropReason, number>;

export interface ChannelCounters {
  /** Linux -> remote. */
  tx: DirectionCounters;
  /** Remote -> Linux. */
  rx: DirectionCounters;
  /** Frames not delivered, by reason, both directions together. */
  drops: DropCounters;
  /** The same, Linux -> remote only (frames read from the TAP that did not reach the endpoint). */
  txDrops: DropCounters;
  /** The same, remote -> Linux only (messages from the endpoint that did not reach the TAP). */
  rxDrops: DropCounters;
  link: 'up' | 'down';
  /** ISO time of the last link state change. */
  linkChangedAt: string;
  linkChanges: number;
}

/** Packets/s and bytes/s per direction. */
export interface Rates {
  txPps: number;
  txBps: number;
  rxPps: number;
  rxBps: number;
}

/** Failed reassemblies, by reason (frag/wire-spec.md §4). */
export type FragFailures = Record<'lost' | 'duplicate' | 'truncated' | 'overlong' | 'badVersion' | 'badHeader' | 'timeout', number>;

/** The `framing` object of one frag channel in `stats --json`. */
export interface FramingStats {
  /** negotiating: probing the peer, frames held back; frag / raw: how frames are sent. */
  mode: 'negotiating' | 'frag' | 'raw';
  /** The peer's announced maxFrame, once it has shown that it speaks frag. */
  peerMaxFrame: number | null;
  /** Times negotiation started (every link up) and ended in a raw fallback. */
  negotiations: number;
  fallbacks: number;
  tx: {
    framesSent: number;
    fragmentsSent: number;
    /** Longer than min(own, peer's maxFrame): dropped. */
    framesOversize: number;
    framesRunt: number;
    /** Raw mode: frames that look like frag messages, not sent (spec rule 3.8). */
    rawSignatureDrops: number;
    /** Fragments the endpoint refused; the receiver counts the broken frame. */
    fragmentsDropped: number;
    /** Fragments still queued when the link went down. */
    fragmentsAbandoned: number;
    controlSent: number;
  };
  rx: {
    fragmentsReceived: number;
    fragmentsDiscarded: number;
    framesReassembled: number;
    rawFrames: number;
    controlReceived: number;
    failures: FragFailures;
  };
}
