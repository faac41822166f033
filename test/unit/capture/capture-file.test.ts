// Capture files read for replay: classic pcap in both byte orders with microsecond and nanosecond
// timestamps, pcapng with any number of sections and interfaces (as `capture`, tshark and editcap write
// it), the interface and frames replay picks, and every unusable file refused with one clear line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureFile, type CaptureEvent } from '../../../src/capture/capture-file.js';
import { PcapngWriter } from '../../../src/capture/pcapng-writer.js';
import { planReplay, replayFrames } from '../../../src/capture/replay-frames.js';
import { UserError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/prng.js';
import { tool } from '../../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rpmsg-eth-capfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function ethFrame(tag: number, length: number): Buffer {
  const f = Buffer.alloc(length, tag);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

interface Rec {
  data: Buffer;
  orig?: number;
}

/** A classic pcap (2.4) in either byte order, microsecond or nanosecond magic. */
function pcap(records: Rec[], opts: { linktype?: number; bigEndian?: boolean; nano?: boolean; major?: number } = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const u32 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  const u16 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  const gh = Buffer.alloc(24);
  u32(gh, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(gh, opts.major ?? 2, 4);
  u16(gh, 4, 6);
  u32(gh, 65535, 16);
  u32(gh, opts.linktype ?? 1, 20);
  const parts: Buffer[] = [gh];
  records.forEach((r, i) => {
    const h = Buffer.alloc(16);
    u32(h, 1_700_000_000 + i, 0);
    u32(h, opts.nano ? 999_999_999 : 999_999, 4);
    u32(h, r.data.length, 8);
    u32(h, r.orig ?? r.data.length, 12);
    parts.push(h, r.data);
  });
  return Buffer.concat(parts);
}

/** pcapng blocks by hand, in either byte order. */
function ng(be = false) {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (be) b.writeUInt32BE(v);
    else b.writeUInt32LE(v);
    return b;
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    if (be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const option = (code: number, value: Buffer) => Buffer.concat([u16(code), u16(value.length), pad(value)]);
  const block = (type: number, body: Buffer) => Buffer.concat([u32(type), u32(body.length + 12), pad(body), u32(body.length + 12)]);
  return {
    shb: () => block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)])),
    idb: (linktype: number, name?: string) =>
      block(1, Buffer.concat([u16(linktype), u16(0), u32(0), ...(name ? [option(2, Buffer.from(name)), u32(0)] : [])])),
    epb: (iface: number, data: Buffer, opts: { orig?: number; flags?: number } = {}) =>
      block(6, Buffer.concat([u32(iface), u32(0), u32(0), u32(data.length), u32(opts.orig ?? data.length), pad(data),
        ...(opts.flags !== undefined ? [option(2, u32(opts.flags)), u32(0)] : [])])),
    spb: (data: Buffer) => block(3, Buffer.concat([u32(data.length), pad(data)])),
    pb: (iface: number, data: Buffer) => block(2, Buffer.concat([u16(iface), u16(0), u32(0), u32(0), u32(data.length), u32(data.length), pad(data)])),
    isb: (iface: number) => block(5, Buffer.concat([u32(iface), u32(0), u32(0)])),
  };
}

async function events(path: string): Promise<CaptureEvent[]> {
  const out: CaptureEvent[] = [];
  for await (const ev of readCaptureFile(path)) out.push(ev);
  return out;
}

async function sent(path: string, choice?: string): Promise<Buffer[]> {
  const plan = await planReplay(path, choice);
  const out: Buffer[] = [];
  for await (const f of replayFrames(path, plan)) out.push(f);
  return out;
}

const records: Rec[] = [{ data: ethFrame(1, 60) }, { data: ethFrame(2, 482) }, { data: ethFrame(3, 100), orig: 1514 }];

describe('classic pcap', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('big-endian %s, nanosecond %s: the frames, cut frames left out of replay', async (bigEndian, nano) => {
    const path = file(`p-${bigEndian}-${nano}.pcap`, pcap(records, { bigEndian, nano }));
    const evs = await events(path);
    expect(evs[0]).toEqual({ kind: 'interface', index: 0, linkType: 1 });
    expect(evs.slice(1).map((e) => e.kind === 'frame' && [e.data.toString('hex'), e.originalLength])).toEqual(
      records.map((r) => [r.data.toString('hex'), r.orig ?? r.data.length]),
    );
    expect(await planReplay(path)).toEqual({ interface: { index: 0, linkType: 1 }, total: 3, frames: 2, inbound: 0, cut: 1 });
    expect((await sent(path)).map((f) => f[0])).toEqual([1, 2]);
  });

  it('reads what editcap writes as nanosecond pcap', async () => {
    const ng = join(dir, 'w.pcapng');
    const w = await PcapngWriter.toFile(ng);
    const i = w.addInterface('rpmsg0', 'c');
    for (let n = 0; n < 20; n++) w.writeFrame(i, 'tx', ethFrame(n, 60 + n * 7));
    await w.close();
    const nsec = join(dir, 'w.nsec.pcap');
    execFileSync(tool('editcap'), ['-F', 'nsecpcap', ng, nsec], { stdio: 'ignore' });
    expect(execFileSync(tool('capinfos'), ['-t', nsec], { encoding: 'utf8' })).toMatch(/nanosecond pcap/);
    const frames = await sent(nsec);
    expect(frames).toHaveLength(20);
    frames.forEach((f, n) => expect(f.equals(ethFrame(n, 60 + n * 7))).toBe(true));
  });
});

describe('pcapng', () => {
  it("capture's own file: one interface per channel, replayed per channel, inbound frames left out", async () => {
    const path = join(dir, 'capture.pcapng');
    const w = await PcapngWriter.toFile(path);
    const a = w.addInterface('rpmsg1', 'ch1');
    const b = w.addInterface('rpmsg3', 'ch3');
    w.writeFrame(a, 'tx', ethFrame(0x11, 60));
    w.writeFrame(b, 'tx', ethFrame(0x31, 70));
    w.writeFrame(b, 'rx', ethFrame(0x32, 70));
    w.writeFrame(b, 'tx', ethFrame(0x33, 80), { dropReason: 'busy' });
    w.writeFrame(b, 'tx', ethFrame(0x34, 60).subarray(0, 30), { dropReason: 'oversize', originalLength: 600 });
    await w.close([0, 2]);
    await expect(planReplay(path)).rejects.toThrow(/the file has 2 interfaces, 0 \(rpmsg1\), 1 \(rpmsg3\): choose one with --interface NAME\|INDEX$/);
    expect(await planReplay(path, 'rpmsg3')).toEqual({ interface: { index: 1, name: 'rpmsg3', linkType: 1 }, total: 4, frames: 2, inbound: 1, cut: 1 });
    expect((await sent(path, 'rpmsg3')).map((f) => f[0])).toEqual([0x31, 0x33]);
    expect((await sent(path, '0')).map((f) => f[0])).toEqual([0x11]);
    await expect(planReplay(path, 'rpmsg9')).rejects.toThrow(/no interface rpmsg9 \(the file has 0 \(rpmsg1\), 1 \(rpmsg3\)\)/);
  });

  it('what tshark and editcap write', async () => {
    const classic = file('for-tshark.pcap', pcap(records.slice(0, 2)));
    const out = join(dir, 'tshark.pcapng');
    execFileSync(tool('tshark'), ['-r', classic, '-F', 'pcapng', '-w', out], { stdio: 'ignore' });
    expect((await sent(out)).map((f) => f.length)).toEqual([60, 482]);
    const viaEditcap = join(dir, 'editcap.pcapng');
    execFileSync(tool('editcap'), ['-F', 'pcapng', classic, viaEditcap], { stdio: 'ignore' });
    expect((await sent(viaEditcap)).map((f) => f.length)).toEqual([60, 482]);
  });

  it('big-endian sections, simple and obsolete packet blocks, several sections numbered on', async () => {
    const be = ng(true);
    const le = ng(false);
    const path = file(
      'mixed.pcapng',
      Buffer.concat([
        be.shb(), be.idb(1, 'eth0'), be.epb(0, ethFrame(1, 60), { flags: 2 }), be.spb(ethFrame(2, 64)), be.pb(0, ethFrame(3, 66)), be.isb(0),
        le.shb(), le.idb(1, 'eth1'), le.idb(1, 'eth2'), le.epb(1, ethFrame(4, 68), { flags: 1 }), le.epb(1, ethFrame(5, 70)), le.epb(0, ethFrame(6, 72)),
      ]),
    );
    const evs = await events(path);
    expect(evs.filter((e) => e.kind === 'interface')).toEqual([
      { kind: 'interface', index: 0, linkType: 1, name: 'eth0' },
      { kind: 'interface', index: 1, linkType: 1, name: 'eth1' },
      { kind: 'interface', index: 2, linkType: 1, name: 'eth2' },
    ]);
    expect(evs.flatMap((e) => (e.kind === 'frame' ? [[e.interface, e.data[0], e.direction ?? '-']] : []))).toEqual([
      [0, 1, 'tx'], [0, 2, '-'], [0, 3, '-'], [2, 4, 'rx'], [2, 5, '-'], [1, 6, '-'],
    ]);
    expect((await sent(path, 'eth0')).map((f) => f[0])).toEqual([1, 2, 3]);
    expect((await sent(path, '2')).map((f) => f[0])).toEqual([5]);
  });
});

describe('unusable files: one line with the reason, before anything is sent', () => {
  const le = ng();
  const good = Buffer.concat([le.shb(), le.idb(1, 'rpmsg2'), le.epb(0, ethFrame(1, 60)), le.epb(0, ethFrame(2, 60))]);
  const bad: Array<[string, () => string, RegExp]> = [
    ['a missing file', () => join(dir, 'missing.pcap'), /missing\.pcap: no such file$/],
    ['a directory', () => dir, /: not a regular file$/],
    ['a device', () => '/dev/zero', /\/dev\/zero: not a regular file$/],
    ['an empty file', () => file('empty.pcap', Buffer.alloc(0)), /empty\.pcap: the file is empty$/],
    ['a short file', () => file('short.pcap', pcap([]).subarray(0, 10)), /10 bytes are too short for a pcap file header/],
    ['garbage', () => file('garbage.bin', Buffer.alloc(64, 0x55)), /not a pcap or pcapng file \(magic 55555555\)$/],
    ['a pcap of Linux cooked capture', () => file('sll.pcap', pcap(records, { linktype: 113 })), /interface 0 has link type 113 \(Linux cooked capture \(tcpdump -i any\).*\), not Ethernet \(1\)/],
    ['a pcapng of Linux cooked capture v2', () => file('sll2.pcapng', Buffer.concat([le.shb(), le.idb(276, 'any'), le.epb(0, ethFrame(1, 60))])), /interface 0 \(any\) has link type 276/],
    ['a pcap version 1', () => file('v1.pcap', pcap(records, { major: 1 })), /pcap version 1\.4 is not supported/],
    ['a pcap cut inside a frame', () => file('trunc.pcap', pcap(records).subarray(0, -10)), /truncated or corrupt: 106 byte\(s\) after frame 2/],
    ['a pcap with a corrupt record length', () => {
      const b = pcap(records);
      b.writeUInt32LE(0x7fffffff, 24 + 16 + 60 + 8);
      return file('corrupt.pcap', b);
    }, /corrupt record after frame 1 \(captured length 2147483647/],
    ['a pcap with no frames', () => file('none.pcap', pcap([])), /no frames to send on interface 0$/],
    ['a pcapng cut inside a block', () => file('trunc.pcapng', good.subarray(0, good.length - 6)), /truncated: the file ends at offset \d+, inside the block at offset \d+ \(after frame 1\)/],
    ['a pcapng cut inside the section header', () => file('trunc-shb.pcapng', good.subarray(0, 20)), /truncated: the file ends at offset 20, inside the block at offset 0/],
    ['a pcapng with a corrupt block length', () => {
      const b = Buffer.from(good);
      b.writeUInt32LE(7, le.shb().length + le.idb(1, 'rpmsg2').length + 4);
      return file('corrupt.pcapng', b);
    }, /corrupt block at offset \d+ \(type 6, length 7\)/],
    ['a pcapng frame on an undeclared interface', () => file('undeclared.pcapng', Buffer.concat([le.shb(), le.idb(1), le.epb(3, ethFrame(1, 60))])), /refers to interface 3, which the section does not declare/],
    ['a pcapng with only inbound frames', () => file('inbound.pcapng', Buffer.concat([le.shb(), le.idb(1, 'rpmsg2'), le.epb(0, ethFrame(1, 60), { flags: 1 })])), /no frames to send on interface 0 \(rpmsg2\) \(1 received from the other side\)/],
    ['a pcapng without interfaces', () => file('bare.pcapng', le.shb()), /declares no interface and holds no frames/],
  ];
  it.each(bad)('%s', async (_what, make, why) => {
    const path = make();
    const attempt = planReplay(path);
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toMatchObject({ exitCode: 1 });
    const message = await attempt.catch((e: Error) => e.message);
    expect(message).toMatch(new RegExp(`^replay: ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
    expect(message).not.toContain('\n');
    expect(message).toMatch(why);
  });
});

describe('fuzz', () => {
  it('2000 corrupted pcap and pcapng files: a plan or one UserError line, nothing else', async () => {
    const le = ng();
    const be = ng(true);
    const seeds = [
      pcap(records),
      pcap(records, { bigEndian: true, nano: true }),
      Buffer.concat([le.shb(), le.idb(1, 'rpmsg1'), le.idb(1, 'rpmsg2'), le.epb(0, ethFrame(1, 60), { flags: 2 }), le.epb(1, ethFrame(2, 90)), le.isb(0)]),
      Buffer.concat([be.shb(), be.idb(1, 'x'), be.spb(ethFrame(3, 64)), be.pb(0, ethFrame(4, 70)), le.shb(), le.idb(1, 'y'), le.epb(0, ethFrame(5, 80))]),
    ];
    const rnd = prng(0x5eed0016);
    const pick = (n: number) => Math.floor(rnd() * n);
    const path = join(dir, 'fuzz.bin');
    const counts = { ok: 0, error: 0 };
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(seeds[pick(seeds.length)]!);
      let out: Buffer = b;
      for (let e = 1 + pick(3); e > 0; e--) {
        const at = pick(out.length);
        const what = pick(4);
        if (what === 0) out = out.subarray(0, at);
        else if (what === 1) out[at] = out[at]! ^ (1 << pick(8));
        else if (what === 2 && at + 4 <= out.length) out.writeUInt32LE([0, 1, 7, 0xffffffff, 0x7ffffffc, out.length][pick(6)]!, at & ~3);
        else out = Buffer.concat([out.subarray(0, at), out.subarray(pick(out.length))]);
      }
      writeFileSync(path, out);
      try {
        const plan = await planReplay(path, rnd() < 0.3 ? String(pick(3)) : undefined);
        for await (const f of replayFrames(path, plan)) expect(f.length).toBeLessThanOrEqual(65535);
        counts.ok++;
      } catch (err) {
        if (!(err instanceof UserError) || (err as Error).message.includes('\n')) throw new Error(`case ${i}: ${(err as Error).stack}`);
        counts.error++;
      }
    }
    expect(counts.error).toBeGreaterThan(500);
    expect(counts.ok).toBeGreaterThan(50);
  }, 120_000);
});

describe('bounded memory', () => {
  it('a 128 MB pcap and a 128 MB pcapng are planned and read frame by frame, without holding them', async () => {
    const frame = ethFrame(7, 8000);
    const count = 16_000; // 128 MB of frames in each file
    const gh = pcap([]);
    const rec = pcap([{ data: frame }]).subarray(24);
    const le = ng();
    const epb = le.epb(0, frame);
    const pcapPath = join(dir, 'big.pcap');
    const ngPath = join(dir, 'big.pcapng');
    writeFileSync(pcapPath, Buffer.concat([gh, ...Array<Buffer>(count).fill(rec)]));
    writeFileSync(ngPath, Buffer.concat([le.shb(), le.idb(1, 'rpmsg0'), ...Array<Buffer>(count).fill(epb)]));
    for (const path of [pcapPath, ngPath]) {
      global.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const plan = await planReplay(path);
      expect(plan.frames).toBe(count);
      let n = 0;
      for await (const f of replayFrames(path, plan)) {
        expect(f.length).toBe(8000);
        if (++n % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
      expect(n).toBe(count);
      // Garbage not yet collected aside, far below the 128 MB of frames.
      expect(peak - base).toBeLessThan(64 * 1024 * 1024);
    }
  }, 120_000);
});
