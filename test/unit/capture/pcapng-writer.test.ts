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
    expect(w.stats).toEqual({ written: 5 });

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

  it('says when the output wants draining, and records the frames the capture missed in its statistics', async () => {
    // A sink that accepts nothing until released.
    let release: (() => void) | undefined;
    const chunks: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 4096,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        if (release) cb();
        else release = () => cb();
      },
    });
    const w = new PcapngWriter(sink);
    const i = w.addInterface('rpmsg0', 'c');
    const j = w.addInterface('rpmsg1', 'd');
    expect(w.writeFrame(i, 'tx', frame(5, 1000))).toBe(true);
    let more = true;
    for (let n = 0; n < 10 && more; n++) more = w.writeFrame(j, 'rx', frame(6, 1000));
    expect(more).toBe(false); // past the sink's high-water mark: the caller waits for 'drain'
    const done = w.close([0, 42]);
    release?.();
    await done;
    const all = Buffer.concat(chunks);
    const isbs = new Map<number, Map<number, Buffer>>();
    for (let at = 0; at < all.length; at += all.readUInt32LE(at + 4)) {
      if (all.readUInt32LE(at) !== 5) continue;
      const isb = all.subarray(at, at + all.readUInt32LE(at + 4));
      const opts = new Map<number, Buffer>();
      for (let o = 20; o + 4 <= isb.length - 4; ) {
        const code = isb.readUInt16LE(o);
        const len = isb.readUInt16LE(o + 2);
        if (code === 0) break;
        opts.set(code, isb.subarray(o + 4, o + 4 + len));
        o += 4 + ((len + 3) & ~3);
      }
      isbs.set(isb.readUInt32LE(8), opts);
    }
    // isb_ifdrop (5): frames not captured, as dumpcap reports its drops; isb_usrdeliv (8): frames written.
    expect(isbs.get(0)?.get(5)?.readBigUInt64LE()).toBe(0n);
    expect(isbs.get(1)?.get(5)?.readBigUInt64LE()).toBe(42n);
    expect(isbs.get(1)?.get(8)?.readBigUInt64LE()).toBe(BigInt(w.stats.written - 1));
    expect(isbs.get(1)?.get(1)?.toString()).toBe("42 frame(s) not captured: the capture's reader fell behind");
    expect(isbs.get(0)?.has(1)).toBe(false);
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
    expect(w.stats.written).toBe(0);
    await expect(w.flush()).rejects.toThrow(/writing the capture failed: disk full/);
    await expect(w.close()).rejects.toThrow(/disk full/);
  });

  // A full disk met by the statistics close() writes last: end()'s callback can run before the 'error'
  // event, and close() resolved, so `capture` said the file was written and exited 0 with it cut.
  it('rejects close() when the writes it makes itself fail', async () => {
    let writes = 0;
    const out = new Writable({
      write(_chunk, _enc, cb) {
        if (++writes <= 3) return cb();
        setImmediate(() => cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })));
      },
    });
    const w = new PcapngWriter(out);
    const i = w.addInterface('rpmsg0', 'c');
    w.writeFrame(i, 'rx', frame(1));
    await expect(w.close([0])).rejects.toThrow(/writing the capture failed: ENOSPC/);
  });

  it('refuses an unknown interface id', () => {
    const w = new PcapngWriter(new PassThrough());
    expect(() => w.writeFrame(0, 'rx', frame(1))).toThrow(/no interface 0/);
  });
});
