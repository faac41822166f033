// A capture written by PcapngWriter, read back by tshark and tcpdump: interfaces, directions, drop comments.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../../src/capture/pcapng-writer.js';
import { UserError } from '../../../src/util/errors.js';
import { tool } from '../../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rpmsg-eth-pcapng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An Ethernet frame whose payload starts with `tag`, so frames can be told apart after the round trip. */
function frame(tag: number, length = 64): Buffer {
  const f = Buffer.alloc(length, tag);
  Buffer.from('020000000001', 'hex').copy(f, 0);
  Buffer.from('020000000002', 'hex').copy(f, 6);
  f.writeUInt16BE(0x88b5, 12); // local experimental ethertype
  return f;
}

interface TsharkFrame {
  interface: string;
  description: string;
  direction: string;
  comment: string | undefined;
  len: number;
  capLen: number;
  epochNs: string;
}

function tshark(path: string): TsharkFrame[] {
  const out = execFileSync(
    tool('tshark'),
    ['-r', path, '-T', 'json', '-e', 'frame.interface_name', '-e', 'frame.interface_description',
     '-e', 'frame.packet_flags_direction', '-e', 'frame.comment', '-e', 'frame.len', '-e', 'frame.cap_len',
     '-e', 'frame.time_epoch'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const packets = JSON.parse(out) as Array<{ _source: { layers: Record<string, string[] | undefined> } }>;
  return packets.map(({ _source: { layers: l } }) => ({
    interface: l['frame.interface_name']?.[0] ?? '',
    description: l['frame.interface_description']?.[0] ?? '',
    direction: l['frame.packet_flags_direction']?.[0] ?? '',
    comment: l['frame.comment']?.[0],
    len: Number(l['frame.len']?.[0]),
    capLen: Number(l['frame.cap_len']?.[0]),
    epochNs: (l['frame.time_epoch']?.[0] ?? '').replace('.', ''),
  }));
}

describe('PcapngWriter', () => {
  it('writes interfaces, directions and drop comments that tshark and tcpdump read', async () => {
    const path = join(dir, 'two-ifaces.pcapng');
    let clock = 1_700_000_000_123_456_789n;
    const w = await PcapngWriter.toFile(path, { now: () => clock++ });
    const fs = w.addInterface('rpmsg0', 'fsproxy');
    const log = w.addInterface('rpmsg3', 'vx-log');
    expect([fs, log]).toEqual([0, 1]);
    expect(w.writeFrame(fs, 'rx', frame(1))).toBe(true);
    expect(w.writeFrame(log, 'tx', frame(2, 61))).toBe(true);
    // A drop with the part of the frame the daemon had, and one known only by its size.
    expect(w.writeFrame(log, 'tx', frame(3, 482), { dropReason: 'oversize', originalLength: 600 })).toBe(true);
    expect(w.writeFrame(fs, 'rx', Buffer.alloc(0), { dropReason: 'runt', originalLength: 9 })).toBe(true);
    // An interface added mid-capture (a channel added by reload).
    const late = w.addInterface('rpmsg7', 'late');
    expect(w.writeFrame(late, 'tx', frame(4), { timestampNs: 1_800_000_000_000_000_001n })).toBe(true);
    await w.close();
    expect(w.stats).toEqual({ written: 5, lost: 0 });

    const frames = tshark(path);
    expect(frames).toEqual([
      { interface: 'rpmsg0', description: 'fsproxy', direction: '0x00000001', comment: undefined, len: 64, capLen: 64, epochNs: '1700000000123456790' },
      { interface: 'rpmsg3', description: 'vx-log', direction: '0x00000002', comment: undefined, len: 61, capLen: 61, epochNs: '1700000000123456791' },
      { interface: 'rpmsg3', description: 'vx-log', direction: '0x00000002', comment: 'dropped: oversize', len: 600, capLen: 482, epochNs: '1700000000123456792' },
      { interface: 'rpmsg0', description: 'fsproxy', direction: '0x00000001', comment: 'dropped: runt', len: 9, capLen: 0, epochNs: '1700000000123456793' },
      { interface: 'rpmsg7', description: 'late', direction: '0x00000002', comment: undefined, len: 64, capLen: 64, epochNs: '1800000000000000001' },
    ]);

    // tcpdump reads the same file, frame bytes intact.
    const dump = execFileSync(tool('tcpdump'), ['-r', path, '-nn', '-e', '-x'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(dump).toContain('02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype Unknown (0x88b5), length 64');
    expect(dump).toContain('0x0000:  0101 0101'); // payload of frame 1

    // The closing statistics block: frames delivered per interface.
    const info = execFileSync(tool('capinfos'), ['-M', path], { encoding: 'utf8' });
    expect(info).toMatch(/Number of interfaces in file: 3/);
  });

  it('cuts frames at the snap length, keeping the original length', async () => {
    const path = join(dir, 'snap.pcapng');
    const w = await PcapngWriter.toFile(path, { snaplen: 32 });
    const i = w.addInterface('rpmsg1', 'ch1');
    w.writeFrame(i, 'rx', frame(9, 100));
    await w.close();
    const [f] = tshark(path);
    expect(f).toMatchObject({ len: 100, capLen: 32 });
  });

  it('loses frames (counted) instead of buffering without bound when the output stalls', async () => {
    // A sink that accepts nothing until released.
    let release: (() => void) | undefined;
    const chunks: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        if (release) cb();
        else release = () => cb();
      },
    });
    const w = new PcapngWriter(sink, { maxBuffered: 10_000 });
    const i = w.addInterface('rpmsg0', 'c');
    let ok = 0;
    for (let n = 0; n < 1000; n++) if (w.writeFrame(i, 'tx', frame(5, 1000))) ok++;
    expect(ok).toBeGreaterThan(5);
    expect(ok).toBeLessThan(20);
    expect(w.stats).toEqual({ written: ok, lost: 1000 - ok });
    expect(sink.writableLength).toBeLessThan(10_000 + 2000);
    const done = w.close();
    release?.();
    await done;
    // Every written frame reached the sink, followed by the statistics block.
    const all = Buffer.concat(chunks);
    let epb = 0;
    let isb: Buffer | undefined;
    for (let at = 0; at < all.length; at += all.readUInt32LE(at + 4)) {
      const type = all.readUInt32LE(at);
      if (type === 6) epb++;
      if (type === 5) isb = all.subarray(at, at + all.readUInt32LE(at + 4));
    }
    expect(epb).toBe(ok);
    expect(isb).toBeDefined();
    // isb_osdrop (code 7) carries the lost count.
    let lost: bigint | undefined;
    for (let at = 20; at + 4 <= isb!.length - 4; ) {
      const code = isb!.readUInt16LE(at);
      const len = isb!.readUInt16LE(at + 2);
      if (code === 0) break;
      if (code === 7) lost = isb!.readBigUInt64LE(at + 4);
      at += 4 + ((len + 3) & ~3);
    }
    expect(lost).toBe(BigInt(1000 - ok));
  });

  it('reports an unwritable path as a UserError', async () => {
    await expect(PcapngWriter.toFile(join(dir, 'no', 'such', 'dir.pcapng'))).rejects.toThrow(UserError);
    await expect(PcapngWriter.toFile(join(dir, 'no', 'such', 'dir.pcapng'))).rejects.toThrow(/cannot write .*no such directory/);
  });

  it('reports an output failure from flush() and close(), and stops writing', async () => {
    const out = new PassThrough();
    const w = new PcapngWriter(out);
    const i = w.addInterface('rpmsg0', 'c');
    out.destroy(new Error('disk full'));
    await new Promise((r) => setImmediate(r));
    expect(w.writeFrame(i, 'rx', frame(1))).toBe(false);
    await expect(w.flush()).rejects.toThrow(/writing the capture failed: disk full/);
    await expect(w.close()).rejects.toThrow(/disk full/);
  });

  it('refuses an unknown interface id', () => {
    const w = new PcapngWriter(new PassThrough());
    expect(() => w.writeFrame(0, 'rx', frame(1))).toThrow(/no interface 0/);
  });
});
