// An AF_PACKET socket bound to one interface (native/packet_socket.cc): the frames the interface sends
// and receives, as the kernel sees them, read on the Node loop and handed over as capture records (the
// data plane's format: captureRecords() in data-plane.ts); and frames sent into the interface (replay).
import { addon, type NativePacketSocket } from './addon.js';

export interface PacketSocketEvents {
  /** `bytes` of capture records are in the buffer (until the callback returns). */
  onRecords(bytes: number): void;
  /** The interface went down or away (ENETDOWN, ...); reading goes on. */
  onError(errno: number): void;
  /** Only sends (replay): bound with protocol 0, the kernel hands it no frame. */
  sendOnly?: boolean;
}

export class PacketSocket {
  readonly #native: NativePacketSocket;

  /** Opens and binds the socket inside `netns`; throws with the errno's code (ENODEV: no such interface). */
  constructor(ifname: string, netns: string | undefined, buffer: Buffer, events: PacketSocketEvents) {
    this.#native = new (addon().PacketSocket)(ifname, netns ?? '', buffer, {
      onRecords: (bytes: number) => events.onRecords(bytes),
      onError: (errno: number) => events.onError(errno),
      sendOnly: events.sendOnly === true,
    });
  }

  /** Frames the socket's queue could not hold since the last call. */
  drops(): number {
    return this.#native.drops();
  }

  /** Frames start..end-1 (frame i at buffer[i * slotSize], lengths[i] bytes) into the interface; returns how many it took. */
  send(buffer: Buffer, slotSize: number, lengths: Uint32Array, start: number, end: number): number {
    return this.#native.send(buffer, slotSize, lengths, start, end);
  }

  /** Stops reading and closes the socket; safe to call twice. */
  close(): void {
    this.#native.close();
  }
}
