// The `sim` transport: each channel's endpoint is a pair of SOCK_SEQPACKET sockets to a simulated
// VxWorks peer process (see native/sim-peer/vx_peer.c for the ring model):
//   data      one Ethernet frame per message, both directions;
//   doorbell  u32 big-endian "buffers consumed" credits, both directions.
// At most num-bufs/2 frames are in flight per direction, as on the virtio ring.
import { constants } from 'node:os';
import type { ChannelPlan } from '../channels/types.js';
import { channelMac } from '../iface/mac.js';
import type { Logger } from '../log.js';
import { ip } from '../netns/ip.js';
import { MessageFd, closeFd, seqpacketPair } from '../native/index.js';
import { startPeer, type RunningPeer } from '../sim/peer-process.js';
import type { ChannelLink, LinkEvents, MessageBatch, SendResult, Transport } from './transport.js';
import { dropInvalidReceived } from './received.js';

const { EAGAIN, EMSGSIZE } = constants.errno;
const DOORBELL_SLOT = 8;
const DOORBELL_BATCH = 64;
const RX_BATCH = 64;

export interface SimOptions {
  peerNetns: string;
  log: Logger;
  /** How long a peer stays down after it exits before it is started again (a remote core rebooting). */
  restartDelayMs?: number;
  /** Debug/tests: channels whose peer speaks only raw framing even when the plan says frag. */
  rawOnlyPeers?: readonly number[];
}

export class SimTransport implements Transport {
  readonly name = 'sim' as const;
  private readonly links = new Set<SimLink>();

  constructor(private readonly opts: SimOptions) {}

  async open(plan: ChannelPlan, events: LinkEvents): Promise<ChannelLink> {
    const link = new SimLink(plan, events, this.opts, () => this.links.delete(link));
    this.links.add(link);
    try {
      await link.connect();
    } catch (err) {
      this.links.delete(link);
      await link.close();
      throw err;
    }
    return link;
  }

  /** Restart the peer of one channel: link down for `downMs`, then back. */
  restartPeer(channel: number, downMs: number): boolean {
    for (const link of this.links) if (link.channel === channel) return link.restartPeer(downMs), true;
    return false;
  }


  async close(): Promise<void> {
    await Promise.all([...this.links].map((l) => l.close()));
    this.links.clear();
  }
}

export class SimLink implements ChannelLink {
  readonly maxPayload: number;
  readonly channel: number;
  up = false;
  private data: MessageFd | undefined;
  /** The data socket's receive arena as a batch: one object, reused for every delivery. */
  private rxBatch: MessageBatch = { buffer: Buffer.alloc(0), slotSize: 1, lengths: new Uint32Array(0), count: 0 };
  private doorbell: MessageFd | undefined;
  private peer: RunningPeer | undefined;
  private inFlight = 0;
  private readonly ringSlots: number;
  private waitingForRoom = false;
  private receivePaused = false;
  private closing = false;
  private nextDownMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  // Preallocated so that returning credits allocates nothing per batch.
  private readonly credit = Buffer.alloc(DOORBELL_SLOT);
  private readonly creditLength = new Uint32Array([4]);

  constructor(
    private plan: ChannelPlan,
    private readonly events: LinkEvents,
    private readonly opts: SimOptions,
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.maxPayload = plan.maxPayload;
    this.channel = plan.channel;
    this.ringSlots = Math.floor(plan.numBufs / 2);
    this.nextDownMs = opts.restartDelayMs ?? 1000;
  }


  async connect(): Promise<void> {
    const [dataOurs, dataPeer] = seqpacketPair();
    const [bellOurs, bellPeer] = seqpacketPair();
    let peer: RunningPeer;
    try {
      peer = await startPeer(
        {
          netns: this.opts.peerNetns,
          ifname: `vx${this.plan.channel}`,
          mac: channelMac(this.plan.channel, 'peer'),
          mtu: this.plan.mtu,
          maxPayload: this.plan.maxPayload,
          numBufs: this.plan.numBufs,
          framing: this.plan.framing === 'frag' && !this.opts.rawOnlyPeers?.includes(this.plan.channel) ? 'frag' : 'raw',
        },
        dataPeer,
        bellPeer,
      );
    } catch (err) {
      for (const fd of [dataOurs, bellOurs]) closeFd(fd);
      throw err;
    } finally {
      // The child holds its own copies now.
      closeFd(dataPeer);
      closeFd(bellPeer);
    }
    if (this.closing) {
      peer.child.kill('SIGTERM');
      for (const fd of [dataOurs, bellOurs]) closeFd(fd);
      throw new Error('link closed while its peer was starting');
    }
    this.peer = peer;
    void peer.exited.then((how) => this.onPeerExit(peer, how));
    const prefix = this.plan.address.split('/')[1] ?? '24';
    await ip(['addr', 'add', `${this.plan.peerAddress}/${prefix}`, 'dev', `vx${this.plan.channel}`], this.opts.peerNetns);

    this.inFlight = 0;
    this.data = new MessageFd(dataOurs, {
      // A message longer than the slot comes back with its true length: counted as oversize.
      slotSize: this.plan.maxPayload,
      batch: RX_BATCH,
      onReadable: (count) => this.onData(count),
      onWritable: () => this.onRoom(),
      onHangup: () => this.linkLost(),
    });
    this.rxBatch = { buffer: this.data.rx.buffer, slotSize: this.data.slotSize, lengths: this.data.rx.lengths, count: 0 };
    this.doorbell = new MessageFd(bellOurs, {
      slotSize: DOORBELL_SLOT,
      batch: DOORBELL_BATCH,
      onReadable: (count) => this.onCredits(count),
      onWritable: () => undefined,
      onHangup: () => this.linkLost(),
    });
    if (this.receivePaused) this.data.pauseRead();
    this.up = true;
    this.events.onLinkChange(true);
  }

  send(batch: MessageBatch, start: number): SendResult {
    const { lengths, count } = batch;
    let i = start;
    while (i < count) {
      if (!this.up || !this.data) {
        for (; i < count; i++) if (lengths[i]) this.events.onDrop('linkDown', 'tx', lengths[i] as number, { batch, index: i });
        break;
      }
      const room = this.ringSlots - this.inFlight;
      if (room <= 0) return this.busy(i - start);
      // The longest run of sendable messages that fits the ring, written in one native call.
      let end = i;
      while (end < count && end - i < room && (lengths[end] as number) <= this.maxPayload && lengths[end] !== 0) end++;
      if (end === i) {
        const len = lengths[i] as number;
        if (len) this.events.onDrop('oversize', 'tx', len, { batch, index: i });
        i++;
        continue;
      }
      const written = this.data.writeBatch(batch.buffer, batch.slotSize, lengths, i, end);
      this.inFlight += written;
      i += written;
      if (i < end) {
        const errno = this.data.lastErrno;
        if (errno === EAGAIN) {
          this.data.waitWritable();
          return this.busy(i - start);
        }
        if (errno === EMSGSIZE) {
          this.events.onDrop('oversize', 'tx', lengths[i] as number, { batch, index: i });
          i++;
          continue;
        }
        // The peer is gone. The rest of this batch is dropped here; the link change is reported after
        // send() returns, so the bridge never sees it in the middle of its own send.
        for (; i < count; i++) if (lengths[i]) this.events.onDrop('linkDown', 'tx', lengths[i] as number, { batch, index: i });
        queueMicrotask(() => this.linkLost());
      }
    }
    return { consumed: i - start, busy: false };
  }

  private busy(consumed: number): SendResult {
    this.waitingForRoom = true;
    return { consumed, busy: true };
  }

  private onRoom(): void {
    if (this.waitingForRoom && this.up && this.inFlight < this.ringSlots) {
      this.waitingForRoom = false;
      this.events.onWritable();
    }
  }

  private onCredits(count: number): void {
    const rx = this.doorbell?.rx;
    if (!rx) return;
    let returned = 0;
    for (let i = 0; i < count; i++) if (rx.lengths[i] === 4) returned += rx.buffer.readUInt32BE(i * DOORBELL_SLOT);
    this.inFlight = Math.max(0, this.inFlight - returned);
    this.onRoom();
  }

  private onData(count: number): void {
    const data = this.data;
    if (!data) return;
    const batch = this.rxBatch;
    batch.count = count;
    dropInvalidReceived(batch, this.maxPayload, this.events);
    this.events.onMessages(batch);
    // Every buffer the peer filled is free again: ring the doorbell once for the whole batch.
    this.credit.writeUInt32BE(count, 0);
    this.doorbell?.writeBatch(this.credit, DOORBELL_SLOT, this.creditLength, 0, 1);
  }

  pauseReceive(): void {
    this.receivePaused = true;
    this.data?.pauseRead();
  }

  resumeReceive(): void {
    this.receivePaused = false;
    this.data?.resumeRead();
  }

  restartPeer(downMs: number): void {
    this.nextDownMs = downMs;
    this.peer?.child.kill('SIGTERM');
  }

  private linkLost(): void {
    this.data?.close();
    this.doorbell?.close();
    this.data = undefined;
    this.doorbell = undefined;
    this.waitingForRoom = false;
    if (this.up) {
      this.up = false;
      this.events.onLinkChange(false);
    }
    this.peer?.child.kill('SIGTERM');
  }

  private onPeerExit(peer: RunningPeer, how: string): void {
    if (peer !== this.peer) return;
    this.peer = undefined;
    // For accounting (bench/soak.ts): frames sent and not yet credited when the link was lost bound the
    // frames lost in flight with the peer; the peer's own counters of this lifetime follow.
    const uncreditedTx = this.inFlight;
    void peer.counters.then((counters) => this.opts.log.info({ channel: this.channel, counters, uncreditedTx }, 'simulated peer counters'));
    this.linkLost();
    if (this.closing) return;
    const downMs = this.nextDownMs;
    this.nextDownMs = this.opts.restartDelayMs ?? 1000;
    this.opts.log.warn({ channel: this.channel, exit: how, restartInMs: downMs }, 'simulated peer went away');
    this.scheduleReconnect(downMs);
  }

  /** Brings the peer back after `delayMs`, and keeps trying at that pace if it fails to start. */
  private scheduleReconnect(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.connect().then(
        () => this.opts.log.info({ channel: this.channel }, 'simulated peer is back'),
        (err: Error) => {
          if (this.closing) return;
          this.opts.log.error({ channel: this.channel, err: err.message }, 'simulated peer failed to restart; retrying');
          this.scheduleReconnect(delayMs);
        },
      );
    }, delayMs);
  }

  /**
   * Applies a changed peer address or MTU to the running peer (a reload). What the ring itself is made
   * of (buffer size and count) cannot change under a running peer: the daemon restarts the channel.
   */
  async applyPlan(plan: ChannelPlan): Promise<void> {
    const old = this.plan;
    this.plan = plan;
    if (!this.peer) return; // the next connect() uses the new plan
    const dev = `vx${plan.channel}`;
    const ns = this.opts.peerNetns;
    const oldPrefix = old.address.split('/')[1] ?? '24';
    const prefix = plan.address.split('/')[1] ?? '24';
    if (old.peerAddress !== plan.peerAddress || oldPrefix !== prefix) {
      await ip(['addr', 'del', `${old.peerAddress}/${oldPrefix}`, 'dev', dev], ns);
      await ip(['addr', 'add', `${plan.peerAddress}/${prefix}`, 'dev', dev], ns);
    }
    if (old.mtu !== plan.mtu) await ip(['link', 'set', 'dev', dev, 'mtu', String(plan.mtu)], ns);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const peer = this.peer;
    this.linkLost();
    if (peer) await peer.exited;
    this.onClosed();
  }
}
