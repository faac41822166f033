// Peer health for one channel: an ICMP echo to the peer (VxWorks-side) address every interval, on a
// raw socket bound to the channel's interface, so the answer proves the path through this channel and
// not some other route. Reachability flips to false only after several probes in a row went unanswered,
// so one lost echo does not make a dashboard flap.
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import { withNetns } from '../native/netns-call.js';
import { echoRequest, parseEchoReply } from './icmp-echo.js';

const require = createRequire(import.meta.url);

/** The part of raw-socket's Socket the health check uses (tests may stand in for it). */
export interface RawSocketLike {
  send(buffer: Buffer, offset: number, length: number, address: string, before: () => void, after: (err: Error | null) => void): unknown;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  on(event: 'message', fn: (buffer: Buffer, source: string) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
  close(): unknown;
}

interface RawSocketModule {
  createSocket(opts: { protocol: number }): RawSocketLike;
  Protocol: { ICMP: number };
  SocketLevel: { SOL_SOCKET: number };
  SocketOption: { SO_BINDTODEVICE: number };
}

export interface PeerHealthState {
  /** null until the first probe result (or the first `failAfter` misses). */
  reachable: boolean | null;
  /** Round-trip time of the last answered probe while reachable, else null. */
  rttMs: number | null;
  /** ISO time reachable last changed (including the first result). */
  lastChange: string | null;
  sent: number;
  received: number;
  /** Why the last probe could not be sent (no such device, network unreachable, ...), or null. */
  lastError: string | null;
}

export interface PeerHealthOptions {
  /** Interface to probe through (SO_BINDTODEVICE), e.g. "rpmsg3". */
  ifname: string;
  /** Peer IPv4 address, e.g. "169.254.103.2". */
  peerAddress: string;
  /** Network namespace the interface lives in (the daemon's --netns); default: the daemon's own. */
  netns?: string;
  /** Time between probes. Default 5000 ms. */
  intervalMs?: number;
  /** Time to wait for a reply; at most intervalMs. Default min(1000, intervalMs). */
  timeoutMs?: number;
  /** Unanswered probes in a row before the peer counts as unreachable. Default 3. */
  failAfter?: number;
  /** Called on every change of `reachable` (the first result included). */
  onChange?: (reachable: boolean, state: Readonly<PeerHealthState>) => void;
  /** Opens the raw ICMP socket; default raw-socket, created inside `netns`. */
  openSocket?: () => RawSocketLike;
}

const SOL_RAW = 255;
const ICMP_FILTER = 1;
/** ICMP_FILTER is a mask of types to block: let only echo replies (type 0) wake us up. */
const ONLY_ECHO_REPLY = 0xfffffffe;

interface Probe {
  sequence: number;
  sentAt: bigint;
  timer: NodeJS.Timeout;
}

export class PeerHealth {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly failAfter: number;
  /** Random per instance: tells our replies from those to other pingers on the same interface. */
  private readonly identifier = randomInt(0, 0x10000);
  private sequence = 0;
  private misses = 0;
  private socket: RawSocketLike | undefined;
  private probe: Probe | undefined;
  private interval: NodeJS.Timeout | undefined;
  private readonly current: PeerHealthState = {
    reachable: null,
    rttMs: null,
    lastChange: null,
    sent: 0,
    received: 0,
    lastError: null,
  };

  constructor(private readonly opts: PeerHealthOptions) {
    if (!isIPv4(opts.peerAddress)) throw new Error(`peer health ${opts.ifname}: "${opts.peerAddress}" is not an IPv4 address`);
    this.intervalMs = opts.intervalMs ?? 5000;
    this.timeoutMs = Math.min(opts.timeoutMs ?? 1000, this.intervalMs);
    this.failAfter = opts.failAfter ?? 3;
    if (!(this.intervalMs >= 10) || !(this.timeoutMs > 0) || !Number.isInteger(this.failAfter) || this.failAfter < 1) {
      throw new Error(`peer health ${opts.ifname}: interval must be >= 10 ms, timeout > 0 and failAfter a positive integer`);
    }
  }

  get state(): Readonly<PeerHealthState> {
    return { ...this.current };
  }

  get running(): boolean {
    return this.interval !== undefined;
  }

  /** Sends the first probe now and one every interval until stop(). */
  start(): void {
    if (this.interval) return;
    this.interval = setInterval(() => this.sendProbe(), this.intervalMs);
    this.sendProbe();
  }

  /** Stops probing: closes the socket and clears every timer. The state keeps its last values. */
  stop(): void {
    clearInterval(this.interval);
    this.interval = undefined;
    if (this.probe) clearTimeout(this.probe.timer);
    this.probe = undefined;
    this.closeSocket();
  }

  private sendProbe(): void {
    // timeout <= interval, so a probe still open here has just timed out in the same tick.
    if (this.probe) this.lost(this.probe);
    let socket: RawSocketLike;
    try {
      socket = this.socket ?? this.openSocket();
    } catch (err) {
      this.failed(err);
      return;
    }
    const sequence = (this.sequence = (this.sequence + 1) & 0xffff);
    const packet = echoRequest(this.identifier, sequence);
    const probe: Probe = { sequence, sentAt: process.hrtime.bigint(), timer: setTimeout(() => this.lost(probe), this.timeoutMs) };
    this.probe = probe;
    this.current.sent++;
    socket.send(
      packet,
      0,
      packet.length,
      this.opts.peerAddress,
      () => (probe.sentAt = process.hrtime.bigint()),
      (err) => {
        if (!err) return;
        // e.g. ENETUNREACH while the interface is down: a miss now, and a fresh socket next time.
        if (this.probe === probe) {
          clearTimeout(probe.timer);
          this.probe = undefined;
        }
        this.closeSocket();
        this.failed(err);
      },
    );
  }

  private openSocket(): RawSocketLike {
    const socket = this.opts.openSocket ? this.opts.openSocket() : openRawSocket(this.opts.ifname, this.opts.netns);
    socket.on('message', (buffer, source) => this.onMessage(buffer, source));
    socket.on('error', (err) => {
      // raw-socket closes the socket after a socket error; the next probe opens a new one.
      this.current.lastError = describe(err);
      if (this.socket === socket) this.closeSocket();
    });
    this.socket = socket;
    return socket;
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    try {
      socket.close();
    } catch {
      // Already closed by raw-socket after an error.
    }
  }

  private onMessage(buffer: Buffer, source: string): void {
    const probe = this.probe;
    if (!probe || source !== this.opts.peerAddress) return;
    const reply = parseEchoReply(buffer);
    if (!reply || reply.identifier !== this.identifier || reply.sequence !== probe.sequence) return;
    clearTimeout(probe.timer);
    this.probe = undefined;
    this.current.received++;
    this.current.lastError = null;
    this.current.rttMs = Number(process.hrtime.bigint() - probe.sentAt) / 1e6;
    this.misses = 0;
    this.set(true);
  }

  private lost(probe: Probe): void {
    if (this.probe !== probe) return;
    clearTimeout(probe.timer);
    this.probe = undefined;
    this.miss();
  }

  private failed(err: unknown): void {
    this.current.lastError = describe(err);
    this.miss();
  }

  private miss(): void {
    this.misses++;
    if (this.misses >= this.failAfter) {
      this.current.rttMs = null;
      this.set(false);
    }
  }

  private set(reachable: boolean): void {
    if (this.current.reachable === reachable) return;
    this.current.reachable = reachable;
    this.current.lastChange = new Date().toISOString();
    this.opts.onChange?.(reachable, this.state);
  }
}

let rawSocket: RawSocketModule | undefined;

/** A raw ICMP socket created inside `netns`, bound to `ifname`, receiving only echo replies. */
function openRawSocket(ifname: string, netns: string | undefined): RawSocketLike {
  rawSocket ??= require('raw-socket') as RawSocketModule;
  const raw = rawSocket;
  const socket = withNetns(netns, () => raw.createSocket({ protocol: raw.Protocol.ICMP }));
  try {
    const name = Buffer.from(ifname);
    socket.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_BINDTODEVICE, name, name.length);
    socket.setOption(SOL_RAW, ICMP_FILTER, ONLY_ECHO_REPLY);
  } catch (err) {
    socket.close();
    throw new Error(`binding the ICMP socket to ${ifname}: ${describe(err)}`);
  }
  return socket;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
