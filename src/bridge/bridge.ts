// One channel's bridge: the TAP, the framing and the endpoint joined by the native data plane
// (native/dataplane/), which forwards every frame in native code. This side is the control plane: it
// attaches the endpoints its transport opens, follows the link with the TAP's carrier, hears when the
// TAP goes away, reads the counters when asked, and runs capture and replay.
//
// Back-pressure: the data plane reads the TAP only while the endpoint has room; the kernel's queue
// holds the rest (or its qdisc drops, visible in `ip -s link`).
import type { ChannelPlan } from '../channels/types.js';
import type { Tap } from '../iface/tap.js';
import type { Logger } from '../log.js';
import { DataPlane, captureRecords } from '../native/index.js';
import type { CaptureSource, FrameTap } from '../capture/capture-source.js';
import type { Endpoint, EndpointLoss, LinkEvents } from '../transport/transport.js';
import { DROP_REASONS, type ChannelCounters, type DropCounters, type FramingStats, type Rates } from './counters.js';

/** Capture records of one wakeup: at most two directions of 64 largest frames each. */
const CAPTURE_BUFFER = 2 * 1024 * 1024;
/** Replay hands frames over in runs of this many. */
const INJECT_RUN = 64;
const ETH_HEADER = 14;

export interface BridgeOptions {
  /** frag: the sending mode changed; the MTU the interface must have now. */
  onModeChange?: (mode: 'frag' | 'raw', mtu: number) => void;
  /** The TAP went away (the interface was deleted): the data plane no longer reads or writes it. */
  onTapGone?: (errno: number) => void;
  /** Tests: frag negotiation and reassembly timings. */
  timings?: { probeResendMs?: number; probeGiveUpMs?: number; reassemblyTimeoutMs?: number };
}

export class ChannelBridge implements LinkEvents, CaptureSource {
  private readonly plane: DataPlane;
  /** The largest frame read from the TAP (or replayed) whole. */
  readonly slotSize: number;
  private link: 'up' | 'down' = 'down';
  private linkChangedAt = new Date().toISOString();
  private linkChanges = 0;
  private onLost: ((loss: EndpointLoss) => void) | undefined;
  private frameTap: FrameTap | undefined;
  /** captureMissed when the capture started or last reported its misses. */
  private missedReported = 0;
  private captureBuffer: Buffer | undefined;
  private tapAlive = true;

  constructor(
    readonly plan: ChannelPlan,
    private readonly tap: Tap,
    private readonly log: Logger,
    private readonly opts: BridgeOptions = {},
  ) {
    // With frag framing a frame may span messages: a slot holds the largest frame instead.
    const frag = plan.framing === 'frag';
    this.slotSize = frag ? Math.max(plan.maxPayload, plan.mtu + ETH_HEADER) : plan.maxPayload;
    this.plane = new DataPlane(
      tap.fd,
      { tapSlot: this.slotSize, frag, maxFrame: frag ? plan.mtu + ETH_HEADER : undefined, ...opts.timings },
      {
        onLinkLost: (errno, txInFlight) => this.lost({ errno, txInFlight }),
        onModeChange: (isFrag, mtu) => this.modeChanged(isFrag ? 'frag' : 'raw', mtu),
        onCapture: (bytes) => this.captured(bytes),
        onTapHangup: (errno) => {
          this.tapAlive = false;
          opts.onTapGone?.(errno);
        },
      },
    );
    tap.handOver();
    tap.setCarrier(false);
  }

  // ---- LinkEvents: the transport's endpoints ----------------------------------------------------

  attach(endpoint: Endpoint, onLost: (loss: EndpointLoss) => void): void {
    if (endpoint.kind === 'sim')
      this.plane.attachSim(endpoint.dataFd, endpoint.doorbellFd, endpoint.ringFd, endpoint.maxPayload, endpoint.window);
    else this.plane.attachDevice(endpoint.fd, endpoint);
    this.onLost = onLost;
    this.linkChange('up');
  }

  detach(beforeClose?: (fd: number) => void): EndpointLoss | undefined {
    const fd = this.plane.endpointFd;
    if (fd < 0) return undefined;
    try {
      beforeClose?.(fd);
    } finally {
      this.onLost = undefined;
    }
    const txInFlight = this.plane.detach();
    this.linkChange('down');
    return { errno: 0, txInFlight };
  }

  private lost(loss: EndpointLoss): void {
    const onLost = this.onLost;
    this.onLost = undefined;
    this.linkChange('down');
    onLost?.(loss);
  }

  private linkChange(state: 'up' | 'down'): void {
    if (this.link === state) return;
    this.link = state;
    this.linkChangedAt = new Date().toISOString();
    this.linkChanges++;
    try {
      if (this.tapAlive) this.tap.setCarrier(state === 'up');
    } catch (err) {
      // The interface is going away: the data plane's hangup follows.
      this.log.warn({ ifname: this.plan.ifname, err: (err as Error).message }, `${this.plan.ifname}: cannot set the carrier`);
    }
    this.log.info({ ifname: this.plan.ifname, channel: this.plan.channel, link: state }, `${this.plan.ifname}: link ${state}`);
  }

  private modeChanged(mode: 'frag' | 'raw', mtu: number): void {
    const fields = { ifname: this.plan.ifname, channel: this.plan.channel, framing: mode, mtu };
    if (mode === 'frag') this.log.info({ ...fields, peerMaxFrame: this.plane.frag().peerMaxFrame }, `${this.plan.ifname}: peer speaks frag, mtu ${mtu}`);
    else this.log.warn(fields, `${this.plan.ifname}: peer did not answer the frag probe; falling back to raw framing, mtu ${mtu}`);
    this.opts.onModeChange?.(mode, mtu);
  }

  // ---- counters -----------------------------------------------------------------------------------

  /** The channel's counters, read from the data plane now. */
  get counters(): ChannelCounters {
    const c = this.plane.counters();
    const drops = (dir: 'tx' | 'rx') =>
      Object.fromEntries(DROP_REASONS.map((r) => [r, c[`${dir}${r[0]!.toUpperCase()}${r.slice(1)}`] as number])) as DropCounters;
    const txDrops = drops('tx');
    const rxDrops = drops('rx');
    return {
      tx: { packets: c.txPackets as number, bytes: c.txBytes as number },
      rx: { packets: c.rxPackets as number, bytes: c.rxBytes as number },
      drops: Object.fromEntries(DROP_REASONS.map((r) => [r, txDrops[r] + rxDrops[r]])) as DropCounters,
      txDrops,
      rxDrops,
      link: this.link,
      linkChangedAt: this.linkChangedAt,
      linkChanges: this.linkChanges,
    };
  }

  /** Packets/s and bytes/s each way over the last second or so (kept by the data plane, no timer). */
  get rates(): Rates {
    const c = this.plane.counters();
    return { txPps: c.txPps as number, txBps: c.txBps as number, rxPps: c.rxPps as number, rxBps: c.rxBps as number };
  }

  /** Capture records the data plane dropped because JavaScript had not taken the earlier ones yet. */
  get captureMissed(): number {
    return this.plane.counters().captureMissed as number;
  }

  /** Times the transmit path waited for the endpoint's room (the ring window full): for tests and the bench. */
  get txWaits(): number {
    return this.plane.counters().txWaits as number;
  }

  /** frag channels: the `framing` object of `stats --json`. */
  framingStats(): FramingStats | undefined {
    if (this.plan.framing !== 'frag') return undefined;
    const f = this.plane.frag();
    const n = (k: string) => f[k] as number;
    return {
      mode: (['negotiating', 'frag', 'raw'] as const)[n('mode')] ?? 'negotiating',
      peerMaxFrame: n('peerMaxFrame') || null,
      negotiations: n('negotiations'),
      fallbacks: n('fallbacks'),
      tx: {
        framesSent: n('framesSent'),
        fragmentsSent: n('fragmentsSent'),
        framesOversize: n('framesOversize'),
        framesRunt: n('framesRunt'),
        rawSignatureDrops: n('rawSignatureDrops'),
        fragmentsDropped: n('fragmentsDropped'),
        fragmentsAbandoned: n('fragmentsAbandoned'),
        controlSent: n('controlSent'),
      },
      rx: {
        fragmentsReceived: n('fragmentsReceived'),
        fragmentsDiscarded: n('fragmentsDiscarded'),
        framesReassembled: n('framesReassembled'),
        rawFrames: n('rawFrames'),
        controlReceived: n('controlReceived'),
        failures: {
          lost: n('lost'),
          duplicate: n('duplicate'),
          truncated: n('truncated'),
          overlong: n('overlong'),
          badVersion: n('badVersion'),
          badHeader: n('badHeader'),
          timeout: n('timeout'),
        },
      },
    };
  }

  // ---- capture and replay -------------------------------------------------------------------------

  get capturing(): boolean {
    return this.frameTap !== undefined;
  }

  setTap(tap: FrameTap | undefined): void {
    this.frameTap = tap;
    this.missedReported = this.captureMissed;
    if (tap) this.captureBuffer ??= Buffer.alloc(CAPTURE_BUFFER);
    this.plane.setCapture(tap ? (this.captureBuffer as Buffer) : null);
    if (!tap) this.captureBuffer = undefined;
  }

  private captured(bytes: number): void {
    const tap = this.frameTap;
    const buffer = this.captureBuffer;
    if (!tap || !buffer) return;
    for (const r of captureRecords(buffer, bytes)) {
      if (r.reason === undefined) tap.frame(r.direction, r.data);
      else tap.frame(r.direction, r.data, DROP_REASONS[r.reason], r.originalLength);
    }
    // Records the data plane could not keep while JavaScript was behind: missed, reported with the next batch.
    const missed = this.captureMissed;
    if (missed > this.missedReported) tap.missed?.(missed - this.missedReported);
    this.missedReported = missed;
  }

  /**
   * Sends frames toward the remote side as if they had been read from the TAP (`rpmsg-eth replay`):
   * same counters, drops, capture and back-pressure; reading the TAP waits meanwhile. Frames longer
   * than a slot (or empty) cannot be carried and are skipped (reported, not sent).
   */
  async inject(frames: readonly Uint8Array[]): Promise<{ offered: number; skipped: number }> {
    const slot = this.slotSize;
    const buffer = Buffer.alloc(INJECT_RUN * slot);
    const lengths = new Uint32Array(INJECT_RUN);
    const pause = () => new Promise((r) => setTimeout(r, 2));
    let offered = 0;
    let skipped = 0;
    this.plane.pauseTap(true);
    try {
      let next = 0;
      while (next < frames.length) {
        let n = 0;
        while (n < INJECT_RUN && next < frames.length) {
          const frame = frames[next++] as Uint8Array;
          if (frame.length > slot || frame.length === 0) {
            skipped++;
            continue;
          }
          buffer.set(frame, n * slot);
          lengths[n++] = frame.length;
        }
        offered += n;
        for (let at = 0; at < n; ) {
          at += this.plane.inject(buffer, slot, lengths, at, n);
          if (at < n) await pause(); // the endpoint pushes back: wait for room
        }
      }
      while (!this.plane.txIdle) await pause();
    } finally {
      this.plane.pauseTap(false);
    }
    return { offered, skipped };
  }

  close(): void {
    this.onLost = undefined;
    this.plane.close();
  }
}
