// Reads a classic (libpcap 2.4) Ethernet capture into frames for `rpmsg-eth replay`, with pcap-parser.
// Every way a file can be unusable ends in one UserError naming the file and what is wrong with it.
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { UserError } from '../util/errors.js';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(path: string): EventEmitter };

export interface PcapFrame {
  /** The captured bytes (an Ethernet frame, possibly cut at the capture's snap length). */
  data: Buffer;
  /** Length on the wire; larger than data.length when the capture cut the frame. */
  originalLength: number;
  /** Capture time in microseconds since the epoch. */
  timestampUs: number;
}

export interface PcapCapture {
  snapLength: number;
  frames: PcapFrame[];
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const LINKTYPE_ETHERNET = 1;
/** Larger than any frame on any channel (8192-byte buffers) or a jumbo frame: anything above is corruption. */
const MAX_RECORD = 256 * 1024;
/** Replay holds the whole capture in memory: refuse files far beyond any reproduction case. */
const MAX_FILE = 512 * 1024 * 1024;

const MAGIC_HINTS: Record<string, string> = {
  '0a0d0d0a': 'it is pcapng, not classic pcap; convert it with `editcap -F pcap IN OUT` or capture with `tcpdump -w`',
  a1b23c4d: 'it is a nanosecond pcap; convert it with `editcap -F pcap IN OUT`',
  '4d3cb2a1': 'it is a nanosecond pcap; convert it with `editcap -F pcap IN OUT`',
};

const LINKTYPE_HINTS: Record<number, string> = {
  113: 'Linux cooked capture (tcpdump -i any); capture on one interface instead',
  276: 'Linux cooked capture v2 (tcpdump -i any); capture on one interface instead',
  101: 'raw IP; capture on an Ethernet interface instead',
  0: 'BSD loopback',
};

/** Reads all frames of `path`. Rejects with a UserError for a missing, unreadable, corrupt or non-Ethernet file. */
export async function readPcap(path: string): Promise<PcapCapture> {
  const fail = (why: string): UserError => new UserError(`replay: ${path}: ${why}`);
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw fail('not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw fail(e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message);
  }
  if (size > MAX_FILE) throw fail(`${size} bytes is larger than replay handles (${MAX_FILE}); cut it with \`editcap -r\``);
  if (size < GLOBAL_HEADER) throw fail(size === 0 ? 'the file is empty' : 'too short for a pcap file header (24 bytes)');

  return new Promise<PcapCapture>((resolve, reject) => {
    const parser = pcapParser.parse(path);
    const frames: PcapFrame[] = [];
    let snapLength = 0;
    let consumed = 0;
    let settled = false;
    const stop = (err: UserError | undefined, value?: PcapCapture): void => {
      if (settled) return;
      settled = true;
      parser.removeAllListeners();
      parser.on('error', () => undefined);
      // The parser keeps reading after an error; quiet its stream so nothing else is emitted.
      const stream = (parser as unknown as { stream?: { destroy(): void } }).stream;
      stream?.destroy();
      if (err) reject(err);
      else resolve(value as PcapCapture);
    };

    parser.on('error', (err: Error) => {
      const magic = /unknown magic number: ([0-9a-f]+)/.exec(err.message)?.[1];
      if (magic) {
        stop(fail(`not a classic pcap file (magic ${magic}): ${MAGIC_HINTS[magic] ?? 'unknown format'}`));
      } else {
        stop(fail(err.message));
      }
    });
    parser.on('globalHeader', (h: { majorVersion: number; minorVersion: number; snapshotLength: number; linkLayerType: number }) => {
      if (h.majorVersion !== 2) {
        stop(fail(`pcap version ${h.majorVersion}.${h.minorVersion} is not supported (expected 2.4)`));
      } else if (h.linkLayerType !== LINKTYPE_ETHERNET) {
        const hint = LINKTYPE_HINTS[h.linkLayerType];
        stop(fail(`link type ${h.linkLayerType}${hint ? ` (${hint})` : ''} is not Ethernet (1); replay needs Ethernet frames`));
      }
      snapLength = h.snapshotLength;
      consumed = GLOBAL_HEADER;
    });
    parser.on('packetHeader', (h: { capturedLength: number; originalLength: number }) => {
      // pcap-parser would wait for a huge record's bytes until the end of the file: say what is wrong.
      if (h.capturedLength > MAX_RECORD || h.capturedLength > h.originalLength) {
        stop(fail(`corrupt record after frame ${frames.length} (captured length ${h.capturedLength}, original ${h.originalLength})`));
      }
    });
    parser.on('packet', (p: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) => {
      consumed += RECORD_HEADER + p.header.capturedLength;
      frames.push({
        // pcap-parser hands out slices of its working buffer: keep a copy of just the frame.
        data: Buffer.from(p.data),
        originalLength: p.header.originalLength,
        timestampUs: p.header.timestampSeconds * 1e6 + p.header.timestampMicroseconds,
      });
    });
    parser.on('end', () => {
      // pcap-parser ignores a partial last record: every byte of the file must belong to a record.
      if (consumed !== size) stop(fail(`truncated or corrupt: ${size - consumed} byte(s) after frame ${frames.length} are not a complete record`));
      else stop(undefined, { snapLength, frames });
    });
  });
}
