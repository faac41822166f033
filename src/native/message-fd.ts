// Batched message I/O on a message-preserving fd (TAP, rpmsg char device, SOCK_SEQPACKET socket),
// driven by uv_poll on the main event loop; no thread pool and no allocation per message.
import { addon, type NativeMessageFd } from './addon.js';

export interface MessageFdOptions {
  /** Bytes per receive slot: the largest message accepted whole. */
  slotSize: number;
  /** Most messages read per wakeup (and per onReadable call). */
  batch: number;
  /**
   * `count` messages are in rx: message i is rx.buffer[i * slotSize, i * slotSize + rx.lengths[i]).
   * A length > slotSize marks a message that did not fit (its bytes are cut; count it as oversize).
   * Valid only during the call: the next wakeup reuses the arena.
   */
  onReadable(count: number): void;
  /** The fd can take messages again, once after each waitWritable(). */
  onWritable?(): void;
  /** The peer or device went away (errno; 0 = orderly end of stream). Polling has stopped. */
  onHangup?(errno: number): void;
  /**
   * /dev/rpmsg-ethN only: move whole batches with the module's READ_BATCH/WRITE_BATCH ioctls
   * (one syscall per batch). The constructor throws if the fd is not an rpmsg-eth device.
   */
  batchIoctl?: boolean;
}

export interface ReceiveArena {
  buffer: Buffer;
  lengths: Uint32Array;
}

export class MessageFd {
  /** Receive arena, allocated once and shared with the native side. */
  readonly rx: ReceiveArena;
  readonly slotSize: number;
  readonly batch: number;
  readonly #native: NativeMessageFd;

  /** Takes ownership of `fd` (close() closes it) and starts reading. */
  constructor(fd: number, options: MessageFdOptions) {
    const { slotSize, batch } = options;
    // One spare byte after the last slot lets the native side see that a device message was cut.
    const arena = Buffer.alloc(batch * slotSize + 1);
    this.rx = { buffer: arena.subarray(0, batch * slotSize), lengths: new Uint32Array(batch) };
    this.slotSize = slotSize;
    this.batch = batch;
    this.#native = new (addon().MessageFd)(
      fd,
      slotSize,
      batch,
      arena,
      this.rx.lengths,
      (count) => options.onReadable(count),
      () => options.onWritable?.(),
      (errno) => options.onHangup?.(errno),
      options.batchIoctl ?? false,
    );
  }

  get fd(): number {
    return this.#native.fd;
  }

  /** errno of the message the last writeBatch() stopped at (0 if it wrote them all): EAGAIN, EMSGSIZE, ... */
  get lastErrno(): number {
    return this.#native.lastErrno;
  }

  /**
   * Writes messages start..end-1 (message i at buffer[i * slotSize], lengths[i] bytes), one write()
   * each, and returns how many it consumed: start + result is the message it stopped at (lastErrno
   * says why), or end. A length of 0 marks a message already dropped (transport.ts): it is skipped,
   * counted as consumed, never written.
   */
  writeBatch(buffer: Buffer, slotSize: number, lengths: Uint32Array, start: number, end: number): number {
    return this.#native.writeBatch(buffer, slotSize, lengths, start, end);
  }

  /** Back-pressure: stop reading (the fd's queue holds or drops) until resumeRead(). */
  pauseRead(): void {
    this.#native.pauseRead();
  }

  resumeRead(): void {
    this.#native.resumeRead();
  }

  /**
   * After writeBatch() stopped at EAGAIN: call onWritable() once the fd reports POLLOUT.
   * rpmsg_char on virtio never reports POLLOUT: its transport must retry on a timer as well.
   */
  waitWritable(): void {
    this.#native.waitWritable();
  }

  /** Stops polling and closes the fd; no callback runs afterwards. Safe to call twice. */
  close(): void {
    this.#native.close();
  }
}
