// A capture session: channels to interfaces, --count and --duration, stop, and a failing output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureSession, type CaptureChannel } from '../../../src/capture/capture-session.js';
import { PcapngWriter } from '../../../src/capture/pcapng-writer.js';
import { tool } from '../../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rpmsg-eth-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHANNELS: CaptureChannel[] = [
  { channel: 0, ifname: 'rpmsg0', name: 'fsproxy' },
  { channel: 5, ifname: 'rpmsg5', name: 'console' },
];
const frame = (tag: number): Buffer => Buffer.alloc(60, tag);

function fields(path: string): string[] {
  return execFileSync(
    tool('tshark'),
    ['-r', path, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction', '-e', 'frame.comment'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  )
    .trim()
    .split('\n');
}

describe('CaptureSession', () => {
  it('ends after --count frames, ignoring channels not captured', async () => {
    const path = join(dir, 'count.pcapng');
    const s = new CaptureSession(await PcapngWriter.toFile(path), CHANNELS, { count: 3 });
    expect(s.wants(0)).toBe(true);
    expect(s.wants(7)).toBe(false);
    s.frame(0, 'rx', frame(1));
    s.frame(7, 'rx', frame(2)); // not captured
    s.frame(5, 'tx', frame(3), { dropReason: 'busy' });
    expect(s.active).toBe(true);
    s.frame(5, 'rx', frame(4));
    expect(s.active).toBe(false);
    expect(s.wants(0)).toBe(false);
    s.frame(0, 'rx', frame(5)); // after the end
    expect(await s.done).toEqual({ frames: 3, lost: 0, ended: 'count' });
    expect(fields(path)).toEqual(['rpmsg0|0x00000001|', 'rpmsg5|0x00000002|dropped: busy', 'rpmsg5|0x00000001|']);
  });

  it('ends after --duration, with the channels as interfaces even without traffic', async () => {
    const path = join(dir, 'duration.pcapng');
    const t0 = Date.now();
    const s = new CaptureSession(await PcapngWriter.toFile(path), CHANNELS, { durationMs: 200 });
    s.addChannel({ channel: 9, ifname: 'rpmsg9', name: 'added-by-reload' });
    s.frame(9, 'tx', frame(1));
    const r = await s.done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r).toEqual({ frames: 1, lost: 0, ended: 'duration' });
    expect(execFileSync(tool('capinfos'), ['-I', path], { encoding: 'utf8' })).toMatch(/Number of interfaces in file: 3/);
    expect(fields(path)).toEqual(['rpmsg9|0x00000002|']);
  });

  it('stop() ends it once, and done reports the same result', async () => {
    const s = new CaptureSession(new PcapngWriter(new PassThrough().resume()), CHANNELS, { durationMs: 60_000 });
    s.frame(0, 'tx', frame(1));
    const [a, b] = await Promise.all([s.stop(), s.stop()]);
    expect(a).toEqual({ frames: 1, lost: 0, ended: 'stopped' });
    expect(b).toBe(a);
    expect(await s.done).toBe(a);
  });

  it('reports an output failure in the result instead of throwing', async () => {
    const out = new PassThrough();
    const s = new CaptureSession(new PcapngWriter(out), CHANNELS);
    out.destroy(new Error('no space left on device'));
    await new Promise((r) => setImmediate(r));
    s.frame(0, 'rx', frame(1));
    const r = await s.stop();
    expect(r.ended).toBe('error');
    expect(r.error).toMatch(/no space left on device/);
    expect(r.lost).toBe(1);
  });

  it('rejects a non-positive count or duration', () => {
    const w = new PcapngWriter(new PassThrough());
    expect(() => new CaptureSession(w, CHANNELS, { count: 0 })).toThrow(/count must be a positive number/);
    expect(() => new CaptureSession(w, CHANNELS, { durationMs: -1 })).toThrow(/duration must be a positive number/);
  });
});
