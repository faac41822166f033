// The kmod and rpmsg-char transports feeding the native data plane, over a SOCK_SEQPACKET pair
// standing in for the device: frames both ways exact and in batches, drops by reason and direction,
// back-pressure (POLLOUT for kmod, a backing-off timer for rpmsg-char), the device going away and
// coming back, and release on close. Both transports share device-link.ts, so every case runs on both.
import { afterEach, describe, expect, it } from 'vitest';
import { KmodTransport } from '../../../src/transport/kmod.js';
import { RpmsgCharTransport } from '../../../src/transport/rpmsg-char.js';
import type { Transport } from '../../../src/transport/transport.js';
import { UserError } from '../../../src/util/errors.js';
import { PlaneRig, drain, frame, put, until } from '../../helpers/plane-rig.js';
import { StandInDevice, silentLog, testPlan } from '../transport/stand-in.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Make = (device: StandInDevice) => Transport;
const transports: [string, Make][] = [
  ['kmod', (device) => new KmodTransport({ log: silentLog, reopenMs: 20, device: () => device })],
  ['rpmsg-char', (device) => new RpmsgCharTransport({ log: silentLog, reopenMs: 20, retryMinMs: 2, retryMaxMs: 20, device: () => device })],
];

async function open(make: Make, device = new StandInDevice(), tapSlot = 496) {
  const rig = new PlaneRig({ tapSlot });
  const transport = make(device);
  const link = await transport.open(testPlan(), rig);
  cleanups.push(() => rig.close());
  cleanups.push(() => device.closeAll());
  cleanups.push(() => transport.close());
  return { rig, link, device, transport };
}

describe.each(transports)('%s transport into the data plane', (_name, make) => {
  it('is up with the device maximum payload and moves frames both ways, exact', async () => {
    const { rig, link, device } = await open(make, new StandInDevice(300));
    expect(link.up).toBe(true);
    expect(link.maxPayload).toBe(300);
    const out = Array.from({ length: 40 }, (_, i) => frame(14 + i * 7, i));
    expect(put(rig.tap, out)).toBe(40);
    const got: Buffer[] = [];
    await until('40 frames at the remote', () => (got.push(...drain(device.remote)), got.length >= 40));
    expect(got).toEqual(out);
    const back = Array.from({ length: 30 }, (_, i) => frame(60 + i * 8, 100 + i));
    expect(put(device.remote, back)).toBe(30);
    const delivered: Buffer[] = [];
    await until('30 frames on the TAP', () => (delivered.push(...drain(rig.tap)), delivered.length >= 30));
    expect(delivered).toEqual(back);
    const c = rig.counters();
    expect([c.txPackets, c.txBytes, c.rxPackets, c.rxBytes]).toEqual([40, out.reduce((n, f) => n + f.length, 0), 30, back.reduce((n, f) => n + f.length, 0)]);
  });

  it('drops and counts oversize frames both ways and runts on arrival, and captures them with the reason', async () => {
    const { rig, device } = await open(make, new StandInDevice(200), 300);
    rig.capture(true);
    put(rig.tap, [frame(100, 1), frame(250, 2), frame(120, 3), frame(400, 4)]);
    const got: Buffer[] = [];
    await until('2 frames at the remote', () => (got.push(...drain(device.remote)), got.length >= 2));
    expect(got).toEqual([frame(100, 1), frame(120, 3)]);
    put(device.remote, [frame(60, 5), frame(201, 6), Buffer.alloc(10), frame(70, 7)]);
    const delivered: Buffer[] = [];
    await until('2 frames on the TAP', () => (delivered.push(...drain(rig.tap)), delivered.length >= 2));
    expect(delivered).toEqual([frame(60, 5), frame(70, 7)]);
    const c = rig.counters();
    expect([c.txOversize, c.rxOversize, c.rxRunt, c.txPackets, c.rxPackets]).toEqual([2, 1, 1, 2, 2]);
    await until('8 capture records', () => rig.captured.length >= 8); // they come back batched per wakeup
    const drops = rig.captured.filter((r) => r.reason);
    expect(drops.map((d) => [d.direction, d.reason, d.originalLength])).toEqual([
      ['tx', 'oversize', 250],
      ['tx', 'oversize', 400],
      ['rx', 'oversize', 201],
      ['rx', 'runt', 10],
    ]);
    // The bytes of a dropped frame are what fits its slot, from its start.
    expect(drops[0]!.data).toEqual(frame(250, 2));
    expect(drops[1]!.data).toEqual(frame(400, 4).subarray(0, 300));
    expect(rig.captured.filter((r) => !r.reason).map((r) => r.direction)).toEqual(['tx', 'tx', 'rx', 'rx']);
  });

  it('holds frames in the TAP while the device is full and delivers every one, in order, once it drains', async () => {
    const { rig, device } = await open(make);
    // More than the socket holds: the device pushes back with EAGAIN.
    const out = Array.from({ length: 3000 }, (_, i) => {
      const f = frame(400, i);
      f.writeUInt32BE(i, 14);
      return f;
    });
    let offered = 0;
    const got: Buffer[] = [];
    await new Promise((r) => setTimeout(r, 10));
    offered += put(rig.tap, out.slice(0, 1500));
    await new Promise((r) => setTimeout(r, 100));
    const taken = rig.counters().txPackets;
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(1500); // the device is full, the rest waits in the TAP
    expect(rig.counters().txBusy).toBe(0);
    await until('all frames through', () => {
      got.push(...drain(device.remote));
      if (offered < out.length) offered += put(rig.tap, out.slice(offered));
      return got.length >= out.length;
    }, 10_000);
    expect(got.map((f) => f.readUInt32BE(14))).toEqual(out.map((_, i) => i));
    const c = rig.counters();
    expect(c.txPackets).toBe(3000);
    expect(c.txOversize! + c.txBusy! + c.txLinkDown!).toBe(0);
  });

  it('hangup: link down, frames read meanwhile dropped as linkDown; device back: reopened, frames flow', async () => {
    const { rig, link, device } = await open(make);
    device.hangUp();
    await until('link down', () => !rig.linkUp);
    expect(link.up).toBe(false);
    expect(rig.losses).toHaveLength(1);
    put(rig.tap, [frame(100, 1), frame(101, 2)]);
    await until('2 linkDown drops', () => rig.counters().txLinkDown === 2);
    await until('reopened', () => rig.linkUp && device.opens === 2);
    expect(link.up).toBe(true);
    put(rig.tap, [frame(102, 3)]);
    const got: Buffer[] = [];
    await until('a frame after the reopen', () => (got.push(...drain(device.remote)), got.length >= 1));
    expect(got).toEqual([frame(102, 3)]);
  });

  it('starts link-down when the device is not there yet, with the plan payload, and comes up when it appears', async () => {
    const device = new StandInDevice(300);
    device.present = false;
    const { rig, link } = await open(make, device);
    expect(link.up).toBe(false);
    expect(link.maxPayload).toBe(496);
    device.present = true;
    await until('link up', () => link.up && rig.linkUp);
    expect(link.maxPayload).toBe(300);
  });

  it('an error opening the device at start reaches the caller; later it is retried', async () => {
    const device = new StandInDevice();
    const failing = { label: device.label, open: () => { throw new UserError('no permission to open /dev/stand-in'); } };
    const rig = new PlaneRig();
    cleanups.push(() => rig.close());
    const t = make(failing as unknown as StandInDevice);
    await expect(t.open(testPlan(), rig)).rejects.toThrow(/no permission/);
  });

  it('close() releases the device with its open fd, closes it and stops reopening', async () => {
    const { rig, link, device, transport } = await open(make);
    const fd = rig.plane.endpointFd;
    expect(fd).toBeGreaterThanOrEqual(0);
    await transport.close();
    expect(device.released).toEqual([fd]);
    expect(link.up).toBe(false);
    expect(rig.plane.endpointFd).toBe(-1);
    await new Promise((r) => setTimeout(r, 60));
    expect(device.opens).toBe(1);
  });
});
