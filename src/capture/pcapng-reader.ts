// Streams the interfaces and frames of a pcapng file (draft-ietf-opsawg-pcapng): any number of sections
// (each with its byte order) and interfaces; Enhanced, Simple and obsolete Packet Blocks; epb_flags'
// direction. Blocks are read one at a time through a fixed-size buffer; every length is checked before
// it is used, so a truncated or corrupt file ends in one CaptureFileError.
import type { FileHandle } from 'node:fs/promises';
import { CaptureFileError, type CaptureEvent } from './capture-event.js';

export const PCAPNG_MAGIC = 0x0a0d0d0a;

const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
const BOM = 0x1a2b3c4d;
const OPT_END = 0;
const IF_NAME = 2;
const EPB_FLAGS = 2;
/** Far above any block a capture of Ethernet frames holds (a 64 KiB frame and its options). */
const MAX_BLOCK = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Reads a file front to back in chunks; hands out exactly the bytes asked for. */
class BlockSource {
  private buf = Buffer.alloc(0);
  private at = 0;
  /** File offset of buf[0]. */
  private base = 0;

  constructor(private readonly fh: FileHandle) {}

  get offset(): number {
    return this.base + this.at;
  }

  /** Exactly `n` bytes; throws when the file ends within them. */
  async take(n: number, what: () => string): Promise<Buffer> {
    const out = await this.takeOrEnd(n, what);
    if (!out) throw new CaptureFileError(`truncated: the file ends at offset ${this.offset}, inside ${what()}`);
    return out;
  }

  /** Exactly `n` bytes, or null when the file ends right here; throws when it ends within them. */
  async takeOrEnd(n: number, what: () => string): Promise<Buffer | null> {
    while (this.buf.length - this.at < n) {
      const rest = this.buf.subarray(this.at);
      const next = Buffer.allocUnsafe(rest.length + Math.max(CHUNK, n - rest.length));
      rest.copy(next);
      const { bytesRead } = await this.fh.read(next, rest.length, next.length - rest.length, this.base + this.buf.length);
      this.base += this.at;
      this.buf = next.subarray(0, rest.length + bytesRead);
      this.at = 0;
      if (bytesRead === 0) {
        if (this.buf.length === 0) return null;
        throw new CaptureFileError(`truncated: the file ends at offset ${this.base + this.buf.length}, inside ${what()}`);
      }
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** Options from `at` to the end of `body`: code -> first value. */
function readOptions(body: Buffer, at: number, le: boolean): Map<number, Buffer> {
  const opts = new Map<number, Buffer>();
  while (at + 4 <= body.length) {
    const code = le ? body.readUInt16LE(at) : body.readUInt16BE(at);
    const len = le ? body.readUInt16LE(at + 2) : body.readUInt16BE(at + 2);
    if (code === OPT_END || at + 4 + len > body.length) break;
    if (!opts.has(code)) opts.set(code, body.subarray(at + 4, at + 4 + len));
    at += 4 + ((len + 3) & ~3);
  }
  return opts;
}

function direction(flags: Buffer | undefined, le: boolean): 'rx' | 'tx' | undefined {
  if (!flags || flags.length < 4) return undefined;
  const dir = (le ? flags.readUInt32LE(0) : flags.readUInt32BE(0)) & 3;
  return dir === 1 ? 'rx' : dir === 2 ? 'tx' : undefined;
}

/** The events of the pcapng file open on `fh` (closed when done). */
export async function* readPcapng(fh: FileHandle): AsyncGenerator<CaptureEvent> {
  const src = new BlockSource(fh);
  let le = true;
  /** Global index and snap length of each interface of the current section, by section-local id. */
  let section: Array<{ index: number; snaplen: number }> = [];
  let interfaces = 0;
  let frames = 0;
  try {
    for (;;) {
      const start = src.offset;
      const where = () => `the block at offset ${start} (after frame ${frames})`;
      const head = await src.takeOrEnd(8, where);
      if (!head) return;
      const type = le ? head.readUInt32LE(0) : head.readUInt32BE(0);
      let length: number;
      let body: Buffer;
      if (type === PCAPNG_MAGIC) {
        const bom = await src.take(4, where);
        if (bom.readUInt32LE(0) === BOM) le = true;
        else if (bom.readUInt32BE(0) === BOM) le = false;
        else throw new CaptureFileError(`corrupt section header at offset ${start} (byte-order magic ${bom.toString('hex')})`);
        length = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
        if (length < 28 || length % 4 !== 0 || length > MAX_BLOCK) throw new CaptureFileError(`corrupt section header at offset ${start} (length ${length})`);
        body = await src.take(length - 12, where);
        const major = le ? body.readUInt16LE(0) : body.readUInt16BE(0);
        if (major !== 1) throw new CaptureFileError(`pcapng version ${major} is not supported (expected 1)`);
        section = [];
      } else {
        if (start === 0) throw new CaptureFileError('corrupt pcapng: it does not start with a section header');
        length = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
        if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK) {
          throw new CaptureFileError(`corrupt block at offset ${start} (type ${type}, length ${length})`);
        }
        body = await src.take(length - 8, where);
      }
      const trailer = le ? body.readUInt32LE(body.length - 4) : body.readUInt32BE(body.length - 4);
      if (trailer !== length) throw new CaptureFileError(`corrupt block at offset ${start} (lengths ${length} and ${trailer} differ)`);
      body = body.subarray(0, body.length - 4);
      const u32 = (at: number) => (le ? body.readUInt32LE(at) : body.readUInt32BE(at));
      const u16 = (at: number) => (le ? body.readUInt16LE(at) : body.readUInt16BE(at));
      const need = (n: number) => {
        if (body.length < n) throw new CaptureFileError(`corrupt block at offset ${start} (type ${type}, ${body.length} bytes of body)`);
      };
      const iface = (id: number) => {
        const i = section[id];
        if (!i) throw new CaptureFileError(`frame at offset ${start} refers to interface ${id}, which the section does not declare`);
        return i;
      };

      if (type === BT_IDB) {
        need(8);
        const index = interfaces++;
        section.push({ index, snaplen: u32(4) });
        const name = readOptions(body, 8, le).get(IF_NAME)?.toString('utf8').replace(/\0+$/, '');
        yield { kind: 'interface', index, linkType: u16(0), ...(name ? { name } : {}) };
      } else if (type === BT_EPB || type === BT_PB) {
        need(20);
        const id = type === BT_EPB ? u32(0) : u16(0);
        const caplen = u32(12);
        if (caplen > body.length - 20) throw new CaptureFileError(`corrupt frame at offset ${start} (captured length ${caplen}, block of ${length} bytes)`);
        frames++;
        const flags = readOptions(body, 20 + ((caplen + 3) & ~3), le).get(EPB_FLAGS);
        const dir = direction(flags, le);
        yield {
          kind: 'frame',
          interface: iface(id).index,
          data: Buffer.from(body.subarray(20, 20 + caplen)),
          originalLength: Math.max(u32(16), caplen),
          ...(dir ? { direction: dir } : {}),
        };
      } else if (type === BT_SPB) {
        need(4);
        const { index, snaplen } = iface(0);
        const original = u32(0);
        const caplen = Math.min(original, body.length - 4, snaplen || Infinity);
        frames++;
        yield { kind: 'frame', interface: index, data: Buffer.from(body.subarray(4, 4 + caplen)), originalLength: original };
      }
      // Other blocks (statistics, name resolution, secrets, custom) say nothing replay needs.
    }
  } finally {
    await fh.close();
  }
}
