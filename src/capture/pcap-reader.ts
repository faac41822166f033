// Streams the frames of a classic pcap file (libpcap 2.4, either byte order, microsecond or nanosecond
// timestamps) with pcap-parser, holding at most one read chunk and a few frames: the reader's input is
// paused whenever its consumer has frames waiting. Every way a file can be unusable ends in one
// CaptureFileError naming what is wrong.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import { CaptureFileError, type CaptureEvent } from './capture-event.js';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(input: Readable): EventEmitter };

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Larger than any frame on any channel or a jumbo frame: anything above is corruption. */
const MAX_RECORD = 256 * 1024;
/** Frames parsed ahead of the consumer before the input is paused. */
const QUEUE_HIGH = 256;

/** pcap magics (as read big-endian): microsecond and nanosecond, each in both byte orders. */
export const PCAP_MAGICS: Readonly<Record<number, { nano: boolean }>> = {
  0xa1b2c3d4: { nano: false },
  0xd4c3b2a1: { nano: false },
  0xa1b23c4d: { nano: true },
  0x4d3cb2a1: { nano: true },
};

/**
 * pcap-parser knows only the microsecond magics. A nanosecond file is the same format with another magic
 * (the timestamps, which replay does not use, just count nanoseconds): present it under the microsecond
 * magic of the same byte order.
 */
function asMicrosecondPcap(input: Readable): Readable {
  let first = true;
  return input.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (first) {
          first = false;
          chunk = Buffer.from(chunk);
          if (chunk.readUInt32BE(0) === 0xa1b23c4d) chunk.writeUInt32BE(0xa1b2c3d4, 0);
          else chunk.writeUInt32BE(0xd4c3b2a1, 0);
        }
        cb(null, chunk);
      },
    }),
  );
}

interface PcapHeader {
  majorVersion: number;
  minorVersion: number;
  linkLayerType: number;
}

/** The frames of the pcap file at `path` (`size` bytes, at least a global header, magic already checked). */
export async function* readPcap(path: string, size: number, nano: boolean): AsyncGenerator<CaptureEvent> {
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  const input = nano ? asMicrosecondPcap(file) : file;
  const parser = pcapParser.parse(input);
  const queue: CaptureEvent[] = [];
  let failure: CaptureFileError | undefined;
  let ended = false;
  let consumed = 0;
  let frames = 0;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (why: string) => {
    failure ??= new CaptureFileError(why);
    input.pause();
    notify();
  };

  parser.on('error', (err: Error) => fail(err.message));
  parser.on('globalHeader', (h: PcapHeader) => {
    // pcap-parser's own version check lets 2.x and x.4 through; replay wants 2.x.
    if (h.majorVersion !== 2) return fail(`pcap version ${h.majorVersion}.${h.minorVersion} is not supported (expected 2.4)`);
    consumed = GLOBAL_HEADER;
    queue.push({ kind: 'interface', index: 0, linkType: h.linkLayerType });
    notify();
  });
  parser.on('packetHeader', (h: { capturedLength: number; originalLength: number }) => {
    // pcap-parser would wait for a huge record's bytes until the end of the file: say what is wrong.
    if (h.capturedLength > MAX_RECORD || h.capturedLength > h.originalLength) {
      fail(`corrupt record after frame ${frames} (captured length ${h.capturedLength}, original ${h.originalLength})`);
    }
  });
  parser.on('packet', (p: { header: { capturedLength: number; originalLength: number }; data: Buffer }) => {
    if (failure) return;
    consumed += RECORD_HEADER + p.header.capturedLength;
    frames++;
    // pcap-parser hands out slices of its working buffer: keep a copy of just the frame.
    queue.push({ kind: 'frame', interface: 0, data: Buffer.from(p.data), originalLength: p.header.originalLength });
    if (queue.length >= QUEUE_HIGH) input.pause();
    notify();
  });
  parser.on('end', () => {
    // pcap-parser ignores a partial last record: every byte of the file must belong to a record.
    if (!failure && consumed !== size) {
      fail(`truncated or corrupt: ${size - consumed} byte(s) after frame ${frames} are not a complete record`);
    }
    ended = true;
    notify();
  });

  try {
    for (;;) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        if (queue.length < QUEUE_HIGH / 4 && input.isPaused()) input.resume();
        yield next;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    parser.removeAllListeners();
    parser.on('error', () => undefined);
    file.destroy();
    input.destroy();
  }
}
