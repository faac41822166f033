// Classic pcap files read into frames for replay, and every unusable file rejected with one clear error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPcap } from '../../../src/capture/pcap-reader.js';
import { PcapngWriter } from '../../../src/capture/pcapng-writer.js';
import { UserError } from '../../../src/util/errors.js';
import { tool } from '../../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rpmsg-eth-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Rec {
  data: Buffer;
  tsUs: number;
  orig?: number;
}

/** A minimal classic pcap writer (libpcap 2.4, microseconds) in either byte order. */
function pcap(records: Rec[], opts: { linktype?: number; bigEndian?: boolean; snaplen?: number; major?: number } = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const u32 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  const u16 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  const gh = Buffer.alloc(24);
  u32(gh, 0xa1b2c3d4, 0);
  u16(gh, opts.major ?? 2, 4);
  u16(gh, 4, 6);
  u32(gh, opts.snaplen ?? 65535, 16);
  u32(gh, opts.linktype ?? 1, 20);
  const parts: Buffer[] = [gh];
  for (const r of records) {
    const h = Buffer.alloc(16);
    u32(h, Math.floor(r.tsUs / 1e6), 0);
    u32(h, r.tsUs % 1e6, 4);
    u32(h, r.data.length, 8);
    u32(h, r.orig ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

function ethFrame(tag: number, length: number): Buffer {
  const f = Buffer.alloc(length, tag);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

function file(name: string, content: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('readPcap', () => {
  const records: Rec[] = [
    { data: ethFrame(1, 60), tsUs: 1_700_000_000_000_001 },
    { data: ethFrame(2, 482), tsUs: 1_700_000_000_500_000 },
    { data: ethFrame(3, 100), tsUs: 1_700_000_001_000_000, orig: 1514 },
  ];

  it.each([false, true])('round-trips frames of a classic pcap (big-endian: %s)', async (bigEndian) => {
    const cap = await readPcap(file(`rt-${bigEndian}.pcap`, pcap(records, { bigEndian, snaplen: 1000 })));
    expect(cap.snapLength).toBe(1000);
    expect(cap.frames.map((f) => [f.data.toString('hex'), f.timestampUs, f.originalLength])).toEqual(
      records.map((r) => [r.data.toString('hex'), r.tsUs, r.orig ?? r.data.length]),
    );
  });

  it('reads a file converted by editcap from a pcapng capture', async () => {
    const ng = join(dir, 'from-writer.pcapng');
    const w = await PcapngWriter.toFile(ng);
    const i = w.addInterface('rpmsg0', 'c');
    for (let n = 0; n < 50; n++) w.writeFrame(i, n % 2 ? 'rx' : 'tx', ethFrame(n, 60 + n * 7));
    await w.close();
    const classic = join(dir, 'from-writer.pcap');
    execFileSync(tool('editcap'), ['-F', 'pcap', ng, classic], { stdio: 'ignore' });
    const cap = await readPcap(classic);
    expect(cap.frames).toHaveLength(50);
    cap.frames.forEach((f, n) => expect(f.data.equals(ethFrame(n, 60 + n * 7))).toBe(true));
  });

  it('reads an empty capture (header only) as no frames', async () => {
    expect((await readPcap(file('none.pcap', pcap([])))).frames).toEqual([]);
  });

  const bad: Array<[string, () => string, RegExp]> = [
    ['a missing file', () => join(dir, 'missing.pcap'), /missing\.pcap: no such file/],
    ['a directory', () => dir, /not a regular file/],
    ['an empty file', () => file('empty.pcap', Buffer.alloc(0)), /the file is empty/],
    ['a short file', () => file('short.pcap', Buffer.alloc(10)), /too short for a pcap file header/],
    ['a pcapng file', () => file('ng.pcap', Buffer.concat([Buffer.from('0a0d0d0a', 'hex'), Buffer.alloc(40)])), /not a classic pcap file .*pcapng.*editcap -F pcap/],
    ['garbage', () => file('garbage.pcap', Buffer.alloc(64, 0x55)), /not a classic pcap file \(magic 55555555\): unknown format/],
    ['Linux cooked capture', () => file('sll.pcap', pcap(records, { linktype: 113 })), /link type 113 \(Linux cooked capture.*\) is not Ethernet/],
    ['a version 1 file', () => file('v1.pcap', pcap(records, { major: 1 })), /pcap version 1\.4 is not supported/],
    ['a truncated last frame', () => file('trunc.pcap', pcap(records).subarray(0, -10)), /truncated or corrupt: 106 byte\(s\) after frame 2/],
    ['a truncated record header', () => file('trunc-hdr.pcap', Buffer.concat([pcap(records), Buffer.alloc(5)])), /5 byte\(s\) after frame 3/],
    ['a corrupt record length', () => {
      const b = pcap(records);
      b.writeUInt32LE(0x7fffffff, 24 + 16 + 60 + 8);
      return file('corrupt.pcap', b);
    }, /corrupt record after frame 1 \(captured length 2147483647/],
  ];
  it.each(bad)('rejects %s with one clear UserError', async (_what, make, why) => {
    const attempt = readPcap(make());
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(why);
  });
});
