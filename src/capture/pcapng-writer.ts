// Writes a pcapng capture (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html) from the
// daemon's point of view: one Ethernet interface per channel, each frame with its direction, and frames
// the daemon dropped, marked by a comment giving the reason. The interface statistics written on close
// say how many frames the capture missed (isb_ifdrop, and a comment), as dumpcap's do.
import { closeSync, createWriteStream, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { UserError } from '../util/errors.js';
import { wallClockNs } from './wall-clock.js';

/** 'rx' = remote -> Linux (inbound on the interface); 'tx' = Linux -> remote (outbound). */
export type CaptureDirection = 'rx' | 'tx';

export interface PcapngWriterOptions {
  /** Bytes of each frame kept (0 = all). Default 0. */
  snaplen?: number;
  /** Clock in nanoseconds since the epoch (tests pin it). */
  now?: () => bigint;
}

export interface FrameOptions {
  /** The daemon dropped this frame; written with the comment "dropped: <reason>". */
  dropReason?: string;
  /** Length on the wire when `data` holds less (e.g. a drop known only by its size). */
  originalLength?: number;
  /** Nanoseconds since the epoch; default now. */
  timestampNs?: bigint;
}

export interface CaptureStats {
  /** Frames written (including dropped frames). */
  written: number;
}

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_ISB = 0x00000005;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const LINKTYPE_ETHERNET = 1;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFDROP = 5;
const ISB_USRDELIV = 8;
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;

const pad4 = (n: number): number => (n + 3) & ~3;

interface Option {
  code: number;
  value: Buffer;
}

const text = (code: number, s: string): Option => ({ code, value: Buffer.from(s, 'utf8') });
const u32 = (code: number, v: number): Option => {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(v);
  return { code, value };
};
const u64 = (code: number, v: bigint): Option => {
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(v);
  return { code, value };
};
/** Timestamps are written as two 32-bit halves (high first), each little-endian. */
const ts64 = (code: number, v: bigint): Option => {
  const value = Buffer.alloc(8);
  value.writeUInt32LE(Number(v >> 32n));
  value.writeUInt32LE(Number(v & 0xffffffffn), 4);
  return { code, value };
};

function optionsLength(opts: readonly Option[]): number {
  if (opts.length === 0) return 0;
  return opts.reduce((n, o) => n + 4 + pad4(o.value.length), 4);
}

function writeOptions(buf: Buffer, at: number, opts: readonly Option[]): number {
  if (opts.length === 0) return at;
  for (const o of opts) {
    if (o.value.length > 0xffff) throw new RangeError(`pcapng option ${o.code} is longer than 65535 bytes`);
    buf.writeUInt16LE(o.code, at);
    buf.writeUInt16LE(o.value.length, at + 2);
    o.value.copy(buf, at + 4);
    buf.fill(0, at + 4 + o.value.length, at + 4 + pad4(o.value.length));
    at += 4 + pad4(o.value.length);
  }
  buf.writeUInt32LE(OPT_END, at); // opt_endofopt: code 0, length 0
  return at + 4;
}

/** A block: type, length, `body` fixed fields, options, length again. */
function block(type: number, body: Buffer, opts: readonly Option[]): Buffer {
  const length = 12 + body.length + optionsLength(opts);
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32LE(type, 0);
  buf.writeUInt32LE(length, 4);
  body.copy(buf, 8);
  const end = writeOptions(buf, 8 + body.length, opts);
  buf.writeUInt32LE(length, end);
  return buf;
}

interface Interface {
  written: number;
}

export class PcapngWriter {
  private readonly interfaces: Interface[] = [];
  private readonly snaplen: number;
  private readonly now: () => bigint;
  private readonly startNs: bigint;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  readonly stats: CaptureStats = { written: 0 };

  /** Writes to `out` (a file, stdout, a socket); close() ends it. */
  constructor(
    private readonly out: Writable,
    opts: PcapngWriterOptions = {},
  ) {
    this.snaplen = opts.snaplen ?? 0;
    this.now = opts.now ?? wallClockNs();
    this.startNs = this.now();
    // An output error (disk full, reader gone) ends the capture; it is reported by flush()/close().
    out.on('error', (err) => (this.failure ??= err));
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
    shb.writeUInt16LE(1, 4); // major
    shb.writeUInt16LE(0, 6); // minor
    shb.writeBigInt64LE(-1n, 8); // section length: not specified
    out.write(block(BT_SHB, shb, [text(SHB_USERAPPL, 'rpmsg-eth')]));
  }

  /** Creates (or truncates) `path` and writes a capture to it; a clear UserError if it cannot. */
  static async toFile(path: string, opts: PcapngWriterOptions = {}): Promise<PcapngWriter> {
    const stream = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err: NodeJS.ErrnoException) =>
        reject(new UserError(`capture: cannot write ${path}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`)),
      );
    });
    return new PcapngWriter(stream, opts);
  }

  /** Declares an Ethernet interface; returns its id for writeFrame(). May be called at any time. */
  addInterface(ifname: string, description: string): number {
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(LINKTYPE_ETHERNET, 0);
    idb.writeUInt32LE(this.snaplen, 4);
    const tsresol = Buffer.from([9]); // nanoseconds
    if (this.closing) throw new Error('capture: addInterface() after close()');
    this.out.write(
      block(BT_IDB, idb, [text(IF_NAME, ifname), text(IF_DESCRIPTION, description), { code: IF_TSRESOL, value: tsresol }]),
    );
    this.interfaces.push({ written: 0 });
    return this.interfaces.length - 1;
  }

  /**
   * Records one frame. `data` is copied, so a batch arena can be reused right after the call. Returns
   * false when the output wants to drain first (as Writable.write does): the caller stops feeding it until
   * `drain`. Frames after an output error or close() are ignored.
   */
  writeFrame(iface: number, direction: CaptureDirection, data: Uint8Array, opts: FrameOptions = {}): boolean {
    const ifc = this.interfaces[iface];
    if (!ifc) throw new RangeError(`capture: no interface ${iface} (declare it with addInterface first)`);
    if (this.closing || this.failure) return false;
    const caplen = this.snaplen > 0 ? Math.min(data.length, this.snaplen) : data.length;
    const origlen = Math.max(opts.originalLength ?? data.length, data.length);
    const ts = opts.timestampNs ?? this.now();
    const opt: Option[] = [u32(EPB_FLAGS, direction === 'rx' ? EPB_INBOUND : EPB_OUTBOUND)];
    if (opts.dropReason !== undefined) opt.push(text(OPT_COMMENT, `dropped: ${opts.dropReason}`));

    const bodyLen = 20 + pad4(caplen);
    const length = 12 + bodyLen + optionsLength(opt);
    const buf = Buffer.allocUnsafe(length);
    buf.writeUInt32LE(BT_EPB, 0);
    buf.writeUInt32LE(length, 4);
    buf.writeUInt32LE(iface, 8);
    buf.writeUInt32LE(Number(ts >> 32n), 12);
    buf.writeUInt32LE(Number(ts & 0xffffffffn), 16);
    buf.writeUInt32LE(caplen, 20);
    buf.writeUInt32LE(origlen, 24);
    buf.set(data.subarray(0, caplen), 28);
    buf.fill(0, 28 + caplen, 28 + pad4(caplen));
    const end = writeOptions(buf, 8 + bodyLen, opt);
    buf.writeUInt32LE(length, end);
    ifc.written++;
    this.stats.written++;
    return this.out.write(buf);
  }

  /** Resolves once everything written so far has been handed to the output; rejects on an output error. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failureError());
    if (this.out.writableLength === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // An empty write's callback runs after everything queued before it.
      this.out.write(Buffer.alloc(0), (err) => (err || this.failure ? reject(this.failureError(err)) : resolve()));
    });
  }

  /**
   * Writes per-interface statistics — frames written, and `missed[iface]` frames the capture did not get
   * (isb_ifdrop and a comment) —, ends the output and waits for it.
   */
  close(missed: readonly number[] = []): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (this.failure) {
        this.out.destroy();
        reject(this.failureError());
        return;
      }
      const end = this.now();
      this.interfaces.forEach((ifc, id) => {
        const isb = Buffer.alloc(12);
        isb.writeUInt32LE(id, 0);
        isb.writeUInt32LE(Number(end >> 32n), 4);
        isb.writeUInt32LE(Number(end & 0xffffffffn), 8);
        const lost = missed[id] ?? 0;
        this.out.write(
          block(BT_ISB, isb, [
            ...(lost > 0 ? [text(OPT_COMMENT, `${lost} frame(s) not captured: the capture's reader fell behind`)] : []),
            ts64(ISB_STARTTIME, this.startNs),
            ts64(ISB_ENDTIME, end),
            u64(ISB_IFDROP, BigInt(lost)),
            u64(ISB_USRDELIV, BigInt(ifc.written)),
          ]),
        );
      });
      this.out.once('error', (err) => reject(this.failureError(err)));
      // end()'s callback gets a write error that may come before the 'error' event sets failure.
      this.out.end((err?: Error | null) => (err || this.failure ? reject(this.failureError(err)) : resolve()));
    });
    return this.closing;
  }

  private failureError(err?: Error | null): Error {
    const cause = err ?? this.failure;
    return new UserError(`capture: writing the capture failed: ${cause?.message ?? 'unknown error'}`, 1);
  }
}

/**
 * Cuts a pcapng file after its last whole block, so that a capture that ended on a write error (a full
 * disk) leaves a file every reader takes whole. Returns the length kept.
 */
export function trimToWholeBlocks(path: string): number {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const header = Buffer.alloc(8);
    let at = 0;
    // Blocks chain by their length field; the first that does not fit the file was cut by the error.
    while (at + 12 <= size && readSync(fd, header, 0, 8, at) === 8) {
      const length = header.readUInt32LE(4);
      if (length < 12 || length % 4 !== 0 || at + length > size) break;
      at += length;
    }
    if (at < size) ftruncateSync(fd, at);
    return at;
  } finally {
    closeSync(fd);
  }
}
